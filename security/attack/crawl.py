"""What each role can reach: crawl from the home page, following same-site links, and keep every
page and every form, so a form added tomorrow is attacked tomorrow without touching this script.

Links are grouped by shape (ids and numbers replaced, query parameter names sorted) and at most
a few of each shape are opened, so a table of a thousand incidents costs three requests.
"""

import re
from collections import defaultdict, deque
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlsplit

from .client import Client, Form, parse

UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
# Never opened by the crawler: they end the session, switch the language, or are attacked apart.
SKIP = re.compile(r"logout|/static/|/i18n/|/a/|password|/delete/|reauthenticate|/api/docs|/sw\.js|"
                  r"\.(pdf|csv|xlsx)(\?|$)|_export=|/2fa/|/mfa/")
# Forms the write attacks never post: they end the session, change who can sign in, or switch the
# language for the rest of the run. (Sign-in is attacked by auth.py.)
SKIP_FORMS = re.compile(r"logout|/i18n/|password|/delete/|/accounts/|/2fa/|/mfa/|reauthenticate|"
                        r"/admin/auth/user/\d+/change/")
PER_SHAPE = 2
# Query parameters that pages' scripts send rather than links or forms: attacked like the rest.
SCRIPT_PARAMS = {"/incidents/locate/": {"lat", "lon", "district", "beat", "community_area"}}


def shape(url: str) -> str:
    parts = urlsplit(url)
    path = re.sub(r"/\d{4}-\d{2}(?=/|$)", "/<month>", UUID.sub("<uuid>", parts.path))
    path = re.sub(r"/\d+(?=/|$)", "/<n>", path)
    params = ",".join(sorted({k for k, _ in parse_qsl(parts.query, keep_blank_values=True)}))
    return f"{path}?{params}"


@dataclass
class Site:
    """What one role sees: pages opened (path → status), forms, query parameters per path,
    export links."""

    role: str
    pages: dict = field(default_factory=dict)
    forms: list = field(default_factory=list)
    params: dict = field(default_factory=lambda: defaultdict(set))
    exports: set = field(default_factory=set)
    bodies: dict = field(default_factory=dict)

    def post_forms(self) -> list[Form]:
        """Forms to write through; not the admin's bulk actions (delete selected) on a list."""
        return [f for f in self.forms if f.method == "post" and not SKIP_FORMS.search(urlsplit(f.action).path)
                and not any(x.name == "_selected_action" for x in f.fields)]

    def get_forms(self) -> list[Form]:
        return [f for f in self.forms if f.method == "get" and not SKIP.search(f.action)]


def crawl(client: Client, role: str, *, limit: int = 100, start: str = "/", keep_bodies: bool = True) -> Site:
    site = Site(role)
    queue, seen_shapes, seen_forms = deque([start]), defaultdict(int), set()
    queued = {start}
    while queue and len(site.pages) < limit:
        path = queue.popleft()
        answer = client.get(path)
        site.pages[path] = answer.status
        if answer.status in (301, 302) and answer.location.startswith("/") and answer.location not in queued:
            queued.add(answer.location)
            queue.append(answer.location)
        if answer.status != 200 or "html" not in answer.headers.get("content-type", ""):
            continue
        if keep_bodies:
            site.bodies[path] = answer.text
        parsed = parse(client.base + path, answer.text)
        for form in parsed.forms:
            key = (shape(form.action), form.method, tuple(sorted(f.name for f in form.fields)))
            if key not in seen_forms:
                seen_forms.add(key)
                site.forms.append(form)
        for link in parsed.links:
            parts = urlsplit(link)
            if parts.hostname != client.host or parts.port != client.port:
                continue
            local = parts.path + (f"?{parts.query}" if parts.query else "")
            for name, _ in parse_qsl(parts.query, keep_blank_values=True):
                site.params[parts.path].add(name)
            if "_export=" in local or parts.path.endswith((".pdf", ".csv", ".xlsx")):
                site.exports.add(local)
            if SKIP.search(local) or local in queued:
                continue
            key = shape(local)
            if seen_shapes[key] >= PER_SHAPE:
                continue
            seen_shapes[key] += 1
            queued.add(local)
            queue.append(local)
    if any(path.startswith("/incidents/new/") for path in site.pages):
        for path, names in SCRIPT_PARAMS.items():
            site.params[path] |= names
    for form in site.get_forms():
        site.params[urlsplit(form.action).path].update(f.name for f in form.fields if f.kind != "submit")
    return site
