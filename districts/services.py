"""Writes about organisations and their members: on-call rosters, escalation policy, consent,
channels, push subscriptions, a member's language, integration tokens, people's own API
tokens and sessions (issue, revoke, log out everywhere), and the administrator's people pages:
invitations, role and scope changes, deactivation.

Each service validates everything before writing, so bad input leaves nothing half-saved, and
appends its audit event. Bad input raises ValidationError({field: [message]}); the view, API or
admin turns it into a message. Callers scope their lookups to the actor's organisation (the
supervisor's pages and the API do); `oncall_add` and `push_subscription_save` also check the
member's own scope.
"""

import hashlib
import re
import secrets
from datetime import time, timedelta

from django.conf import settings
from django.contrib.auth import SESSION_KEY, get_user_model
from django.contrib.sessions.models import Session
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage, mailers
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from audit.services import audit_log

from .access import scope_of
from .models import (
    CPD_ROLES,
    OUTREACH_ROLES,
    Channel,
    District,
    IntegrationToken,
    Invitation,
    Membership,
    OnCall,
    Organization,
    Role,
    UserToken,
)
from .validators import push_endpoint_validate

TOKEN_PREFIX = "cvi_"  # noqa: S105 - a public marker, not a secret
USER_TOKEN_PREFIX = "cvu_"  # noqa: S105 - a person's token; also a public marker
USER_TOKENS_LIVE_MAX = 10


# --- on-call roster, escalation policy, consent ------------------------------------------

def oncall_add(*, organization: Organization, actor, source: str, user, tier: int, weekday: int | None = None,
               starts: time | None = None, ends: time | None = None) -> OnCall:
    errors = {}
    if scope_of(user).organization_id != organization.pk:
        errors["user"] = [_("Choose someone in your organisation.")]
    if tier not in OnCall.Tier.values:
        errors["tier"] = [_("Choose on call, backup or supervisor.")]
    if weekday is not None and not 0 <= weekday <= 6:
        errors["weekday"] = [_("Choose a day of the week.")]
    if (starts is None) != (ends is None):
        errors["ends"] = [_("Give both a start and an end time, or neither for all day.")]
    elif starts is not None and starts == ends:
        errors["ends"] = [_("The shift must not start and end at the same time.")]
    if errors:
        raise ValidationError(errors)
    entry = OnCall.objects.create(organization=organization, user=user, tier=tier, weekday=weekday,
                                  starts=starts, ends=ends)
    audit_log(actor=actor, source=source, action="oncall.added", obj=organization,
              data={"user": user.pk, "tier": tier, "weekday": weekday})
    return entry


def oncall_remove(*, entry: OnCall, actor, source: str) -> None:
    audit_log(actor=actor, source=source, action="oncall.removed", obj=entry.organization,
              data={"user": entry.user_id, "tier": entry.tier, "weekday": entry.weekday})
    entry.delete()


def organization_policy_set(*, organization: Organization, actor, source: str, ack_window_minutes: int) -> Organization:
    if not 1 <= ack_window_minutes <= 120:
        raise ValidationError({"ack_window_minutes": [_("Between 1 and 120 minutes.")]})
    before = organization.ack_window_minutes
    organization.ack_window_minutes = ack_window_minutes
    organization.save(update_fields=["ack_window_minutes"])
    audit_log(actor=actor, source=source, action="organization.policy_set", obj=organization,
              data={"ack_window_minutes": [before, ack_window_minutes]})
    return organization


def organization_consent_set(*, organization: Organization, actor, source: str, share_arrival: bool,
                             share_response_category: bool) -> Organization:
    """Change what the agreed summary shares from now on; what was shared stays as it was."""
    before = {"share_arrival": organization.share_arrival,
              "share_response_category": organization.share_response_category}
    organization.share_arrival = share_arrival
    organization.share_response_category = share_response_category
    organization.save(update_fields=["share_arrival", "share_response_category"])
    audit_log(actor=actor, source=source, action="organization.consent_set", obj=organization,
              data={"before": before, "after": {"share_arrival": share_arrival,
                                                "share_response_category": share_response_category}})
    return organization


# --- channels -----------------------------------------------------------------------------

def channel_fallback_set(*, channel: Channel, actor, source: str, is_fallback: bool, active: bool) -> Channel:
    channel.is_fallback, channel.active = is_fallback, active
    channel.save(update_fields=["is_fallback", "active"])
    audit_log(actor=actor, source=source, action="channel.updated", obj=channel,
              data={"is_fallback": is_fallback, "active": active})
    return channel


