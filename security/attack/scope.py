"""Scope attacks: another district's or organisation's objects by id (IDOR), and path traversal
in every export."""

import re
from urllib.parse import parse_qsl, quote, urlencode, urlsplit

from .crawl import shape
from .tally import Tally

TRAVERSAL = ["../../../../etc/passwd", "..%2F..%2F..%2F..%2Fetc%2Fpasswd", "....//....//....//etc/passwd",
             "%2e%2e%2f%2e%2e%2f%2e%2e%2fcvi_portal%2fsettings.py", "..\\..\\..\\cvi_portal\\settings.py",
             "/etc/passwd", "csv%00.txt", "../../../../proc/self/environ"]
LEAK = re.compile(r"root:x?:0:0|SECRET_KEY|DATABASE_URL|REDIS_URL|^import |^from \S+ import ", re.M)

OUTREACH = {"outreach_worker": "a", "outreach_supervisor": "a", "outreach_worker_b": "b", "outreach_supervisor_b": "b"}
CPD = {"cpd_staff": "007", "cpd_commander": "007", "cpd_staff_015": "015"}


def _org_of(ctx, role: str) -> str | None:
    key = OUTREACH.get(role)
    return ctx.world["organizations"][key]["name"] if key else None


def _foreign_incidents(ctx, role: str) -> list[dict]:
    if role in CPD:
        return [i for i in ctx.world["incidents"] if i["district"] != CPD[role]]
    if role in OUTREACH:
        routed = {n["incident"] for n in ctx.world["notifications"] if n["organization"] == _org_of(ctx, role)}
        return [i for i in ctx.world["incidents"] if i["code"] not in routed]
    return []  # analysts and administrators read every incident as a notification carries it


def _landed(answer, code: str) -> bool:
    """The request did what it asked: a page or data (2xx), or a redirect to the object itself."""
    return 200 <= answer.status < 300 or (answer.status in (301, 302, 303) and code in answer.location)


def idor(ctx) -> Tally:
    """Each role fetches and posts to the objects of another district or organisation by their
    codes, reads lists for other scopes' objects, and every role's pages are searched for the
    organisation-only canary notes of an organisation it is not in. Succeeded: the object (or
    its canary) came back, or the write was carried out."""
    tally = Tally("idor")
    world = ctx.world
    for role, client in ctx.browsers.items():
        api = ctx.api(role)
        for incident in _foreign_incidents(ctx, role):
            code = incident["code"]
            for path in (f"/incidents/{code}/", f"/incidents/{code}/live/", f"/incidents/{code}/correct/"):
                answer = client.get(path)
                tally.attempt(answer, success=answer.status == 200 and incident["rd_number"] in answer.text,
                              what=f"{role} GET {path} (district {incident['district']}, {answer.status})")
            answer = client.post_form(f"/incidents/{code}/correct/", {"note": "idor"})
            tally.attempt(answer, success=_landed(answer, code),
                          what=f"{role} POST /incidents/{code}/correct/ ({answer.status})")
            answer = api.get(f"/api/v1/incidents/{code}/")
            tally.attempt(answer, success=answer.status == 200,
                          what=f"{role} API GET incident {code} ({answer.status})")
            answer = api.send_json("PATCH", f"/api/v1/incidents/{code}/", {"note": "idor"})
            tally.attempt(answer, success=200 <= answer.status < 300,
                          what=f"{role} API PATCH incident {code} ({answer.status})")
            answer = api.get(f"/api/v1/incidents/?district={incident['district']}")
            tally.attempt(answer, success=code in answer.text,
                          what=f"{role} API list incidents district={incident['district']} ({answer.status})")
        _organisation_objects(ctx, tally, role, client, api)
        _reviews(ctx, tally, role, client)
    for role, site in ctx.sites.items():
        mine = _org_of(ctx, role)
        for response in world["responses"]:
            if response["organization"] == mine:
                continue
            leaked = [path for path, body in site.bodies.items() if response["canary"] in body]
            tally.attempt(None, success=bool(leaked),
                          what=f"{role} read {response['organization']}'s note on {', '.join(leaked[:3])}")
    return tally


