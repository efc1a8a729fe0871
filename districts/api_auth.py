"""Who is calling the API and how often: integration tokens, role and operation checks, rate limits.

Integration tokens (`IntegrationToken`) are created by administrators
(`services.integration_token_create`), shown once and stored as a SHA-256 digest. Each acts as
its own service account (the actor in the audit trail). The account has no Membership, so it is
never a member who receives in-app notices or shows on a team page; instead authentication
gives it the scope of CPD staff of the token's district or of a worker of the token's
organisation, so the ordinary access helpers scope its querysets, and `operations` narrows
what it may call.
"""

import logging
from datetime import timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone
from django.utils.crypto import constant_time_compare
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.permissions import BasePermission
from rest_framework.throttling import SimpleRateThrottle

from core.client_ip import client_ip

from .access import Scope, scope_of
from .models import IntegrationToken, Role, UserToken
from .services import TOKEN_PREFIX, USER_TOKEN_PREFIX, token_digest

logger = logging.getLogger(__name__)

# Writing last_used_at on every request would turn each read into a write; a minute is precise enough.
LAST_USED_RESOLUTION = timedelta(minutes=1)


def token_scope(token: IntegrationToken) -> Scope:
    """What the token reaches: CPD staff of its district, or a worker of its organisation."""
    if token.district_id is not None:
        return Scope(role=Role.CPD_STAFF, district_id=token.district_id)
    return Scope(role=Role.OUTREACH_WORKER, organization_id=token.organization_id)


class IntegrationTokenAuthentication(BaseAuthentication):
    """`Authorization: Token cvi_…` (or `Bearer cvi_…`). Other tokens are left to DRF's own class."""

    def authenticate(self, request):
        parts = get_authorization_header(request).split()
        if len(parts) != 2 or parts[0].lower() not in (b"token", b"bearer"):
            return None
        try:
            raw = parts[1].decode("ascii")
        except UnicodeDecodeError:
            raise AuthenticationFailed("Invalid token.") from None
        if not raw.startswith(TOKEN_PREFIX):
            return None
        token = (IntegrationToken.objects.select_related("user", "organization", "district")
                 .defer("district__boundary").filter(key_hash=token_digest(raw)).first())
        if token is None:
            raise AuthenticationFailed("Invalid integration token.")
        now = timezone.now()
        if token.revoked_at is not None:
            raise AuthenticationFailed("This integration token has been revoked.")
        if token.expires_at is not None and token.expires_at <= now:
            raise AuthenticationFailed("This integration token has expired.")
        if token.last_used_at is None or token.last_used_at < now - LAST_USED_RESOLUTION:
            IntegrationToken.objects.filter(pk=token.pk).filter(
                Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - LAST_USED_RESOLUTION)
            ).update(last_used_at=now)
        user = token.user
        # `scope_of` reads the scope cached on the user for the request before any membership,
        # so every access helper and service sees the token's scope.
        user._cvi_scope = token_scope(token)
        return user, token

    def authenticate_header(self, request) -> str:
        return "Token"


def user_token_problem(token: UserToken, *, now=None) -> str | None:
    """None when `token` may be used now, else why not (the 401's message)."""
    now = now or timezone.now()
    if token.revoked_at is not None:
        return "This token has been revoked."
    if token.expires_at <= now:
        return "This token has expired: sign in again for a new one."
    if not token.user.is_active:
        return "This account is deactivated."
    if not constant_time_compare(token.password_stamp, token.user.get_session_auth_hash()):
        return "The password changed since this token was issued: sign in again for a new one."
    return None


