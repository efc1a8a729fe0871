"""Response headers Django has no setting for.

Permissions-Policy: Django sends a Content Security Policy (`SECURE_CSP`) but no
Permissions-Policy, so this small middleware does, from the `PERMISSIONS_POLICY` setting:
a dict of feature → allowlist (`[]` turns the feature off for every origin, `["self"]` keeps
it for the portal's own pages). django-permissions-policy does the same; one header is not
worth a dependency.
"""

from django.conf import settings


def permissions_policy_header(policy: dict[str, list[str]]) -> str:
    """`{"camera": [], "fullscreen": ["self"]}` → `camera=(), fullscreen=(self)`."""
    return ", ".join(f"{feature}=({' '.join(allowlist)})" for feature, allowlist in policy.items())


class PermissionsPolicyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response
        self.header = permissions_policy_header(getattr(settings, "PERMISSIONS_POLICY", {}))

    def __call__(self, request):
        response = self.get_response(request)
        if self.header and "Permissions-Policy" not in response:
            response["Permissions-Policy"] = self.header
        return response
