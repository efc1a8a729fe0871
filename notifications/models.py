import uuid

import pghistory
from django.conf import settings
from django.core.validators import MaxLengthValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from core.models import ChoiceLabels
from districts.models import Beat, Channel, CommunityArea, District, Hospital, Organization
from protocols.models import Playbook


# Change history kept by database triggers (pghistory; PostgreSQL only, see audit/history.py):
# a queryset update() or raw SQL cannot change an incident, a victim or a notification's agreed
# summary without leaving a row in its event table.
@pghistory.track(exclude=["updated_at"])
class Incident(ChoiceLabels):
    """A shooting entered by CPD. Carries the clocks that prove the headline result."""

    class SceneStatus(models.TextChoices):
        ACTIVE = "active", _("Active")
        SECURED = "secured", _("Secured")
        CLEARED = "cleared", _("Cleared")

    class Source(models.TextChoices):
        WEB = "web", _("Web")
        API = "api", _("API")
        IMPORT = "import", _("Historical import")

    class Gathering(models.TextChoices):
        NONE = "", _("No")
        VIGIL = "vigil", _("At a vigil")
        FUNERAL = "funeral", _("At a funeral")

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    rd_number = models.CharField(max_length=12, null=True, blank=True, unique=True)
    occurred_at = models.DateTimeField()
    block = models.CharField(max_length=120)
    latitude = models.FloatField(null=True, blank=True)
    longitude = models.FloatField(null=True, blank=True)
    district = models.ForeignKey(District, on_delete=models.PROTECT, related_name="incidents")
    beat = models.ForeignKey(Beat, null=True, blank=True, on_delete=models.PROTECT, related_name="incidents")
    community_area = models.ForeignKey(
        CommunityArea, null=True, blank=True, on_delete=models.PROTECT, related_name="incidents"
    )
    hospital = models.ForeignKey(Hospital, null=True, blank=True, on_delete=models.PROTECT)
    scene_status = models.CharField(max_length=8, choices=SceneStatus.choices, default=SceneStatus.ACTIVE)
    note = models.TextField(blank=True, validators=[MaxLengthValidator(500)])
    gathering = models.CharField(max_length=8, choices=Gathering.choices, default="", blank=True,
                                 help_text="The shooting happened at a vigil or a funeral.")
    # The scenario playbooks it matched, written with routing when entered or corrected.
    scenarios = models.ManyToManyField(Playbook, blank=True, related_name="incidents")
    source = models.CharField(max_length=8, choices=Source.choices, default=Source.WEB)
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Denormalised from the victims so lists and messages need no join.
    victim_count = models.PositiveSmallIntegerField(default=0)
    fatal_count = models.PositiveSmallIntegerField(default=0)
    # The clocks: occurred → entered → first sent → first confirmed → acknowledged → arrived.
    entered_at = models.DateTimeField(auto_now_add=True)
    first_sent_at = models.DateTimeField(null=True, blank=True)
    first_confirmed_at = models.DateTimeField(null=True, blank=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    arrived_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-occurred_at"]
        indexes = [
            # District board and API list: a district's incidents in a time window.
            models.Index(fields=["district", "occurred_at"], name="incident_district_time"),
            # The monthly review citywide: WHERE occurred_at >= %s AND occurred_at < %s (every district).
            models.Index(fields=["occurred_at"], name="incident_time"),
        ]

    def __str__(self) -> str:
        return f"{self.rd_number or self.code} {self.block}"

    @property
    def scenario_codes(self) -> list[str]:
        """The matched playbooks' codes, most specific first (reads a prefetch when there is one)."""
        return [p.code for p in sorted(self.scenarios.all(), key=lambda p: (p.position, p.code))]


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
class Victim(ChoiceLabels):
    class AgeBand(models.TextChoices):
        UNDER_20 = "0-19", "0–19"
        TWENTIES = "20-29", "20–29"
        THIRTIES = "30-39", "30–39"
        FORTIES = "40-49", "40–49"
        FIFTIES = "50-59", "50–59"
        SIXTY_PLUS = "60+", "60+"
        UNKNOWN = "unknown", _("Unknown")

    class Sex(models.TextChoices):
        MALE = "M", pgettext_lazy("sex", "Male")
        FEMALE = "F", pgettext_lazy("sex", "Female")
        OTHER = "X", "X"
        UNKNOWN = "unknown", pgettext_lazy("sex", "Unknown")

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="victims")
    age_band = models.CharField(max_length=8, choices=AgeBand.choices, default=AgeBand.UNKNOWN)
    sex = models.CharField(max_length=8, choices=Sex.choices, default=Sex.UNKNOWN)
    fatal = models.BooleanField(default=False)
    gunshot = models.BooleanField(default=True)

    class Meta:
        ordering = ["incident", "id"]

    def __str__(self) -> str:
        return f"{self.get_age_band_display()} {self.get_sex_display()}{' (fatal)' if self.fatal else ''}"


