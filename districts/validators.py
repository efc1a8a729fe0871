"""Validators for channel targets. Kept in `districts` (where Channel lives) so both the model's
`clean()` and the webhook transport, which checks again at send time, can use them."""

import ipaddress
import socket
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError


def _address_is_internal(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return not ip.is_global or ip.is_multicast


def webhook_url_validate(url: str) -> None:
    """Refuse a webhook URL that could reach inside the network.

    The host is resolved and every address it resolves to must be public (not private,
    loopback, link-local, reserved or multicast), unless the host is listed in
    settings.WEBHOOK_ALLOWED_HOSTS; an allow-listed host may also use plain http. Raises
    ValidationError with a message a supervisor can act on; returns None when the URL is fine.
    """
    parts = urlsplit(url.strip())
    host = (parts.hostname or "").lower()
    if parts.scheme not in ("http", "https") or not host:
        raise ValidationError("Enter a full web address starting with https://.", code="invalid")
    if parts.username or parts.password:
        raise ValidationError("A webhook address may not carry a user name or password.", code="invalid")
    if host in {h.lower() for h in settings.WEBHOOK_ALLOWED_HOSTS}:
        return
    if parts.scheme != "https":
        raise ValidationError("A webhook must use https://.", code="insecure")
    try:
        infos = socket.getaddrinfo(host, parts.port or 443, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError):
        raise ValidationError(f"The host {host} could not be found.", code="unresolvable") from None
    except ValueError:
        raise ValidationError("Enter a valid port number.", code="invalid") from None
    if any(_address_is_internal(info[4][0]) for info in infos):
        raise ValidationError(
            f"{host} points at a private or internal address; webhooks may only go to public addresses.",
            code="private_address",
        )