_E164 = re.compile(r"^\+[1-9]\d{7,14}$")


def channel_add(*, organization: Organization, actor, source: str, kind: str, target: str,
                is_fallback: bool = False) -> Channel:
    """A shared channel of the organisation: its dispatch email, phone tree number or webhook.

    Webhooks must point at a public address (Channel.clean) and get a signing secret.
    """
    target = (target or "").strip()
    if kind not in (Channel.Kind.EMAIL, Channel.Kind.SMS, Channel.Kind.WEBHOOK):
        raise ValidationError({"kind": [_("Choose email, SMS or webhook.")]})
    if kind == Channel.Kind.EMAIL:
        try:
            validate_email(target)
        except ValidationError:
            raise ValidationError({"target": [_("Enter an email address.")]}) from None
    if kind == Channel.Kind.SMS and not _E164.match(target):
        raise ValidationError({"target": [_("Enter the number with its country code, e.g. +13125550100.")]})
    if Channel.objects.filter(organization=organization, user=None, kind=kind, target=target).exists():
        raise ValidationError({"target": [_("This channel is already on the list.")]})
    channel = Channel(organization=organization, user=None, kind=kind, target=target, is_fallback=is_fallback)
    channel.full_clean()
    channel.save()
    audit_log(actor=actor, source=source, action="channel.added", obj=channel, data={"kind": kind})
    return channel


def push_subscription_save(*, actor, source: str, endpoint: str, p256dh: str, auth: str) -> Channel:
    """Store this browser's web push subscription as the worker's push channel (one per endpoint)."""
    scope = scope_of(actor)
    errors = {}
    if not scope.is_outreach:
        errors["endpoint"] = [_("Only outreach members receive push alerts.")]
    if len(endpoint) > 500:
        errors["endpoint"] = [_("The push service address is not valid.")]
    else:
        try:
            push_endpoint_validate(endpoint)
        except ValidationError as exc:
            errors["endpoint"] = exc.messages
    if not p256dh or not auth or len(p256dh) > 200 or len(auth) > 100:
        errors["keys"] = [_("The subscription keys are missing.")]
    if errors:
        raise ValidationError(errors)
    channel, created = Channel.objects.update_or_create(
        user=actor, kind=Channel.Kind.PUSH, target=endpoint,
        defaults={"organization_id": scope.organization_id, "active": True,
                  "config": {"keys": {"p256dh": p256dh, "auth": auth}}},
    )
    audit_log(actor=actor, source=source, action="channel.push_subscribed" if created else "channel.push_renewed",
              obj=channel)
    return channel


# --- members ------------------------------------------------------------------------------

def member_language_set(*, actor, source: str, language: str) -> None:
    """The language the portal speaks to this member, on every page and message."""
    if language not in ("en", "es"):
        raise ValidationError({"language": [_("Choose English or Spanish.")]})
    Membership.objects.filter(user=actor).update(language=language, language_chosen=True)
    audit_log(actor=actor, source=source, action="membership.language_set", data={"language": language})


# --- integration tokens -------------------------------------------------------------------

def token_digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


@transaction.atomic
def integration_token_create(
    *,
    actor,
    name: str,
    operations: list[str],
    organization: Organization | None = None,
    district: District | None = None,
    expires_at=None,
) -> tuple[IntegrationToken, str]:
    """Create a token and its service account; return the token and the raw key (shown once).

    Exactly one of `organization` and `district` must be given.
    """
    if (organization is None) == (district is None):
        raise ValidationError({"organization": ["Scope the token to exactly one organisation or one district."]})
    unknown = sorted(set(operations) - set(IntegrationToken.Operation.values))
    if unknown or not operations:
        raise ValidationError({"operations": [f"Choose operations from the list (unknown: {', '.join(unknown)})."
                                              if unknown else "Choose at least one operation."]})
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    prefix = raw[: len(TOKEN_PREFIX) + 6]
    user = get_user_model().objects.create_user(username=f"integration-{prefix}-{secrets.token_hex(3)}")
    user.set_unusable_password()
    user.save(update_fields=["password"])
    token = IntegrationToken.objects.create(
        name=name, key_prefix=prefix, key_hash=token_digest(raw), user=user, organization=organization,
        district=district, operations=sorted(set(operations)), created_by=actor, expires_at=expires_at,
    )
    audit_log(actor=actor, source="web", action="integration_token.created", obj=token,
              data={"operations": token.operations, "scope": token.scope_label})
    return token, raw


