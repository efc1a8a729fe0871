"""The one guard for every address the portal calls: organisations' webhooks and browsers' web
push endpoints (and whatever comes next).

A URL is checked when it is saved and again when it is called. At the call the host is resolved
once, every address it resolves to must be public, and the connection is made to that checked
address (the URL's host still goes in the `Host` header and, for https, in SNI and the
certificate check). So a name that answers a public address when checked and an internal one a
moment later (DNS rebinding) never reaches the internal one: nothing resolves it a second time.

Why hand-written: the maintained SSRF guards for `requests` (advocate, for one) are no longer
released for current urllib3; this is one adapter method over requests' documented subclassing
hook (`HTTPAdapter.get_connection_with_tls_context`) and the standard `ipaddress` module.

`OutboundRefused.reason` is a sentence a supervisor can act on; it never carries what an
internal service answered, because the portal never asks one.
"""

import http.cookiejar
import ipaddress
import socket
import threading
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import requests
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from .http_limits import DeadlineAdapter

# Reachable from the internet in principle but never a webhook or push service: IPv6 forms that
# carry an IPv4 address inside (6to4, Teredo, NAT64), which could point at a private one, and
# the IETF protocol block 192.0.0.0/24 (Python counts part of it as global).
_REFUSED_NETWORKS = tuple(ipaddress.ip_network(n) for n in (
    "2002::/16", "2001::/32", "64:ff9b::/96", "64:ff9b:1::/48", "192.0.0.0/24",
))


class OutboundRefused(Exception):
    """The portal will not call this address. `reason` is safe to show; `code` names the rule."""

    def __init__(self, reason, *, code: str) -> None:
        super().__init__(str(reason))
        self.reason = reason
        self.code = code


def address_is_public(address: str) -> bool:
    """True only for a global unicast address: not loopback, private, link-local, site-local,
    multicast, reserved, unspecified, shared (CGNAT 100.64/10), documentation or benchmark
    ranges; an IPv4-mapped IPv6 address is judged as the IPv4 address it maps."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    if any(ip in network for network in _REFUSED_NETWORKS if network.version == ip.version):
        return False
    site_local = isinstance(ip, ipaddress.IPv6Address) and ip.is_site_local
    return ip.is_global and not (ip.is_multicast or ip.is_reserved or ip.is_link_local or ip.is_loopback
                                 or ip.is_unspecified or site_local)


def host_resolve(host: str, port: int) -> list[str]:
    """Every address `host` resolves to (IP literals, decimal and hex forms included, resolve to
    themselves). Raises OutboundRefused when the name does not resolve."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError, OSError):
        raise OutboundRefused(_("The host %(host)s could not be found.") % {"host": host},
                              code="unresolvable") from None
    return list(dict.fromkeys(info[4][0] for info in infos))


@dataclass(frozen=True)
class OutboundPolicy:
    """Which URLs one kind of channel may call.

    - `trusted_hosts`: hosts an operator listed (an organisation's receiver inside the network
      on purpose); they may use plain http and internal addresses. Nobody else's may.
    - `host_suffixes`: when set, only these hosts and their subdomains (the browsers' push
      services), on the default https port.
    """

    trusted_hosts: frozenset[str] = field(default_factory=frozenset)
    host_suffixes: tuple[str, ...] | None = None

    def url_check(self, url: str) -> tuple[str, int]:
        """The checks that need no DNS: scheme, host, credentials, port, the host allow-list.
        Returns (host, port); raises OutboundRefused."""
        try:
            parts = urlsplit((url or "").strip())
            host, port = (parts.hostname or "").lower().rstrip("."), parts.port
        except ValueError:
            raise OutboundRefused(_("Enter a full web address starting with https://."), code="invalid") from None
        if parts.scheme not in ("http", "https") or not host:
            raise OutboundRefused(_("Enter a full web address starting with https://."), code="invalid")
        if parts.username is not None or parts.password is not None:
            raise OutboundRefused(_("The address may not carry a user name or password."), code="invalid")
        trusted = host in self.trusted_hosts
        if parts.scheme != "https" and not trusted:
            raise OutboundRefused(_("The address must use https://."), code="insecure")
        if self.host_suffixes is not None and not trusted and not (
                any(host == s or host.endswith("." + s) for s in self.host_suffixes) and port in (None, 443)):
            raise OutboundRefused(_("The address is not one of the browsers' push services."), code="not_allowed")
        return host, port or (443 if parts.scheme == "https" else 80)

    def save_check(self, url: str) -> None:
        """The check when a URL is saved: `address_for`'s, except that a trusted host need not
        resolve yet (an operator may list a receiver before it exists). Raises OutboundRefused."""
        host, _port = self.url_check(url)
        if host not in self.trusted_hosts:
            self.address_for(url)

    def address_for(self, url: str) -> str:
        """Check `url`, resolve its host once and check every address it resolves to; return the
        address to connect to. Raises OutboundRefused."""
        host, port = self.url_check(url)
        addresses = host_resolve(host, port)
        if host not in self.trusted_hosts and not all(address_is_public(a) for a in addresses):
            raise OutboundRefused(
                _("%(host)s points at a private or internal address; the portal calls only public "
                  "addresses.") % {"host": host}, code="private_address")
        return addresses[0]


