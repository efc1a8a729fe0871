"""Conditional GET for the polled fragments (the board, the incident page): a strong ETag built
from exactly what a fragment shows, and the 304 that answers a poll when nothing changed.

The fingerprint is computed from a few indexed reads, never from the rendered HTML, so an
unchanged poll costs those reads and no template. The caller puts everything the fragment
depends on into the parts: the rows it shows, the viewer's scope and language, and
`templates_token` of the templates it renders (a deploy that changes them changes the tag).
"""

import hashlib
from functools import lru_cache

from django.http import HttpRequest, HttpResponse
from django.template.loader import get_template
from django.utils.cache import get_conditional_response


def fingerprint(*parts) -> str:
    """A strong ETag (quoted) for these parts. `repr` of tuples, datetimes, UUIDs and strings
    is the same in every process, so every web worker computes the same tag for the same data."""
    return '"' + hashlib.sha256(repr(parts).encode()).hexdigest()[:40] + '"'


@lru_cache(maxsize=16)
def templates_token(*names: str) -> str:
    """A digest of these templates' source, read once per process."""
    sources = "\0".join(get_template(name).template.source for name in names)
    return hashlib.sha256(sources.encode()).hexdigest()[:16]


def not_modified(request: HttpRequest, etag: str) -> HttpResponse | None:
    """The 304 (with its ETag and no body) when the request's If-None-Match names `etag`,
    else None: the caller renders and sets the same ETag on its 200."""
    response = get_conditional_response(request, etag=etag)
    if response is not None:
        response["ETag"] = etag
    return response