def integration_token_revoke(*, token: IntegrationToken, actor) -> IntegrationToken:
    """Revoke the token (idempotent); its service account can no longer sign in either."""
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        get_user_model().objects.filter(pk=token.user_id).update(is_active=False)
        audit_log(actor=actor, source="web", action="integration_token.revoked", obj=token)
    return token


# --- people's API tokens and sessions --------------------------------------------------------

def user_token_create(*, user, source: str = "api") -> tuple[UserToken, str]:
    """Issue a token for `user`; return it and the raw key (shown once, never stored).

    Each call issues a new token (the old raw keys cannot be shown again); the user's expired
    and revoked tokens are deleted on the way and at most `USER_TOKENS_LIVE_MAX` stay live, so
    the table does not grow with every sign-in.
    """
    now = timezone.now()
    UserToken.objects.filter(user=user).filter(Q(expires_at__lte=now) | Q(revoked_at__isnull=False)).delete()
    raw = USER_TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = UserToken.objects.create(
        user=user, key_prefix=raw[: len(USER_TOKEN_PREFIX) + 6], key_hash=token_digest(raw),
        password_stamp=user.get_session_auth_hash(),
        expires_at=now + timedelta(days=settings.USER_TOKEN_LIFETIME_DAYS),
    )
    # A script that signs in on every run must not pile up live tokens: the oldest beyond
    # USER_TOKENS_LIVE_MAX are revoked.
    older = UserToken.objects.filter(user=user, revoked_at__isnull=True).order_by("-created_at", "-pk")
    UserToken.objects.filter(pk__in=list(older.values_list("pk", flat=True)[USER_TOKENS_LIVE_MAX:])).update(
        revoked_at=now)
    audit_log(actor=user, source=source, action="api.token_issued",
              data={"token": token.key_prefix, "expires_at": token.expires_at.isoformat()})
    return token, raw


def user_tokens_revoke(*, user, actor, source: str, reason: str) -> int:
    """Revoke every live token of `user`; return how many. `reason`: a short code for the audit."""
    count = UserToken.objects.filter(user=user, revoked_at__isnull=True).update(revoked_at=timezone.now())
    if count:
        audit_log(actor=actor, source=source, action="api.tokens_revoked",
                  data={"user": user.pk, "count": count, "reason": reason})
    return count


def user_sessions_end(*, user) -> int:
    """Delete every browser session signed in as `user` (database sessions); return how many.

    Django keeps no index from user to session, so this reads the live sessions once: a few
    thousand rows at most for the portal's staff, and it runs only when someone asks for it.
    """
    ended = []
    for session in Session.objects.filter(expire_date__gt=timezone.now()).iterator():
        if str(session.get_decoded().get(SESSION_KEY)) == str(user.pk):
            ended.append(session.session_key)
    Session.objects.filter(session_key__in=ended).delete()
    return len(ended)


def user_logout_everywhere(*, user, source: str = "web") -> dict:
    """End all of the user's sessions (this one too) and revoke all of their API tokens."""
    tokens = user_tokens_revoke(user=user, actor=user, source=source, reason="logout_everywhere")
    sessions = user_sessions_end(user=user)
    audit_log(actor=user, source=source, action="account.logged_out_everywhere",
              data={"sessions": sessions, "tokens": tokens})
    return {"sessions": sessions, "tokens": tokens}


# --- people: invitations, roles and scope, deactivation (the administrator's pages) ----------

def _scope_errors(*, role: str, district: District | None, organization: Organization | None) -> dict:
    """What is wrong with this role and scope (the shape Membership's check constraint holds)."""
    if role not in Role.values:
        return {"role": [_("Choose a role from the list.")]}
    errors = {}
    if role in CPD_ROLES:
        if district is None:
            errors["district"] = [_("A CPD role needs a district.")]
        if organization is not None:
            errors["organization"] = [_("A CPD role is held in a district, not an organisation: leave it empty.")]
    elif role in OUTREACH_ROLES:
        if organization is None:
            errors["organization"] = [_("An outreach role needs an organisation.")]
        elif not organization.active:
            errors["organization"] = [_("This organisation is not active.")]
        if district is not None:
            errors["district"] = [_("An outreach role is held in an organisation, not a district: leave it empty.")]
    else:
        if district is not None:
            errors["district"] = [_("Analysts and administrators are citywide: leave the district empty.")]
        if organization is not None:
            errors["organization"] = [_("Analysts and administrators are citywide: leave the organisation "
                                        "empty.")]
    return errors