def _organisation_objects(ctx, tally: Tally, role: str, client, api) -> None:
    world, mine = ctx.world, _org_of(ctx, role)
    for n in [n for n in world["notifications"] if n["organization"] != mine]:
        code = n["code"]
        for path in (f"/n/{code}/", f"/n/{code}/respond/"):
            answer = client.get(path)
            tally.attempt(answer, success=answer.status == 200,
                          what=f"{role} GET {path} ({n['organization']}, {answer.status})")
        for path, data in ((f"/n/{code}/status/", {"status": "en_route"}),
                           (f"/n/{code}/respond/", {"response_types": "scene", "notes": "idor"}),
                           (f"/n/{code}/correct/", {"status": "unable", "reason": "other"}),
                           (f"/n/{code}/assign/", {"assignee": "1"})):
            answer = client.post_form(path, data)
            tally.attempt(answer, success=_landed(answer, code), what=f"{role} POST {path} ({answer.status})")
        for path, body in ((f"/api/v1/notifications/{code}/acknowledge/", {}),
                           (f"/api/v1/notifications/{code}/status/", {"status": "en_route"})):
            answer = api.send_json("POST", path, body)
            tally.attempt(answer, success=200 <= answer.status < 300, what=f"{role} API POST {path} ({answer.status})")
        answer = client.send_json("POST", "/outreach/sync/", {"type": "status", "notification": code,
                                                              "fields": {"status": "en_route"}})
        tally.attempt(answer, success=200 <= answer.status < 300,
                      what=f"{role} POST /outreach/sync/ for {n['organization']}'s {code} ({answer.status})")
    for org in world["organizations"].values():
        if org["name"] == mine:
            continue
        for method, path in (("GET", f"/api/v1/organizations/{org['code']}/deliveries/"),
                             ("POST", f"/api/v1/organizations/{org['code']}/webhook-test/")):
            answer = api.get(path) if method == "GET" else api.send_json("POST", path, {})
            tally.attempt(answer, success=200 <= answer.status < 300,
                          what=f"{role} API {method} {path} ({answer.status})")
    for channel in [c for c in world["channels"] if c["organization"] != mine]:
        path = f"/team/channels/{channel['code']}/"
        answer = client.post_form(path, {"active": ""})
        tally.attempt(answer, success=_landed(answer, channel["code"]) or answer.status in (302, 303) and
                      "/team/channels/" in answer.location, what=f"{role} POST {path} ({answer.status})")
    answer = api.get("/api/v1/notifications/")
    foreign = [n["code"] for n in world["notifications"] if n["organization"] != mine]
    tally.attempt(answer, success=any(code in answer.text for code in foreign),
                  what=f"{role} API list notifications shows another organisation's ({answer.status})")
    answer = api.get("/api/v1/responses/")
    tally.attempt(answer, success=any(r["canary"] in answer.text for r in world["responses"]
                                      if r["organization"] != mine),
                  what=f"{role} API list responses shows another organisation's note ({answer.status})")


def _reviews(ctx, tally: Tally, role: str, client) -> None:
    if role not in CPD and role not in OUTREACH:
        return  # analysts run every district's review; administrators are tested by the access matrix
    for review in ctx.world["reviews"]:
        if CPD.get(role) == review["district"]:
            continue
        code = review["code"]
        answer = client.get(f"/reviews/{code}/")
        tally.attempt(answer, success=answer.status == 200,
                      what=f"{role} GET /reviews/{code}/ (district {review['district']}, {answer.status})")
        for path, data in ((f"/reviews/{code}/themes/", {"tag": "other", "note": "idor"}),
                           (f"/reviews/{code}/items/", {"text": "idor"}),
                           (f"/reviews/{code}/details/", {"notes": "idor", "status": "draft"})):
            answer = client.post_form(path, data)
            tally.attempt(answer, success=_landed(answer, code), what=f"{role} POST {path} ({answer.status})")


def _mutations(link: str) -> list[str]:
    parts = urlsplit(link)
    found = []
    for i, (name, _) in enumerate(pairs := parse_qsl(parts.query, keep_blank_values=True)):
        for bad in TRAVERSAL:
            changed = [*pairs[:i], (name, bad), *pairs[i + 1:]]
            found.append(f"{parts.path}?{urlencode(changed, safe='%/.')}")
    head, _, last = parts.path.rstrip("/").rpartition("/")
    for bad in TRAVERSAL:
        found.append(f"{head}/{bad}{'/' if parts.path.endswith('/') else ''}")
    return found


def traversal(ctx) -> Tally:
    """Every export link each role sees (CSV, XLSX, PDF), each parameter and the last path segment
    replaced with traversal strings; the month of the report pages; static files. Succeeded: a
    system or source file in the answer, or a download name that climbs out of its folder."""
    tally = Tally("path_traversal")
    month = "2026-01"
    for role, site in ctx.sites.items():
        if role not in ctx.browsers:
            continue
        client = ctx.browser(role)
        links = {shape(link): link for link in sorted(site.exports)}  # one link of each kind
        links |= {"report": f"/reports/{month}/report.pdf", "page": f"/reports/{month}/"}
        for link in sorted(links.values()):
            for path in _mutations(link):
                answer = client.get(path)
                disposition = answer.headers.get("content-disposition", "")
                name = disposition.partition("filename=")[2]
                climbed = any(mark in name for mark in ("..", "/", "\\"))
                tally.attempt(answer, success=bool(LEAK.search(answer.text)) or climbed,
                              what=f"{role} GET {path} ({answer.status}{', ' + disposition if climbed else ''})")
    anon = ctx.anonymous()
    for bad in TRAVERSAL:
        for path in (f"/static/{bad}", f"/static/{quote(bad, safe='')}", f"/reports/versions/{bad}.pdf"):
            answer = anon.get(path)
            tally.attempt(answer, success=bool(LEAK.search(answer.text)),
                          what=f"anonymous GET {path} ({answer.status})")
    return tally
