"""Conditional GET for the polled fragments (the board, the incident page): a strong ETag built
from exactly what a fragment shows, and the 304 that answers a poll when nothing changed.

The fingerprint is computed from a few indexed reads, never from the rendered HTML, so an
unchanged poll costs those reads and no template. The caller puts everything the fragment
depends on into the parts: the rows it shows, the viewer's scope and language, and
`templates_token` of the templates it renders (a deploy that changes them changes the tag).

Because the tag names everything the fragment shows, the fragment's HTML is a function of the
tag: `rendered_for` keeps it in the cache under the tag, so when a row changes the first poll
renders and every other viewer with the same scope and language (all the desks of a district)
gets the same HTML without loading models or running a template.
"""

import hashlib
import logging
from collections.abc import Callable
from functools import lru_cache

from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.template.loader import get_template
from django.utils.cache import get_conditional_response

logger = logging.getLogger(__name__)


def fingerprint(*parts) -> str:
    """A strong ETag (quoted) for these parts. `repr` of tuples, datetimes, UUIDs and strings
    is the same in every process, so every web worker computes the same tag for the same data."""
    return '"' + hashlib.sha256(repr(parts).encode()).hexdigest()[:40] + '"'


@lru_cache(maxsize=16)
def templates_token(*names: str) -> str:
    """A digest of these templates' source, read once per process."""
    sources = "\0".join(get_template(name).template.source for name in names)
    return hashlib.sha256(sources.encode()).hexdigest()[:16]


# How long a rendered fragment is kept: a few polls' worth. Its tag changes when what it shows
# does, so this bounds memory, not staleness.
RENDERED_SECONDS = 60


def rendered_for(etag: str, render: Callable[[], str]) -> str:
    """The fragment's HTML for `etag`; `render` runs only when no process has kept it. The
    caller sends the same tag with the 200. The cache failing (Redis down) costs the render,
    never the page."""
    key = "fragment:" + etag.strip('"')
    try:
        html = cache.get(key)
    except Exception:  # the cache client raises several types for "unreachable"
        logger.warning("fragment cache unavailable; rendering", exc_info=True)
        return render()
    if html is None:
        html = render()
        try:
            cache.set(key, html, timeout=RENDERED_SECONDS)
        except Exception:
            logger.warning("fragment cache unavailable; not kept", exc_info=True)
    return html


def not_modified(request: HttpRequest, etag: str) -> HttpResponse | None:
    """The 304 (with its ETag and no body) when the request's If-None-Match names `etag`,
    else None: the caller renders and sets the same ETag on its 200."""
    response = get_conditional_response(request, etag=etag)
    if response is not None:
        response["ETag"] = etag
    return response
