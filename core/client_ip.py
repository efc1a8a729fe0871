"""The client's address, for throttles and lockouts: one answer for the whole portal.

`X-Forwarded-For` is written by whoever sent the request, so it is believed only when the direct
peer (`REMOTE_ADDR`) is one of the reverse proxies in `TRUSTED_PROXIES` (addresses or networks;
empty by default: never believed). Behind trusted proxies each appends the address it saw, so
the client is the right-most entry that is not itself a trusted proxy; anything left of it is
whatever the client chose to send.

Hand-written rather than django-ipware (not installed here, and not a dependency worth adding
for 40 lines): ipware trusts proxies by address prefix or by a proxy count, and a count that
does not match the real chain resolves to no address at all, which turns django-axes' lockout
of a username *from an address* into a lockout of the username everywhere. Networks in
`TRUSTED_PROXIES` and "right-most untrusted" have no such failure mode.
"""

import ipaddress
from functools import lru_cache

from django.conf import settings

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@lru_cache(maxsize=8)
def _networks(proxies: tuple[str, ...]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(entry.strip(), strict=False) for entry in proxies if entry.strip())


def trusted_proxy_networks() -> tuple[Network, ...]:
    """`TRUSTED_PROXIES` parsed; a bad entry raises ValueError (settings check it at start)."""
    return _networks(tuple(getattr(settings, "TRUSTED_PROXIES", ())))


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    text = text.strip()
    if text.startswith("[") and "]" in text:  # "[2001:db8::1]:443"
        text = text[1:text.index("]")]
    elif text.count(":") == 1:  # "192.0.2.1:443"
        text = text.split(":", 1)[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    return address.ipv4_mapped or address if isinstance(address, ipaddress.IPv6Address) else address


def _trusted(address, networks) -> bool:
    return any(address in network for network in networks)


def client_ip(request) -> str:
    """The caller's address as text. A request with no usable peer address gives "unknown"
    (one shared bucket, never a free pass)."""
    peer = _address(request.META.get("REMOTE_ADDR", "") or "")
    if peer is None:
        return "unknown"
    networks = trusted_proxy_networks()
    if not networks or not _trusted(peer, networks):
        return str(peer)
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    for entry in reversed(forwarded.split(",")[:50]):
        address = _address(entry)
        if address is None:
            break  # garbage in the chain: stop at the last proxy we trust
        if not _trusted(address, networks):
            return str(address)
        peer = address
    return str(peer)


def axes_client_ip(request) -> str | None:
    """`AXES_CLIENT_IP_CALLABLE`: django-axes keys its lockouts on the same address (None, which
    axes stores as no address, for a request without one, such as the test client's `login()`)."""
    address = client_ip(request)
    return None if address == "unknown" else address
