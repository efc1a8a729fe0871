import base64
import secrets
import uuid

import pghistory
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from core.models import ChoiceLabels

from .validators import push_endpoint_validate, webhook_url_validate

district_number = RegexValidator(r"^\d{3}$", "A district is three digits, e.g. 007.")
beat_number = RegexValidator(r"^\d{4}$", "A beat is four digits, e.g. 0714.")


def webhook_secret_new() -> str:
    """A Standard Webhooks signing secret: `whsec_` and 24 random bytes in base64."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


def normalise_district(value, *, spreadsheet: bool = False) -> str:
    """`7`, `"7"`, `"07"`, `"007"` → `"007"`; anything else raises ValueError.

    `spreadsheet=True` (the data loaders) also takes a whole number written as a float, `7.0` or
    `"7.0"`, as a spreadsheet or pandas column writes it; people and the API may not.
    """
    if isinstance(value, bool):
        raise ValueError
    if spreadsheet and isinstance(value, float) and value.is_integer():
        value = int(value)
    elif spreadsheet and isinstance(value, str) and value.strip().endswith(".0"):
        value = value.strip().removesuffix(".0")
    if isinstance(value, int):
        text = str(value)
    elif isinstance(value, str):
        text = value.strip()
    else:
        raise ValueError
    if not text.isascii() or not text.isdigit() or not 1 <= len(text) <= 3:
        raise ValueError
    return text.zfill(3)


class District(models.Model):
    """A CPD police district. `boundary` is a GeoJSON geometry in WGS84."""

    number = models.CharField(max_length=3, unique=True, validators=[district_number])
    name = models.CharField(max_length=64)
    station_address = models.CharField(max_length=200, blank=True)
    station_phone = models.CharField(max_length=32, blank=True)
    boundary = models.JSONField(null=True, blank=True)
    is_pilot = models.BooleanField(default=False, help_text="The protocol runs in this district.")

    class Meta:
        ordering = ["number"]

    def __str__(self) -> str:
        return f"{self.number} {self.name}"

    @property
    def label(self) -> str:
        """"District 7 (Englewood)", in the active language."""
        return _("District %(number)s (%(name)s)") % {"number": int(self.number), "name": self.name}


class Beat(models.Model):
    number = models.CharField(max_length=4, unique=True, validators=[beat_number])
    district = models.ForeignKey(District, on_delete=models.PROTECT, related_name="beats")
    sector = models.CharField(max_length=2, blank=True)
    boundary = models.JSONField(null=True, blank=True)

    class Meta:
        ordering = ["number"]

    def __str__(self) -> str:
        return self.number


class CommunityArea(models.Model):
    number = models.PositiveSmallIntegerField(
        unique=True, validators=[MinValueValidator(1), MaxValueValidator(77)]
    )
    name = models.CharField(max_length=64)
    boundary = models.JSONField(null=True, blank=True)

    class Meta:
        ordering = ["number"]

    def __str__(self) -> str:
        return f"{self.number} {self.name.title()}"

    @property
    def display_name(self) -> str:
        return self.name.title()


class Hospital(models.Model):
    code = models.CharField(max_length=16, unique=True)
    name = models.CharField(max_length=120)
    area = models.CharField(max_length=64, blank=True)
    adult_trauma_level = models.CharField(max_length=4, blank=True)
    pediatric_trauma_level = models.CharField(max_length=4, blank=True)
    violence_intervention = models.CharField(max_length=300, blank=True)
    # The hospital's violence-intervention programme as a partner organisation, where one is
    # recorded: a victim taken here notifies it (the hospital playbook).
    violence_programme = models.ForeignKey(
        "Organization", null=True, blank=True, on_delete=models.SET_NULL, related_name="hospitals_served",
    )
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Organization(ChoiceLabels):
    class PartnerType(models.TextChoices):
        STREET_OUTREACH = "street_outreach", _("Street outreach")
        HOSPITAL = "hospital", _("Hospital violence intervention")
        VICTIM_SERVICES = "victim_services", _("Victim services")
        CITY_STAFF = "city_staff", _("City staff")

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(max_length=120, unique=True)
    short_name = models.CharField(max_length=40, blank=True)
    partner_type = models.CharField(
        max_length=20, choices=PartnerType.choices, default=PartnerType.STREET_OUTREACH
    )
    active = models.BooleanField(default=True)
    signed_understanding = models.BooleanField(
        default=False, help_text="Signed the CPD–CVI Professional Understanding."
    )
    signed_on = models.DateField(null=True, blank=True)
    phone = models.CharField(max_length=32, blank=True)
    email = models.EmailField(blank=True)
    # The organisation's liaison contact for CPD (rules of engagement: they speak to the district
    # commander the same day when something goes wrong). Shown in the organisation directory.
    liaison_name = models.CharField(max_length=120, blank=True)
    liaison_title = models.CharField(max_length=120, blank=True)
    liaison_phone = models.CharField(max_length=32, blank=True)
    liaison_email = models.EmailField(blank=True)
    # Escalation policy: minutes without acknowledgement before each step.
    ack_window_minutes = models.PositiveSmallIntegerField(default=10)
    # Consent: which optional fields of the agreed summary CPD and analysts may see.
    share_arrival = models.BooleanField(default=True)
    share_response_category = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.short_name or self.name


class Coverage(ChoiceLabels):
    """One place an organisation covers: a community area, a beat or a whole district."""

    class Kind(models.TextChoices):
        COMMUNITY_AREA = "community_area", _("Community area")
        BEAT = "beat", _("Beat")
        DISTRICT = "district", _("District")

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="coverage")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    community_area = models.ForeignKey(CommunityArea, null=True, blank=True, on_delete=models.CASCADE)
    beat = models.ForeignKey(Beat, null=True, blank=True, on_delete=models.CASCADE)
    district = models.ForeignKey(District, null=True, blank=True, on_delete=models.CASCADE)
    note = models.CharField(max_length=200, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                name="coverage_exactly_one_place",
                condition=(
                    Q(kind="community_area", community_area__isnull=False, beat__isnull=True, district__isnull=True)
                    | Q(kind="beat", beat__isnull=False, community_area__isnull=True, district__isnull=True)
                    | Q(kind="district", district__isnull=False, community_area__isnull=True, beat__isnull=True)
                ),
            ),
            models.UniqueConstraint(
                fields=["organization", "community_area"], name="coverage_unique_area",
                condition=Q(community_area__isnull=False),
            ),
            models.UniqueConstraint(
                fields=["organization", "beat"], name="coverage_unique_beat", condition=Q(beat__isnull=False)
            ),
            models.UniqueConstraint(
                fields=["organization", "district"], name="coverage_unique_district",
                condition=Q(district__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.organization}: {self.place}"

    @property
    def place(self):
        return self.community_area or self.beat or self.district


class Role(models.TextChoices):
    CPD_STAFF = "cpd_staff", _("CPD district staff")
    CPD_COMMANDER = "cpd_commander", _("District commander")
    OUTREACH_WORKER = "outreach_worker", _("Outreach worker")
    OUTREACH_SUPERVISOR = "outreach_supervisor", _("Outreach supervisor")
    ANALYST = "analyst", _("CSCC analyst")
    ADMIN = "admin", _("Portal administrator")


CPD_ROLES = {Role.CPD_STAFF, Role.CPD_COMMANDER}
OUTREACH_ROLES = {Role.OUTREACH_WORKER, Role.OUTREACH_SUPERVISOR}


# Role changes are kept by a database trigger (pghistory, PostgreSQL only): a bulk update or a
# console cannot change a role without leaving a row. The phone number is not copied.
@pghistory.track(fields=["user", "role", "district", "organization"], model_name="MembershipEvent")
class Membership(ChoiceLabels):
    """A user's place in the protocol: a role, and the district or organisation it is held in."""

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="membership")
    role = models.CharField(max_length=24, choices=Role.choices)
    district = models.ForeignKey(District, null=True, blank=True, on_delete=models.PROTECT, related_name="staff")
    organization = models.ForeignKey(
        Organization, null=True, blank=True, on_delete=models.PROTECT, related_name="members"
    )
    phone = models.CharField(max_length=32, blank=True, help_text="E.164, e.g. +13125550100")
    language = models.CharField(max_length=5, choices=settings.LANGUAGES, default="en")
    # Whether the member (or the administrator inviting them) chose `language`: then it is the
    # language of every page; until then pages follow the browser, and messages use `language`.
    language_chosen = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.CheckConstraint(
                name="membership_scope_matches_role",
                condition=(
                    Q(role__in=["cpd_staff", "cpd_commander"], district__isnull=False, organization__isnull=True)
                    | Q(role__in=["outreach_worker", "outreach_supervisor"], organization__isnull=False,
                        district__isnull=True)
                    | Q(role__in=["analyst", "admin"], organization__isnull=True, district__isnull=True)
                ),
            ),
        ]

    def __str__(self) -> str:
        scope = self.district or self.organization or "citywide"
        return f"{self.user} — {self.get_role_display()} ({scope})"

    @property
    def is_cpd(self) -> bool:
        return self.role in CPD_ROLES

    @property
    def is_outreach(self) -> bool:
        return self.role in OUTREACH_ROLES