def _scope_facts(membership: Membership) -> dict:
    """A membership's role and scope for the audit trail: codes and numbers, no names."""
    return {"role": membership.role, "district": membership.district.number if membership.district else None,
            "organization": str(membership.organization.code) if membership.organization else None}


def _email_in_use(email: str) -> bool:
    users = get_user_model().objects
    return users.filter(Q(email__iexact=email) | Q(username__iexact=email)).exists()


def _invitation_token() -> tuple[str, str]:
    raw = secrets.token_urlsafe(32)
    return raw, token_digest(raw)


@transaction.atomic
def user_invite(*, actor, source: str, email: str, first_name: str, last_name: str, role: str,
                district: District | None = None, organization: Organization | None = None,
                language: str = "en") -> tuple[Invitation, str]:
    """Create a person who cannot sign in yet (no usable password), their membership and an
    invitation; mail the link after the commit. Return the invitation and the raw token.

    The email address, lower-cased, is also the username (people sign in with it). An address
    another account uses, as email or username and in any case, is refused; two administrators
    inviting one address at once meet the username's unique index, and the second is refused too.
    """
    email = (email or "").strip().lower()
    errors = _scope_errors(role=role, district=district, organization=organization)
    try:
        validate_email(email)
    except ValidationError:
        errors["email"] = [_("Enter an email address.")]
    else:
        if len(email) > 150:
            errors["email"] = [_("An address of at most 150 characters, please.")]
        elif _email_in_use(email):
            errors["email"] = [_("Someone already uses this email address.")]
    if language not in dict(settings.LANGUAGES):
        errors["language"] = [_("Choose English or Spanish.")]
    if errors:
        raise ValidationError(errors)
    try:
        with transaction.atomic():
            user = get_user_model().objects.create_user(username=email, email=email, password=None,
                                                        first_name=first_name.strip(), last_name=last_name.strip())
    except IntegrityError:
        raise ValidationError({"email": [_("Someone already uses this email address.")]}) from None
    membership = Membership.objects.create(user=user, role=role, district=district, organization=organization,
                                           language=language, language_chosen=True)
    raw, digest = _invitation_token()
    now = timezone.now()
    invitation = Invitation.objects.create(user=user, token_hash=digest, created_by=actor, sent_at=now,
                                           expires_at=now + timedelta(days=settings.INVITATION_DAYS))
    audit_log(actor=actor, source=source, action="user.invited", obj=membership,
              data={"user": user.pk, **_scope_facts(membership), "language": language})
    transaction.on_commit(lambda: _invitation_email_send(invitation, raw), robust=True)
    return invitation, raw


def _invitation_email_send(invitation: Invitation, raw: str) -> None:
    """The invitation mail, in the language the administrator chose for the person. Sent after
    the commit (`robust`): a mail server that fails leaves the invitation pending, to resend."""
    user = invitation.user
    membership = user.membership
    url = settings.SITE_URL + reverse("districts:invitation_accept", args=[raw])
    with translation.override(membership.language or "en"):
        scope = membership.district.label if membership.district else membership.organization or _("citywide")
        values = {"name": user.first_name or user.username, "username": user.username, "url": url,
                  "role": membership.get_role_display(), "scope": scope, "expires_at": invitation.expires_at}
        subject = " ".join(render_to_string("districts/invitation_email_subject.txt", values).split())
        body = render_to_string("districts/invitation_email.txt", values)
    mailers.default.send_messages([EmailMessage(subject, body, settings.DEFAULT_FROM_EMAIL, [user.email])])


def _pending(invitation: Invitation) -> None:
    if invitation.accepted_at is not None:
        raise ValidationError({"invitation": [_("This invitation was accepted already.")]})


@transaction.atomic
def invitation_resend(*, invitation: Invitation, actor, source: str) -> str:
    """A new link, valid for `INVITATION_DAYS` from now; the previous link stops working."""
    _pending(invitation)
    raw, invitation.token_hash = _invitation_token()
    invitation.sent_at = timezone.now()
    invitation.expires_at = invitation.sent_at + timedelta(days=settings.INVITATION_DAYS)
    invitation.save(update_fields=["token_hash", "sent_at", "expires_at"])
    audit_log(actor=actor, source=source, action="user.invitation_resent", obj=invitation.user.membership,
              data={"user": invitation.user_id})
    transaction.on_commit(lambda: _invitation_email_send(invitation, raw), robust=True)
    return raw


