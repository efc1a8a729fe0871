"""The one place that decides what a user may see and do.

Every view and API endpoint scopes its queryset through these helpers (and the
notifications app's `access` module, which builds on them for incidents). A user without a
membership sees nothing, except a Django superuser, who is treated as `admin`.
"""

from dataclasses import dataclass

from django.core.exceptions import PermissionDenied

from .models import CPD_ROLES, OUTREACH_ROLES, Membership, Organization, Role


@dataclass(frozen=True)
class Scope:
    """What a user's role reaches. Exactly one of the shapes below holds:

    - CPD: `district_id` set; - outreach: `organization_id` set;
    - analyst or admin: `citywide` True; - nobody: everything empty.
    """

    role: str | None
    district_id: int | None = None
    organization_id: int | None = None
    citywide: bool = False

    @property
    def is_cpd(self) -> bool:
        return self.role in CPD_ROLES

    @property
    def is_outreach(self) -> bool:
        return self.role in OUTREACH_ROLES

    @property
    def is_supervisor(self) -> bool:
        return self.role == Role.OUTREACH_SUPERVISOR

    @property
    def is_analyst(self) -> bool:
        return self.role == Role.ANALYST

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN


NOBODY = Scope(role=None)


def membership_of(user) -> Membership | None:
    """The user's membership, loaded once per request with its district (without the boundary,
    tens of kilobytes of GeoJSON no page header needs) and organisation: every page's header
    shows them."""
    if not getattr(user, "is_authenticated", False):
        return None
    related = Membership.user.field.remote_field  # the reverse one-to-one, `user.membership`
    if not related.is_cached(user):
        membership = (Membership.objects.select_related("district", "organization").defer("district__boundary")
                      .filter(user=user).first())
        related.set_cached_value(user, membership)
        if membership is not None:
            Membership.user.field.set_cached_value(membership, user)
    return related.get_cached_value(user)


def scope_of(user) -> Scope:
    """The user's scope; cached on the user object for the request."""
    cached = getattr(user, "_cvi_scope", None)
    if cached is not None:
        return cached
    membership = membership_of(user)
    if membership is not None:
        scope = Scope(
            role=membership.role,
            district_id=membership.district_id,
            organization_id=membership.organization_id,
            citywide=membership.role in (Role.ANALYST, Role.ADMIN),
        )
    elif getattr(user, "is_superuser", False):
        scope = Scope(role=Role.ADMIN, citywide=True)
    else:
        scope = NOBODY
    if getattr(user, "is_authenticated", False):
        user._cvi_scope = scope
    return scope


def require_role(user, *roles: str) -> Scope:
    """The user's scope, or PermissionDenied when their role is not among `roles`."""
    scope = scope_of(user)
    if scope.role not in roles:
        raise PermissionDenied("Your role cannot do this.")
    return scope


def organizations_for_user(user):
    """Organisations the user may see: their own (outreach), all active ones (others)."""

    scope = scope_of(user)
    if scope.is_outreach:
        return Organization.objects.filter(pk=scope.organization_id)
    if scope.role is None:
        return Organization.objects.none()
    return Organization.objects.all()