@pghistory.track()
class Notification(ChoiceLabels):
    """One organisation told about one incident, and the agreed response summary CPD sees.

    The summary fields (acknowledged, status, arrived, responded, response category) are all
    CPD and analysts ever read of an organisation's response; the organisation-only record
    lives in `responses/` and updates these through a notifications service.
    """

    class Kind(models.TextChoices):
        INCIDENT = "incident", _("Incident")
        DRILL = "drill", _("Drill")

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENT = "sent", _("Sent")
        DELIVERED = "delivered", _("Delivered")
        ACKNOWLEDGED = "acknowledged", _("Acknowledged")
        EN_ROUTE = "en_route", _("En route")
        ON_SCENE = "on_scene", _("On scene")
        AT_HOSPITAL = "at_hospital", _("At hospital")
        UNABLE = "unable", _("Unable to respond")
        FAILED = "failed", _("Failed")

    class UnableReason(models.TextChoices):
        UNSAFE = "unsafe", _("Unsafe")
        SCENE_HELD = "scene_held", _("Scene held by police")
        NO_CAPACITY = "no_capacity", _("No capacity")
        OTHER = "other", _("Other")

    class Relay(models.TextChoices):
        FULL = "full", _("Everything a notification carries")
        LIMITED = "limited", _("Place and number of victims only")

    class ResponseCategory(models.TextChoices):
        SCENE = "scene", _("Scene")
        HOSPITAL = "hospital", _("Hospital")
        FAMILY = "family", _("Family")
        MEDIATION = "mediation", _("Mediation")

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    kind = models.CharField(max_length=8, choices=Kind.choices, default=Kind.INCIDENT)
    incident = models.ForeignKey(
        Incident, null=True, blank=True, on_delete=models.CASCADE, related_name="notifications"
    )
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="notifications")
    reason = models.CharField(max_length=200, blank=True, help_text="Which coverage rule routed it.")
    # What CPD relays to this organisation: a victim-services partner hears only the place and
    # the number of victims (CPD's own policy); pages, messages and the API read only that.
    relay = models.CharField(max_length=8, choices=Relay.choices, default=Relay.FULL)
    created_at = models.DateTimeField(auto_now_add=True)
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # --- the agreed summary -----------------------------------------------------------
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    status_at = models.DateTimeField(null=True, blank=True)
    unable_reason = models.CharField(max_length=16, choices=UnableReason.choices, blank=True)
    first_sent_at = models.DateTimeField(null=True, blank=True)
    first_confirmed_at = models.DateTimeField(null=True, blank=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    acknowledged_via = models.CharField(max_length=8, blank=True, help_text="link, sms, app or api")
    arrived_at = models.DateTimeField(null=True, blank=True)
    responded = models.BooleanField(default=False)
    response_category = models.CharField(max_length=12, choices=ResponseCategory.choices, blank=True)
    # --- escalation timer: the next step is due at this time unless acknowledged --------
    escalation_level = models.PositiveSmallIntegerField(default=0)  # steps taken, paged or not
    # The highest step at which somebody was actually paged (0: nobody). A step whose roster
    # tier is empty is still taken, on schedule, but pages nobody: pages say so, not "escalated".
    escalation_paged_level = models.PositiveSmallIntegerField(default=0)
    next_escalation_at = models.DateTimeField(null=True, blank=True)
    # Demo history only: the clocks were drawn from stated distributions (notifications/history.py),
    # not recorded. Every figure built on them says so.
    simulated = models.BooleanField(default=False)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["incident", "organization"], name="notification_once_per_org",
                condition=Q(incident__isnull=False),
            ),
        ]
        indexes = [
            # The escalation sweep: due timers only.
            models.Index(fields=["next_escalation_at"], name="notification_escalation_due",
                         condition=Q(next_escalation_at__isnull=False)),
            # An organisation's feed, newest first.
            models.Index(fields=["organization", "created_at"], name="notification_org_feed"),
        ]

    def __str__(self) -> str:
        return f"{self.organization} ← {self.incident or 'drill'}"


