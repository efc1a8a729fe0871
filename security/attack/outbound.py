"""Internal addresses in every URL the portal will call: webhook targets in every form that takes
one (the organisation's channels page, the Django admin) and web-push subscription endpoints;
then a drill, to see whether the portal connects to the attacker's loopback listener."""

import base64
import secrets
import time
from urllib.parse import urlsplit

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from .inject import filled
from .tally import Tally

URL_FIELDS = ("url", "target", "endpoint", "webhook")


def internal_hosts(port: int) -> list[str]:
    """Loopback (on the canary's port, so a connection is seen), link-local, private and
    unique-local addresses, localhost names, and the same addresses spelt differently."""
    return [f"127.0.0.1:{port}", f"localhost:{port}", f"localhost.:{port}", f"[::1]:{port}",
            f"2130706433:{port}", f"0x7f000001:{port}", f"017700000001:{port}", f"127.1:{port}",
            f"[::ffff:127.0.0.1]:{port}", f"[::ffff:7f00:1]:{port}", f"0.0.0.0:{port}", f"127.0.0.1.:{port}",
            "169.254.169.254", "[fe80::1]", "10.0.0.1", "10.255.255.254", "172.16.0.1", "192.168.1.1",
            "100.64.0.1", "[fd00::1]", "[::ffff:169.254.169.254]", "2852039166", "metadata.google.internal"]


def subscription_keys() -> dict:
    """Keys a browser's push subscription carries (a P-256 public key and a 16-byte secret), so the
    portal gets as far as calling the endpoint."""
    key = ec.generate_private_key(ec.SECP256R1())
    public = key.public_key().public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    return {"p256dh": base64.urlsafe_b64encode(public).rstrip(b"=").decode(),
            "auth": base64.urlsafe_b64encode(secrets.token_bytes(16)).rstrip(b"=").decode()}


def _url_forms(ctx) -> list[tuple[str, object, str]]:
    found = []
    for role, site in ctx.sites.items():
        if role not in ctx.browsers:
            continue
        for form in site.post_forms():
            names = [f.name for f in form.fields if f.kind in ("text", "url", "") and
                     any(word in f.name.lower() for word in URL_FIELDS)]
            found += [(role, form, name) for name in names]
    return found


def internal_addresses(ctx) -> Tally:
    tally = Tally("internal_addresses")
    canary = ctx.stack.canary
    hosts = internal_hosts(canary.port)
    for role, form, name in _url_forms(ctx):
        client = ctx.browser(role)
        for host in hosts:
            data = filled(form) | {name: f"https://{host}/hook"}
            for f in form.fields:  # the channel kind: webhook, where the form asks
                if f.kind == "select" and "webhook" in f.options:
                    data[f.name] = "webhook"
            answer = client.post_form(form.action, data)
            tally.attempt(answer, success=answer.status in (302, 303),
                          what=f"{role} POST {urlsplit(form.action).path} {name}=https://{host}/hook "
                               f"accepted ({answer.status})", group=f"{role} {urlsplit(form.action).path} {name}")
    for role in ("outreach_worker", "outreach_supervisor"):
        if role not in ctx.browsers:
            continue
        for host in hosts:
            answer = ctx.browser(role).send_json("POST", "/outreach/push/", {
                "endpoint": f"https://{host}/push/attack", "keys": subscription_keys()})
            tally.attempt(answer, success=200 <= answer.status < 300,
                          what=f"{role} push endpoint https://{host}/push/attack accepted ({answer.status})",
                          group=f"{role} push")
    before = canary.hits
    if "outreach_supervisor" in ctx.browsers:
        client = ctx.browser("outreach_supervisor")
        drill = next((f for f in ctx.sites["outreach_supervisor"].post_forms() if f.action.endswith("/drill/")), None)
        if drill is not None:
            client.post_form(drill.action, drill.values())
        ctx.api("outreach_supervisor").send_json(
            "POST", f"/api/v1/organizations/{ctx.world['organizations']['a']['code']}/webhook-test/", {})
        time.sleep(8)  # the relay and worker send within seconds
    hits = canary.hits - before
    tally.attempt(None, success=hits > 0, what=f"a drill made the portal connect to the loopback listener "
                                               f"{hits} times")
    return tally
