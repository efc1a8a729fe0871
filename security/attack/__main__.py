"""Run every attack class against a fresh stack; see the package docstring."""

import argparse
import json
import os
import signal
import sys
import time
from dataclasses import dataclass, field

from . import auth, inject, outbound, scope
from .client import Client, sign_in, totp_now
from .crawl import crawl
from .stack import DEFAULT_DATABASE_URL, Stack

LOGIN_PATH = "/accounts/login/"
# Brute force last: a lockout keyed on the address must not hide the other classes' results.
STEPS = [scope.idor, scope.traversal, inject.sqli, auth.open_redirect, auth.csrf, inject.stored_script,
         outbound.internal_addresses, inject.malformed, auth.bruteforce]


@dataclass
class Context:
    """What every attack reads: the stack, the seeded world, a signed-in browser and an API
    token per role, and what each role's crawl found."""

    stack: Stack
    world: dict
    browsers: dict = field(default_factory=dict)
    tokens: dict = field(default_factory=dict)
    sites: dict = field(default_factory=dict)
    login_path: str = LOGIN_PATH

    @property
    def base(self) -> str:
        return self.stack.base

    def browser(self, role: str) -> Client:
        return self.browsers[role]

    def api(self, role: str) -> Client:
        """The role's API caller: its token when it got one, else its browser session."""
        token = self.tokens.get(role)
        return Client(self.base, token=token, label=role) if token else self.browsers[role]

    def anonymous(self) -> Client:
        client = Client(self.base)
        client.get(self.login_path)  # a CSRF cookie, as any visitor has
        return client


def sign_everyone_in(ctx: Context) -> list[str]:
    """A browser session per role through the login page, then an API token per role (with a
    second-factor code when the token endpoint asks for one). Returns what went wrong."""
    problems = []
    for role, user in ctx.world["users"].items():
        client = Client(ctx.base, label=role)
        if not sign_in(client, ctx.login_path, user["username"], user["password"], user["totp_secret"]):
            problems.append(f"{role} could not sign in through {ctx.login_path}: its pages are not attacked")
            continue
        ctx.browsers[role] = client
    for role, user in ctx.world["users"].items():
        credentials = {"username": user["username"], "password": user["password"]}
        answer = Client(ctx.base).send_json("POST", "/api/v1/auth/token/", credentials)
        if answer.status != 200 and user["totp_secret"]:
            answer = Client(ctx.base).send_json("POST", "/api/v1/auth/token/",
                                                credentials | {"code": totp_now(user["totp_secret"])})
        token = (answer.json() or {}).get("token") if answer.status == 200 else None
        if token:
            ctx.tokens[role] = token
        else:
            problems.append(f"{role} got no API token ({answer.status}); the API is attacked with its session")
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database-url", default=os.environ.get("ATTACK_DATABASE_URL", DEFAULT_DATABASE_URL),
                        help="a PostgreSQL database this run drops and creates (ATTACK_DATABASE_URL)")
    parser.add_argument("--only", default="",
                        help="some steps only, comma-separated: " + ",".join(s.__name__ for s in STEPS))
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # so the stack is stopped on a kill too
    stack = Stack(args.database_url)
    started = time.monotonic()
    print(f"Starting a fresh stack on {stack.base} (database {args.database_url.rsplit('/', 1)[-1]}, "
          f"logs in {stack.log_dir})…", flush=True)
    tallies, fatal = [], 0
    selected = [s for s in STEPS if not args.only or s.__name__ in args.only.split(",")]
    try:
        ctx = Context(stack=stack, world=stack.start())
        print(f"  stack up and seeded in {time.monotonic() - started:.0f}s", flush=True)
        for problem in sign_everyone_in(ctx):
            print(f"  ! {problem}", flush=True)
            fatal += "could not sign in" in problem
        for role in ctx.browsers:
            ctx.sites[role] = crawl(ctx.browsers[role], role)
        ctx.sites["anonymous"] = crawl(ctx.anonymous(), "anonymous", limit=20)
        for role, site in ctx.sites.items():  # what was reached, for whoever reads the run
            (stack.log_dir / f"crawl-{role}.txt").write_text(
                "".join(f"{status} {path}\n" for path, status in site.pages.items())
                + "".join(f"FORM {f.method} {f.action} {[x.name for x in f.fields]}\n" for f in site.forms))
        print(f"  signed in and crawled by {time.monotonic() - started:.0f}s: " + ", ".join(
            f"{r} {len(s.pages)} pages/{len(s.forms)} forms" for r, s in ctx.sites.items()), flush=True)
        for step in selected:
            sent, began = Client.sent, time.monotonic()
            tally = step(ctx)
            tallies.append(tally)
            print(f"{tally.report()}\n    ({Client.sent - sent} requests, {time.monotonic() - began:.0f}s)", flush=True)
    finally:
        stack.stop()
    summary = {t.name: t.summary() for t in tallies}
    (stack.log_dir / "failures.txt").write_text("".join(f"{line}\n" for t in tallies for line in t.failures()))
    # A role that could not sign in was not attacked: never report that as nothing getting through.
    failed = any(t.succeeded or t.server_errors for t in tallies) or fatal or len(tallies) < len(selected)
    print(f"{len(tallies)} classes in {time.monotonic() - started:.0f}s; "
          f"{'FAILED: see SUCCEEDED and SERVER ERROR lines above' if failed else 'nothing got through'}; "
          f"every failing attempt in {stack.log_dir / 'failures.txt'}", flush=True)
    print(json.dumps(summary))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