@transaction.atomic
def invitation_cancel(*, invitation: Invitation, actor, source: str) -> None:
    """Withdraw a pending invitation: the account, which never signed in, goes with it (so the
    address can be invited again); the audit trail keeps the invitation's membership code and
    who cancelled it (never the address: audit data carries no personal details)."""
    _pending(invitation)
    user = invitation.user
    audit_log(actor=actor, source=source, action="user.invitation_cancelled", obj=user.membership,
              data={"user": user.pk})
    user.delete()


@transaction.atomic
def invitation_accept(*, invitation: Invitation, password: str, source: str = "web"):
    """Set the invited person's password (already checked by Django's validators) and spend the
    invitation; return the user. The conditional update makes the link single-use even when two
    tabs submit it at once: the second finds nothing to claim."""
    claimed = Invitation.objects.filter(pk=invitation.pk, accepted_at__isnull=True,
                                        expires_at__gt=timezone.now()).update(accepted_at=timezone.now())
    if claimed != 1:
        raise ValidationError({"invitation": [_("This invitation link has expired or was used already.")]})
    user = invitation.user
    user.set_password(password)
    user.save(update_fields=["password"])
    audit_log(actor=user, source=source, action="user.invitation_accepted", obj=user.membership)
    return user


def _oncall_clear(*, user, actor, source: str, organization_id: int | None = None) -> int:
    """Take `user` off on-call rosters (of one organisation, or all); return how many entries.
    Escalation must not page someone who can no longer answer for the organisation."""
    entries = OnCall.objects.filter(user=user).select_related("organization")
    if organization_id is not None:
        entries = entries.filter(organization_id=organization_id)
    removed = 0
    for entry in entries:
        oncall_remove(entry=entry, actor=actor, source=source)
        removed += 1
    return removed


@transaction.atomic
def membership_change(*, membership: Membership, actor, source: str, role: str,
                      district: District | None = None, organization: Organization | None = None) -> Membership:
    """Give a person another role or scope; it applies from their next request. Leaving an
    organisation takes them off its on-call roster. An administrator cannot demote themselves
    (another administrator must), so the portal never loses its last administrator that way."""
    errors = _scope_errors(role=role, district=district, organization=organization)
    if membership.user_id == actor.pk and role != Role.ADMIN:
        errors["role"] = [_("You cannot take away your own administrator role: ask another administrator.")]
    if errors:
        raise ValidationError(errors)
    before = _scope_facts(membership)
    left_organization = membership.organization_id
    membership.role, membership.district, membership.organization = role, district, organization
    membership.save(update_fields=["role", "district", "organization"])
    after = _scope_facts(membership)
    removed = 0
    if left_organization is not None and left_organization != membership.organization_id:
        removed = _oncall_clear(user=membership.user, actor=actor, source=source, organization_id=left_organization)
    if before != after:
        audit_log(actor=actor, source=source, action="membership.changed", obj=membership,
                  data={"user": membership.user_id, "before": before, "after": after, "oncall_removed": removed})
    return membership


@transaction.atomic
def user_deactivate(*, user, actor, source: str) -> dict:
    """Close an account: it cannot sign in, every API token is revoked, every session ends and
    it leaves every on-call roster. Idempotent; return what was ended. Nobody closes their own."""
    if user.pk == actor.pk:
        raise ValidationError({"user": [_("You cannot deactivate your own account: ask another administrator.")]})
    if not user.is_active:
        return {"tokens": 0, "sessions": 0, "oncall": 0}
    user.is_active = False
    user.save(update_fields=["is_active"])
    ended = {"tokens": user_tokens_revoke(user=user, actor=actor, source=source, reason="deactivated"),
             "sessions": user_sessions_end(user=user),
             "oncall": _oncall_clear(user=user, actor=actor, source=source)}
    audit_log(actor=actor, source=source, action="user.deactivated", obj=getattr(user, "membership", None),
              data={"user": user.pk, **ended})
    return ended


def user_reactivate(*, user, actor, source: str) -> None:
    """Open a closed account again (it signs in with its old password; rosters are not restored)."""
    if user.is_active:
        return
    user.is_active = True
    user.save(update_fields=["is_active"])
    audit_log(actor=actor, source=source, action="user.reactivated", obj=getattr(user, "membership", None),
              data={"user": user.pk})