class Delivery(ChoiceLabels):
    """One message to one recipient on one channel: the delivery log and the outbox.

    The relay claims rows whose `status` is queued and whose `next_attempt_at` is due; the
    task claims a row by moving it to sending with a conditional update, so a duplicate
    Celery message finds nothing to do.
    """

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")
        DELIVERED = "delivered", _("Delivered")
        FAILED = "failed", _("Failed, will retry")
        DEAD = "dead", _("Dead")
        CANCELLED = "cancelled", _("Cancelled")

    class Purpose(models.TextChoices):
        NOTIFY = "notify", _("New incident")
        UPDATE = "update", _("Correction")
        ESCALATION = "escalation", _("Escalation")
        FALLBACK = "fallback", _("Fallback")
        DRILL = "drill", _("Drill")
        REMINDER = "reminder", _("Follow-up reminder")

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    notification = models.ForeignKey(
        Notification, null=True, blank=True, on_delete=models.CASCADE, related_name="deliveries"
    )
    channel = models.ForeignKey(Channel, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="deliveries"
    )
    kind = models.CharField(max_length=8, choices=Channel.Kind.choices)
    purpose = models.CharField(max_length=12, choices=Purpose.choices, default=Purpose.NOTIFY)
    target = models.CharField(max_length=500, blank=True)
    payload = models.JSONField(default=dict, blank=True, help_text="Codes and message kind; never names.")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    attempts = models.PositiveSmallIntegerField(default=0)
    max_attempts = models.PositiveSmallIntegerField(default=5)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    read_at = models.DateTimeField(null=True, blank=True, help_text="In-app: when the recipient opened it.")
    provider_id = models.CharField(max_length=128, blank=True, db_index=True)
    last_error = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name_plural = "deliveries"
        indexes = [
            # The relay: due rows of one status, oldest first.
            models.Index(fields=["status", "next_attempt_at"], name="delivery_due"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.target} ({self.status})"


class TimelineEntry(models.Model):
    """One line on an incident's timeline: entered, sent, delivered, acknowledged, arrived."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="timeline")
    notification = models.ForeignKey(Notification, null=True, blank=True, on_delete=models.CASCADE)
    delivery = models.ForeignKey(Delivery, null=True, blank=True, on_delete=models.CASCADE)
    at = models.DateTimeField()
    kind = models.CharField(max_length=40, help_text="dotted code, e.g. delivery.sent")
    text = models.CharField(max_length=300)

    class Meta:
        ordering = ["at", "id"]
        verbose_name_plural = "timeline entries"
        indexes = [models.Index(fields=["incident", "at"], name="timeline_incident_at")]

    def __str__(self) -> str:
        return f"{self.at:%H:%M:%S} {self.text}"


class FiguresStamp(models.Model):
    """That something the monthly figures count changed in one district's month (Chicago time):
    an incident entered or corrected, a send, an acknowledgement, a status, a response, a page.
    Written by those services (notifications.stamps); the reviews app compares a stored month's
    stamps with the ones it was computed from instead of re-aggregating the month."""

    month = models.DateField(help_text="The first day of the month the incident occurred in, Chicago time.")
    district = models.ForeignKey(District, on_delete=models.CASCADE, related_name="+")
    token = models.CharField(max_length=32)
    changed_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["month", "district"], name="figures_stamp_month_district")]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} district {self.district_id}: {self.token}"
