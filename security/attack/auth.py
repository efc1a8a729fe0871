"""Sign-in and session attacks: brute force, CSRF, open redirects."""

import random
import re
from urllib.parse import quote, urljoin, urlsplit

from .client import Client, login_form, parse
from .tally import Tally

# More wrong guesses than this, evaluated for one account from one place, is a hole: a throttle
# must refuse them (django-axes' usual limit is 5; DRF's login rate here is 10 a minute).
ALLOWANCE = 10
GUESSES = 30
LOCKED = re.compile(r"locked out|too many|try again (later|in)", re.I)
EVIL = ["//evil.example/", "https://evil.example/", "///evil.example/", "/\\evil.example/", "\\\\evil.example/",
        "https:evil.example", "//evil.example@127.0.0.1/", "http://127.0.0.1.evil.example/", " //evil.example/"]


def _forged_xff() -> dict:
    return {"X-Forwarded-For": f"{random.randint(1, 223)}.{random.randint(0, 255)}.{random.randint(0, 255)}.7"}


def _web_guesses(ctx, tally: Tally, victim: dict, *, forge: bool) -> None:
    client = Client(ctx.base)
    form = login_form(client, ctx.login_path)
    if form is None:
        tally.notes.append(f"no sign-in form at {ctx.login_path}")
        return
    user_field = next(f.name for f in form.fields if f.kind in ("text", "email", "") and f.name != "next")
    pass_field = next(f.name for f in form.fields if f.kind == "password")
    evaluated = 0
    for guess in range(GUESSES):
        last = guess == GUESSES - 1  # the last guess is right: is it still believed?
        password = victim["password"] if last else f"wrong-{guess}-{random.random()}"
        answer = client.post_form(form.action, form.values() | {user_field: victim["username"],
                                                                pass_field: password},
                                  headers=_forged_xff() if forge else None)
        if last:
            believed = answer.status in (301, 302, 303) and "login" not in answer.location
        else:
            # The same form again with the invalid-credentials error: the guess was evaluated.
            believed = answer.status == 200 and any(
                f for f in parse(ctx.base, answer.text).forms if any(x.kind == "password" for x in f.fields)
            ) and not LOCKED.search(answer.text)
        evaluated += believed
        tally.attempt(answer, success=believed and evaluated > ALLOWANCE,
                      what=f"web sign-in guess {guess + 1} for {victim['username']}"
                           f"{' with a forged X-Forwarded-For' if forge else ''} ({answer.status})",
                      group=f"web {forge}")


def _api_guesses(ctx, tally: Tally, victim: dict, *, forge: bool) -> None:
    client = Client(ctx.base)
    evaluated = 0
    for guess in range(GUESSES):
        last = guess == GUESSES - 1
        password = victim["password"] if last else f"wrong-{guess}-{random.random()}"
        answer = client.send_json("POST", "/api/v1/auth/token/", {"username": victim["username"],
                                                                  "password": password},
                                  headers=_forged_xff() if forge else None)
        # 400 "wrong credentials" or 200 with a token means evaluated; 429/403 means throttled.
        believed = answer.status == 200 if last else answer.status in (400, 401)
        evaluated += believed
        tally.attempt(answer, success=believed and evaluated > ALLOWANCE,
                      what=f"API token guess {guess + 1} for {victim['username']}"
                           f"{' with a forged X-Forwarded-For' if forge else ''} ({answer.status})",
                      group=f"api {forge}")


def bruteforce(ctx) -> Tally:
    """Web form and API token endpoint, with and without a forged X-Forwarded-For, one victim
    account each. Succeeded: each guess beyond the allowance that was still evaluated."""
    tally = Tally("login_bruteforce")
    victims = ctx.world["victims"]
    _web_guesses(ctx, tally, victims["web"], forge=False)
    _web_guesses(ctx, tally, victims["web_xff"], forge=True)
    _api_guesses(ctx, tally, victims["api"], forge=False)
    _api_guesses(ctx, tally, victims["api_xff"], forge=True)
    return tally


