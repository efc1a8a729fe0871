"""Injection attacks: stored script in every text field, SQL in every filter, malformed input
in every form, path id, query parameter and API field."""

import json
import random
import re
import uuid
from datetime import datetime, timedelta
from urllib.parse import quote, urlsplit

from . import schema
from .crawl import UUID, crawl, shape
from .tally import Tally

SQL = ["' OR '1'='1", "1' OR 1=1--", "1; DROP TABLE notifications_incident;--", "1 UNION SELECT NULL,NULL--",
       "%' OR '%'='"]
SQL_ERRORS = re.compile(r"syntax error at or near|unterminated quoted string|psycopg|ProgrammingError|"
                        r"DataError|OperationalError|invalid input syntax for|sqlite3\.|Traceback", re.I)
# Values no field may accept: a NUL, an unpaired surrogate (sent as the bytes UTF-8 would give
# it), and for the server's sake a Unicode digit and a string far beyond any field.
BAD_TEXT = {"nul": "a\x00b", "surrogate": "a\ud800b", "superscript_two": "²", "huge": "A" * 100_000}
# Field kinds where an accepted NUL or surrogate would be stored as typed.
schema_text_kinds = {"text", "textarea", "search", "email", "url", "tel", "", "number", "date", "datetime-local"}
# Fields per form: the admin's forms (over a hundred, dozens of fields each) share Django's form code.
MAX_FIELDS, MAX_ADMIN_FIELDS = 12, 3
BAD_IDS = ["not-a-uuid", "1'", "%00", "%C2%B2", "9" * 30, "%ED%A0%80", "..%2F..%2F"]


def caller_for(template: str) -> str:
    if "/incidents/" in template:
        return "cpd_staff"
    if "/reviews/" in template:
        return "analyst"
    if "/auth/token/" in template:
        return "anonymous"
    return "outreach_supervisor"


def _api_client(ctx, role: str):
    return ctx.anonymous() if role == "anonymous" else ctx.api(role)


def _plausible(name: str, kind: str) -> str:
    """A value a real user would type, by the field's name and type."""
    now = datetime.now()
    name = name.lower()
    if kind == "email" or "email" in name:
        return f"attack{random.randint(1000, 9999)}@example.org"
    if kind == "url" or "url" in name:
        return "https://example.org/hook"
    if kind == "number" or name in ("latitude", "longitude", "count", "minutes"):
        return {"latitude": "41.7796", "longitude": "-87.6446"}.get(name, "1")
    if kind == "date" or name.endswith(("_on", "date")):
        return (now + timedelta(days=1)).strftime("%Y-%m-%d")
    if kind in ("datetime-local", "datetime") or name.endswith("_at"):
        return (now - timedelta(minutes=15)).strftime("%Y-%m-%dT%H:%M")
    if kind == "time":
        return "12:00"
    if "rd" in name.split("_"):
        return f"JA{random.randint(100000, 999999)}"
    if "block" in name:
        return "6300 S HALSTED ST"
    if kind == "tel" or "phone" in name or name == "target":
        return "+13125550123"
    return "attack run"


def filled(form) -> dict:
    """The form as a user would submit it: every empty field given a plausible value."""
    data = form.values()
    for f in form.fields:
        if f.kind in ("submit", "button", "image", "reset", "file", "checkbox", "radio", "select", "hidden"):
            continue
        if not data.get(f.name):
            data[f.name] = _plausible(f.name, f.kind)
    return data


def _script(marker: str) -> str:
    return f"\"><img src=x onerror=alert('{marker}')><script>alert('{marker}')</script>"


def _unescaped(html: str, marker: str) -> bool:
    """The payload's tags came back as tags. The handler's text alone is no hole: escaped, as
    `&lt;img src=x onerror=alert(…)&gt;` inside a paragraph, it is only text."""
    return f"<script>alert('{marker}')" in html or f"<img src=x onerror=alert('{marker}')" in html