class Channel(ChoiceLabels):
    """Where an organisation or one of its members is reached.

    A shared channel (no `user`) belongs to the organisation: its phone tree, email list or
    webhook. A personal channel belongs to one member: their phone for SMS, their email,
    a browser's web push subscription (`config` holds the subscription keys).
    """

    class Kind(models.TextChoices):
        IN_APP = "in_app", _("In-app")
        EMAIL = "email", _("Email")
        SMS = "sms", _("SMS")
        PUSH = "push", _("Web push")
        WEBHOOK = "webhook", _("Webhook")

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="channels")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="channels"
    )
    kind = models.CharField(max_length=8, choices=Kind.choices)
    target = models.CharField(max_length=500, help_text="Phone number, email address or URL.")
    config = models.JSONField(default=dict, blank=True)
    secret = models.CharField(max_length=80, blank=True, help_text="Webhook signing secret (whsec_…).")
    is_fallback = models.BooleanField(default=False, help_text="Tried when a delivery on another channel dies.")
    active = models.BooleanField(default=True)
    last_drill_at = models.DateTimeField(null=True, blank=True)
    last_drill_ok = models.BooleanField(null=True, blank=True)

    class Meta:
        ordering = ["organization", "kind", "id"]

    def __str__(self) -> str:
        owner = self.user or self.organization
        return f"{self.get_kind_display()} → {owner}"

    @property
    def is_stale(self) -> bool:
        """The channel failed its last drill."""
        return self.last_drill_ok is False

    def clean(self) -> None:
        """A webhook must point at a public address (or an allow-listed host) and gets a signing
        secret; a push endpoint must be one of the browsers' push services."""
        if self.kind == self.Kind.PUSH:
            try:
                push_endpoint_validate(self.target)
            except ValidationError as exc:
                raise ValidationError({"target": exc.messages}) from None
        if self.kind == self.Kind.WEBHOOK:
            try:
                webhook_url_validate(self.target)
            except ValidationError as exc:
                raise ValidationError({"target": exc.messages}) from None
            if not self.secret:
                self.secret = webhook_secret_new()
            elif not self.secret.startswith("whsec_"):
                raise ValidationError({"secret": "A signing secret starts with whsec_ (leave empty to generate one)."})