def csrf(ctx) -> Tally:
    """Every state-changing form each role can reach, posted from another site without the token
    and with a wrong one, plus JSON posts to the session-authenticated endpoints. Succeeded: the
    portal did anything but refuse (403)."""
    tally = Tally("csrf")
    for role, site in ctx.sites.items():
        if role == "anonymous":
            continue
        client = ctx.browser(role)
        for form in site.post_forms():
            for label, token in (("no token", ""), ("wrong token", "x" * 64)):
                answer = client.post_form(form.action, form.values(), csrf=token,
                                          headers={"Origin": "https://evil.example",
                                                   "Referer": "https://evil.example/"})
                tally.attempt(answer, success=answer.status != 403,
                              what=f"{role} POST {urlsplit(form.action).path} {label} ({answer.status})",
                              group=f"{urlsplit(form.action).path} {label}")
    for role, path in (("outreach_worker", "/outreach/sync/"), ("outreach_worker", "/outreach/push/"),
                       ("outreach_worker", "/api/v1/responses/"), ("cpd_staff", "/api/v1/incidents/")):
        if role not in ctx.browsers:
            continue
        answer = ctx.browser(role).request("POST", path, body=b"{}", headers={
            "Content-Type": "application/json", "Origin": "https://evil.example"})
        tally.attempt(answer, success=answer.status != 403,
                      what=f"{role} JSON POST {path} without a token ({answer.status})")
    login = Client(ctx.base)
    answer = login.post_form(ctx.login_path, {"username": "x", "password": "y"}, csrf="")
    tally.attempt(answer, success=answer.status != 403, what=f"sign-in POST without a token ({answer.status})")
    return tally


def _off_site(base: str, page: str, location: str) -> bool:
    if not location:
        return False
    target = urljoin(page, location.strip().replace("\\", "/"))
    return urlsplit(target).hostname not in (urlsplit(base).hostname, None)


def open_redirect(ctx) -> Tally:
    """`next` on sign-in (signed in and while signing in), sign-out, the language switch and every
    form with a `next` field. Succeeded: a Location that leaves the site."""
    tally = Tally("open_redirect")
    user = ctx.world["victims"]["redirect"]  # no second factor: the redirect follows the password
    targets = [(role, name, form) for role, site in ctx.sites.items() if role in ctx.browsers
               for form in site.post_forms()
               for name in [f.name for f in form.fields if f.name in ("next", "redirect_to", "return_to")]]
    for evil in EVIL:
        signed_in = ctx.browser("outreach_worker")
        answer = signed_in.get(f"{ctx.login_path}?next={quote(evil)}")
        tally.attempt(answer, success=_off_site(ctx.base, ctx.base + ctx.login_path, answer.location),
                      what=f"GET {ctx.login_path}?next={evil} signed in → {answer.location!r}")
        fresh = Client(ctx.base)
        form = login_form(fresh, f"{ctx.login_path}?next={quote(evil)}")
        if form is not None:
            user_field = next(f.name for f in form.fields if f.kind in ("text", "email", "") and f.name != "next")
            pass_field = next(f.name for f in form.fields if f.kind == "password")
            answer = fresh.post_form(f"{ctx.login_path}?next={quote(evil)}", form.values() | {
                user_field: user["username"], pass_field: user["password"], "next": evil})
            tally.attempt(answer, success=_off_site(ctx.base, ctx.base + ctx.login_path, answer.location),
                          what=f"POST sign-in next={evil} → {answer.location!r}")
        anon = ctx.anonymous()
        answer = anon.post_form("/i18n/setlang/", {"language": "en", "next": evil})
        tally.attempt(answer, success=_off_site(ctx.base, ctx.base + "/i18n/setlang/", answer.location),
                      what=f"POST /i18n/setlang/ next={evil} → {answer.location!r}")
        for role, name, form in targets:
            client = ctx.browser(role)
            answer = client.post_form(form.action, form.values() | {name: evil})
            tally.attempt(answer, success=_off_site(ctx.base, form.action, answer.location),
                          what=f"{role} POST {urlsplit(form.action).path} {name}={evil} → {answer.location!r}",
                          group=f"{re.sub(r'[0-9a-f-]{36}', '<uuid>', urlsplit(form.action).path)} {name}")
    return tally