def stored_script(ctx) -> Tally:
    """Every text field of every form each role can post (one field at a time, the rest filled
    as a user would), and the string fields of the API's writes; then every role's pages are
    crawled again. Succeeded: a payload came back unescaped, in the answer or on any page."""
    tally = Tally("stored_script")
    planted: dict[str, str] = {}
    answers: dict[str, str] = {}
    for role, site in ctx.sites.items():
        if role not in ctx.browsers:
            continue
        client = ctx.browser(role)
        for form in site.post_forms():
            for f in form.text_fields():
                marker = f"xss{len(planted):05d}"
                planted[marker] = f"{role} {urlsplit(form.action).path} field {f.name}"
                answer = client.follow(client.post_form(form.action, filled(form) | {f.name: _script(marker)}))
                answers[marker] = answer.text
                tally.attempt(answer, what=f"posting {planted[marker]}")
    for op in schema.operations(ctx.api("admin") if "admin" in ctx.browsers else ctx.anonymous()):
        body = schema.valid_body(op.template, op.method, ctx.world)
        if body is None or not op.strings or "/auth/" in op.template:
            continue
        client = _api_client(ctx, caller_for(op.template))
        for name in op.strings:
            marker = f"xss{len(planted):05d}"
            planted[marker] = f"API {op.method} {op.template} field {name}"
            answer = client.send_json(op.method, schema.fill(op.template, ctx.world), body | {name: _script(marker)})
            answers[marker] = ""  # JSON answers are data, not pages; the pages below show them
            tally.attempt(answer, what=f"posting {planted[marker]}")
    pages = []
    for role, client in ctx.browsers.items():
        pages += crawl(client, role, limit=200).bodies.values()
    shown = 0
    for marker, where in planted.items():
        shown += any(marker in page for page in pages)
        if _unescaped(answers[marker], marker) or any(_unescaped(page, marker) for page in pages):
            tally.succeeded += 1
            tally.fail(f"SUCCEEDED unescaped script from {where}")
    # The proof that the payloads got somewhere: stored, and shown (escaped) on a page.
    tally.notes.append(f"{shown} of {len(planted)} payloads were stored and shown on a page afterwards")
    return tally


def _count(answer):
    data = answer.json()
    return data.get("count") if isinstance(data, dict) else None


def sqli(ctx) -> Tally:
    """SQL strings in every query parameter of every list, table and filter page each role sees,
    and every query parameter of the API. Succeeded: a database error in the answer, or more rows
    for the injected condition than for a value that matches nothing."""
    tally = Tally("sql_injection")
    targets, shapes = {}, set()
    for role, site in ctx.sites.items():
        if role in ctx.browsers:
            for path, names in site.params.items():
                for name in names:
                    # The admin's lists share one ChangeList: each parameter name once for all of them.
                    key = ("/admin/", name) if path.startswith("/admin/") else (shape(path), name)
                    if key not in shapes:
                        shapes.add(key)
                        targets[(path, name)] = role
    for op in schema.operations(ctx.api("admin") if "admin" in ctx.browsers else ctx.anonymous()):
        if op.method == "GET":
            for name in op.query:
                targets.setdefault((schema.fill(op.template, ctx.world), name), caller_for(op.template))
    tally.notes.append(f"{len(targets)} parameters of {len({p for p, _ in targets})} pages and API lists")
    for (path, name), role in sorted(targets.items()):
        client = _api_client(ctx, role) if path.startswith("/api/") else ctx.browser(role)
        baseline = _count(client.get(f"{path}?{name}=zzqqzz9")) if path.startswith("/api/") else None
        for value in SQL:
            answer = client.get(f"{path}?{name}={quote(value)}")
            count = _count(answer)
            leaked = bool(SQL_ERRORS.search(answer.text)) or (
                count is not None and baseline is not None and count > baseline)
            tally.attempt(answer, success=leaked, what=f"{role} GET {path}?{name}={value} ({answer.status})")
    return tally


def _bad_paths(ctx) -> list[tuple[str, str]]:
    """(role, path) for every crawled page with an id in its path, the id replaced."""
    seen, found = set(), []
    for role, site in ctx.sites.items():
        if role not in ctx.browsers:
            continue
        for path in site.pages:
            base = path.split("?")[0]
            for match in [*UUID.finditer(base), *re.finditer(r"(?<=/)\d+(?=/|$)", base)]:
                key = (UUID.sub("<uuid>", base[:match.start()]), base[match.end():])
                if key in seen:
                    continue
                seen.add(key)
                found += [(role, base[:match.start()] + bad + base[match.end():]) for bad in BAD_IDS]
    return found


