"""Where to go after a form: the `next` the page asked for, when it is safe, else a default.

Every `next` parameter goes through `next_url`: Django's `url_has_allowed_host_and_scheme`
accepts only a path on this host (or a full URL naming it), so `//other.host/`,
`https://other.host/`, `/\\other.host` and `javascript:` fall back to the default instead of
sending the user off-site. Only a path (starting with one "/") is taken: `redirect` would try
any other word as a URL name.
"""

from django.shortcuts import resolve_url
from django.utils.http import url_has_allowed_host_and_scheme


def next_url(request, default: str) -> str:
    """The request's `next` (POST, then GET) if it stays on this site, else `default` (a URL
    name or a path, as `redirect` takes)."""
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if candidate.startswith("/") and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return resolve_url(default)