class OnCall(ChoiceLabels):
    """The on-call roster: who is paged first, who is the backup, who supervises.

    A row with no `weekday` applies every day; `starts`/`ends` in Chicago local time, an
    empty pair meaning all day. Escalation pages tier by tier.
    """

    class Tier(models.IntegerChoices):
        PRIMARY = 1, _("On call")
        BACKUP = 2, _("Backup")
        SUPERVISOR = 3, _("Supervisor")

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="on_call")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="on_call")
    tier = models.PositiveSmallIntegerField(choices=Tier.choices, default=Tier.PRIMARY)
    weekday = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MaxValueValidator(6)], help_text="0 = Monday; empty = every day"
    )
    starts = models.TimeField(null=True, blank=True)
    ends = models.TimeField(null=True, blank=True)

    class Meta:
        ordering = ["organization", "tier", "weekday", "starts"]
        verbose_name = "on-call entry"
        verbose_name_plural = "on-call roster"

    def __str__(self) -> str:
        return f"{self.organization}: {self.user} ({self.get_tier_display()})"


class IntegrationToken(models.Model):
    """A named credential for another system (a CPD records feed, an organisation's case tool).

    The raw token is shown once, when an administrator creates it; only its SHA-256 is stored.
    It acts as its own service account `user` (no membership: it is nobody's colleague) with
    the scope of CPD staff of its district or a worker of its organisation
    (`districts.api_auth.token_scope`), so every queryset is scoped by the same access helpers
    as a person's, and `operations` narrows further what it may call.
    """

    class Operation(models.TextChoices):
        INCIDENTS_READ = "incidents:read", _("Read incidents")
        INCIDENTS_WRITE = "incidents:write", _("Create and correct incidents")
        NOTIFICATIONS_READ = "notifications:read", _("Read notifications")
        NOTIFICATIONS_WRITE = "notifications:write", _("Acknowledge and update notifications")
        RESPONSES_READ = "responses:read", _("Read the organisation's responses")
        RESPONSES_WRITE = "responses:write", _("Log responses")
        REFERENCE_READ = "reference:read", _("Read reference data")

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(max_length=100, help_text="What uses it, e.g. “CPD CLEAR feed, 7th District”.")
    key_prefix = models.CharField(max_length=12, editable=False, help_text="The first characters, to recognise it.")
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="integration_token", editable=False
    )
    organization = models.ForeignKey(
        Organization, null=True, blank=True, on_delete=models.CASCADE, related_name="integration_tokens"
    )
    district = models.ForeignKey(
        District, null=True, blank=True, on_delete=models.CASCADE, related_name="integration_tokens"
    )
    operations = models.JSONField(default=list, help_text="Operation codes the token may call.")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                name="integration_token_one_scope",
                condition=(
                    Q(organization__isnull=False, district__isnull=True)
                    | Q(organization__isnull=True, district__isnull=False)
                ),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.key_prefix}…)"

    @property
    def scope_label(self) -> str:
        return str(self.organization or self.district)