class _PinnedAdapter(DeadlineAdapter):
    """Connects to the address the policy checked, never to a second resolution of the name.

    Kept-alive connections stay safe: urllib3 pools connections by the key built below, whose
    host is the checked address (and, for https, the certificate's name), and every request is
    checked and resolved again before a pool is chosen. A connection is only ever reused for a
    request whose name was just checked to the same address."""

    def __init__(self, policy: OutboundPolicy, **kwargs) -> None:
        self.policy = policy
        super().__init__(**kwargs)

    def send(self, request, **kwargs):
        address = self.policy.address_for(request.url)
        request.headers["Host"] = urlsplit(request.url).netloc.rsplit("@", 1)[-1]
        request.cvi_pinned_address = address
        return super().send(request, **kwargs)

    def get_connection_with_tls_context(self, request, verify, proxies=None, cert=None):
        # No proxy branch: a proxy would resolve the name itself, which is what this prevents.
        host_params, pool_kwargs = self.build_connection_pool_key_attributes(request, verify, cert)
        hostname = host_params["host"].strip("[]")
        host_params = {**host_params, "host": request.cvi_pinned_address}
        if host_params["scheme"] == "https":
            # The certificate must still be the host's: SNI and the name check use the URL's host.
            pool_kwargs = {**pool_kwargs, "server_hostname": hostname, "assert_hostname": hostname}
        return self.poolmanager.connection_from_host(**host_params, pool_kwargs=pool_kwargs)


class OutboundSession(requests.Session):
    """A requests session that calls only what its policy allows, pinned to the checked address,
    ignores proxy settings from the environment, never follows a redirect (the target of a
    redirect was never checked when the channel was saved) and keeps no cookies (one session
    serves every receiver and every sending thread). Its calls obey `send_deadline`."""

    def __init__(self, policy: OutboundPolicy) -> None:
        super().__init__()
        self.trust_env = False
        self.cookies.set_policy(http.cookiejar.DefaultCookiePolicy(allowed_domains=[]))
        # One pool per receiver address (many organisations), each as large as the number of
        # threads that may send to it at once.
        size = getattr(settings, "DELIVERY_SEND_THREADS", 10)
        for prefix in ("https://", "http://"):
            self.mount(prefix, _PinnedAdapter(policy, pool_connections=64, pool_maxsize=size))

    def request(self, method, url, *args, **kwargs):
        kwargs["allow_redirects"] = False
        return super().request(method, url, *args, **kwargs)


def webhook_policy() -> OutboundPolicy:
    """Organisations' webhooks: any public https address, or a host listed in WEBHOOK_ALLOWED_HOSTS."""
    from_settings = getattr(settings, "WEBHOOK_ALLOWED_HOSTS", [])
    return OutboundPolicy(trusted_hosts=frozenset(h.lower().rstrip(".") for h in from_settings))


def push_policy() -> OutboundPolicy:
    """Browsers' web push endpoints: only the push services in PUSH_SERVICE_HOSTS, at public
    addresses, or a host listed in PUSH_ALLOWED_HOSTS (trusted: any address, plain http allowed)."""
    suffixes = tuple(h.lower().strip(".") for h in getattr(settings, "PUSH_SERVICE_HOSTS", []))
    trusted = frozenset(h.lower().rstrip(".") for h in getattr(settings, "PUSH_ALLOWED_HOSTS", []))
    return OutboundPolicy(trusted_hosts=trusted, host_suffixes=suffixes)


_sessions: dict[OutboundPolicy, OutboundSession] = {}
_sessions_lock = threading.Lock()


def outbound_session(policy: OutboundPolicy) -> OutboundSession:
    """The process's session for `policy`, shared by its sending threads, so connections are
    kept alive across deliveries (a worker sends many); a changed setting gives a new policy
    and so a new session."""
    session = _sessions.get(policy)
    if session is None:
        with _sessions_lock:
            session = _sessions.get(policy) or OutboundSession(policy)
            _sessions[policy] = session
    return session