class UserTokenAuthentication(BaseAuthentication):
    """`Authorization: Token cvu_…`: a person's token. Any other `Token …` header that the
    integration class left alone is refused here, so a malformed or unknown token is a 401."""

    keyword = b"token"

    def authenticate(self, request):
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() not in (b"token", b"bearer"):
            return None
        if len(parts) != 2:
            raise AuthenticationFailed("Invalid token header: send `Token <token>`.")
        try:
            raw = parts[1].decode("ascii")
        except UnicodeDecodeError:
            raise AuthenticationFailed("Invalid token.") from None
        if not raw.startswith(USER_TOKEN_PREFIX):
            raise AuthenticationFailed("Invalid token.")
        # With the user's membership (districts.access.membership_of reads it from here): every
        # call's permission check needs it, and one query then serves both.
        token = (UserToken.objects.select_related("user__membership__district", "user__membership__organization")
                 .defer("user__membership__district__boundary").filter(key_hash=token_digest(raw)).first())
        if token is None:
            raise AuthenticationFailed("Invalid token.")
        now = timezone.now()
        problem = user_token_problem(token, now=now)
        if problem:
            raise AuthenticationFailed(problem)
        if token.last_used_at is None or token.last_used_at < now - LAST_USED_RESOLUTION:
            UserToken.objects.filter(pk=token.pk).update(last_used_at=now)
        return token.user, token

    def authenticate_header(self, request) -> str:
        return "Token"


class UserTokenScheme(OpenApiAuthenticationExtension):
    """How the OpenAPI reference documents `UserTokenAuthentication` (named as DRF's was)."""

    target_class = "districts.api_auth.UserTokenAuthentication"
    name = "tokenAuth"

    def get_security_definition(self, auto_schema):
        return {"type": "apiKey", "in": "header", "name": "Authorization",
                "description": "A person's token from `POST /api/v1/auth/token/`: `Token cvu_…`; "
                               "it expires, and ends with a password change or log out everywhere."}


class IntegrationTokenScheme(OpenApiAuthenticationExtension):
    """How the OpenAPI reference documents `IntegrationTokenAuthentication`."""

    target_class = "districts.api_auth.IntegrationTokenAuthentication"
    name = "integrationToken"

    def get_security_definition(self, auto_schema):
        return {"type": "apiKey", "in": "header", "name": "Authorization",
                "description": "An integration token from an administrator: `Token cvi_…`."}


class RoleAndOperation(BasePermission):
    """The view's `roles` (a set of Role values, None for any member) and, for an integration
    token, the view's `operation` among the token's operations."""

    message = "Your role cannot do this."

    def has_permission(self, request, view) -> bool:
        token = request.auth if isinstance(request.auth, IntegrationToken) else None
        op = getattr(view, "op", None) or type(view)  # the class handling this method (see ApiView.op)
        operation = getattr(op, "operation", None)
        if token is not None and operation not in token.operations:
            self.message = f"This integration token may not call this operation ({operation})."
            return False
        roles = getattr(op, "roles", None)
        scope = scope_of(request.user)
        if scope.role is None or (roles is not None and scope.role not in roles):
            self.message = "Your role cannot do this."
            return False
        return True


def api_rates() -> dict[str, str]:
    """Rates per scope (anon, login, user, integration): `API_THROTTLE_RATES` in settings."""
    return settings.API_THROTTLE_RATES


class ApiRateThrottle(SimpleRateThrottle):
    """One bucket per integration token, per user, or per address for anonymous callers.

    Counts live in the default cache (Redis in production). If the cache is down the request
    is let through: an incident must never be refused because the rate counter is unreachable.
    """

    def __init__(self):  # the scope, hence the rate, is known only per request
        pass

    def scope_for(self, request) -> tuple[str, str]:
        if isinstance(request.auth, IntegrationToken):
            return "integration", f"t{request.auth.pk}"
        if request.user and request.user.is_authenticated:
            return "user", f"u{request.user.pk}"
        return "anon", self.get_ident(request)

    def get_ident(self, request) -> str:
        """The real client address (`core.client_ip`: X-Forwarded-For only from TRUSTED_PROXIES)."""
        return client_ip(request)

    def allow_request(self, request, view) -> bool:
        self.scope, self.ident = self.scope_for(request)
        self.rate = api_rates()[self.scope]
        self.num_requests, self.duration = self.parse_rate(self.rate)
        try:
            return super().allow_request(request, view)
        except Exception:  # noqa: BLE001 - any cache failure
            logger.warning("API rate limit cache unavailable; letting the request through", exc_info=True)
            return True

    def get_cache_key(self, request, view) -> str:
        return f"cvi:api-throttle:{self.scope}:{self.ident}"


class LoginRateThrottle(ApiRateThrottle):
    """The token endpoint: per address, to slow password guessing."""

    def scope_for(self, request) -> tuple[str, str]:
        return "login", self.get_ident(request)