def malformed(ctx) -> Tally:
    """NUL, unpaired surrogates, `²`, huge strings in every form field; deep nesting, surrogates
    and NUL in every API and JSON field; bad ids in every path; bad values in every query
    parameter. Server errors count, and so does any NUL or surrogate that was accepted."""
    tally = Tally("malformed_input")
    done = set()
    for role, site in ctx.sites.items():
        if role not in ctx.browsers:
            continue
        client = ctx.browser(role)
        for form in site.post_forms():
            key = (urlsplit(form.action).path, tuple(f.name for f in form.fields))
            if key in done:
                continue
            done.add(key)
            fields = [f for f in form.fields if f.kind not in ("submit", "button", "image", "reset")
                      and f.name != "csrfmiddlewaretoken"]
            for f in fields[:MAX_ADMIN_FIELDS if key[0].startswith("/admin/") else MAX_FIELDS]:
                bad = BAD_TEXT if f.kind in schema_text_kinds else {k: BAD_TEXT[k] for k in ("nul", "superscript_two")}
                for label, value in bad.items():
                    # Only server errors count here: a page form redirects with an error message as
                    # often as after saving, and PostgreSQL itself refuses a NUL with a 500.
                    answer = client.post_form(form.action, filled(form) | {f.name: value})
                    tally.attempt(answer, what=f"{role} POST {urlsplit(form.action).path} {f.name}={label}",
                                  group=f"{urlsplit(form.action).path} {f.name}")
    for role, path in _bad_paths(ctx):
        answer = ctx.browser(role).get(path)
        tally.attempt(answer, what=f"{role} GET {path}", group=UUID.sub("<uuid>", path.rsplit("/", 2)[0]))
    shapes = set()
    for role, site in ctx.sites.items():
        if role not in ctx.browsers:
            continue
        for path, names in site.params.items():
            for name in [n for n in names if (shape(path), n) not in shapes]:
                shapes.add((shape(path), name))
                for value in ("%00", "%C2%B2", "%ED%A0%80", "9" * 40, "A" * 10_000):
                    answer = ctx.browser(role).get(f"{path}?{name}={value}")
                    tally.attempt(answer, what=f"{role} GET {path}?{name}={value[:12]}", group=f"{shape(path)} {name}")
    _malformed_json(ctx, tally)
    return tally


def _json_targets(ctx) -> list[tuple[str, str, str, dict]]:
    """(role, method, path, valid body) for every JSON write: the API's and the phone's."""
    targets = [("outreach_worker", "POST", "/outreach/sync/",
                {"type": "status", "notification": schema.fill("/notifications/{code}/", ctx.world).split("/")[2],
                 "fields": {"status": "en_route"}}),
               ("outreach_worker", "POST", "/outreach/push/",
                {"endpoint": "https://fcm.googleapis.com/fcm/send/x", "keys": {"p256dh": "x", "auth": "y"}})]
    for op in schema.operations(ctx.api("admin") if "admin" in ctx.browsers else ctx.anonymous()):
        body = schema.valid_body(op.template, op.method, ctx.world)
        if body is not None and op.method != "GET" and op.has_body:
            targets.append((caller_for(op.template), op.method, schema.fill(op.template, ctx.world), body))
    return targets


def _fresh(body: dict) -> dict:
    """A new idempotency key each time, so a replay of an earlier case is not read as accepted."""
    return body | {"client_key": str(uuid.uuid4())} if "client_key" in body else dict(body)


def _malformed_json(ctx, tally: Tally) -> None:
    for role, method, path, body in _json_targets(ctx):
        if role != "anonymous" and role not in ctx.browsers:
            continue
        client = ctx.anonymous() if role == "anonymous" else (ctx.browser(role) if not path.startswith("/api/")
                                                                else ctx.api(role))
        raw_cases = {"deep_nesting": "[" * 50_000 + "]" * 50_000, "not_json": '{"a": ', "huge": json.dumps(
            _fresh(body) | {"note": "A" * 2_000_000})}
        for name in [k for k, v in body.items() if isinstance(v, str)] or ["field"]:
            for label, value in (("nul", "a\x00b"), ("surrogate", "a\ud800b"), ("superscript_two", "²")):
                raw_cases[f"{name}={label}"] = json.dumps(_fresh(body) | {name: value})
        for label, raw in raw_cases.items():
            answer = client.send_json(method, path, None, raw=raw)
            accepted = label.endswith(("=nul", "=surrogate")) or label == "deep_nesting"
            tally.attempt(answer, success=accepted and 200 <= answer.status < 300,
                          what=f"{role} {method} {path} {label} ({answer.status}, {answer.seconds:.1f}s)",
                          group=f"{method} {UUID.sub('<uuid>', path)} {label.partition('=')[2] or label}")