class UserToken(models.Model):
    """A person's API token (`POST /api/v1/auth/token/`), stored like an integration token.

    Only the SHA-256 of the raw key is kept; the raw key is in the one response that issues it.
    It stops working when it expires (`USER_TOKEN_LIFETIME_DAYS`), when it is revoked (log out
    everywhere), when the user is deactivated, and when the password changes: `password_stamp`
    is the user's session hash at issue time, the same check that ends Django's sessions.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    key_prefix = models.CharField(max_length=12, editable=False, help_text="The first characters, to recognise it.")
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    password_stamp = models.CharField(max_length=128, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            # "Revoke every live token of this user" (log out everywhere) and the account page's count.
            models.Index(fields=["user", "revoked_at"], name="usertoken_user_live"),
        ]

    def __str__(self) -> str:
        return f"{self.user} ({self.key_prefix}…)"


class Invitation(models.Model):
    """An invitation to set a password and join the portal, sent by an administrator.

    A row per invitation rather than Django's stateless password-reset tokens: the
    administrator's Users page needs a "pending" state to show, a resend must kill the previous
    link (a new token replaces the stored hash) and a cancel must be explicit, and the link
    keeps its own expiry (`INVITATION_DAYS`) apart from the reset link's. As with API tokens,
    only the SHA-256 of the raw token is stored; the raw token is in the one mail that carries it.
    """

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="invitation")
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL,
                                   related_name="+")
    sent_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-sent_at"]

    def __str__(self) -> str:
        return f"{self.user} ({'accepted' if self.accepted_at else 'pending'})"

    @property
    def is_pending(self) -> bool:
        return self.accepted_at is None
