"""The organisation-only record of a response. Nothing here is ever shown to CPD or analysts.

What CPD sees (responded, arrival, coarse category) is written onto the Notification by
`notifications.summary` when a log is saved; these tables stay inside the organisation.
"""

import uuid

from django.conf import settings
from django.core.validators import MaxLengthValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from core.models import ChoiceLabels
from districts.models import Organization
from notifications.models import Notification

NOTES_MAX = 2000


class ResponseType(models.TextChoices):
    SCENE = "scene", _("Scene")
    HOSPITAL = "hospital", _("Hospital")
    FAMILY = "family", _("Family")
    MEDIATION = "mediation", _("Mediation")
    VIGIL = "vigil", _("Vigil")
    CANVASS = "canvass", _("Canvass")


class RetaliationRisk(models.TextChoices):
    NONE = "none", _("None")
    LOW = "low", _("Low")
    MEDIUM = "medium", _("Medium")
    HIGH = "high", _("High")
    UNKNOWN = "unknown", _("Unknown")


class EngagedRole(models.TextChoices):
    """People engaged are counted by role; the portal keeps no names."""

    VICTIM = "victim", _("Victims")
    FAMILY = "family", _("Family members")
    PEERS = "peers", _("Friends and peers")
    COMMUNITY = "community", _("Neighbours and community")
    YOUTH = "youth", _("Young people at risk")


class ResponseLog(ChoiceLabels):
    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    notification = models.ForeignKey(Notification, on_delete=models.PROTECT, related_name="response_logs")
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="response_logs")
    # Made on the phone before sending: a replayed offline submission finds the first one.
    client_key = models.UUIDField(unique=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    source = models.CharField(max_length=8, default="web")
    arrived_at = models.DateTimeField(null=True, blank=True)
    # A list of ResponseType values (JSON so the embedded SQLite default works too).
    response_types = models.JSONField(default=list, blank=True)
    # {EngagedRole value: count}; counts only.
    people_engaged = models.JSONField(default=dict, blank=True)
    retaliation_risk = models.CharField(max_length=8, choices=RetaliationRisk.choices, default=RetaliationRisk.UNKNOWN)
    follow_up_on = models.DateField(null=True, blank=True)
    notes = models.TextField(blank=True, validators=[MaxLengthValidator(NOTES_MAX)])

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            # The organisation's responses by month (the API list and the team page).
            models.Index(fields=["organization", "created_at"], name="response_org_time"),
        ]

    def __str__(self) -> str:
        return f"Response {self.code} to {self.notification_id}"

    @property
    def people_engaged_total(self) -> int:
        return sum(self.people_engaged.values())

    def get_response_types_display(self) -> list[str]:
        return [ResponseType(t).label for t in self.response_types if t in ResponseType.values]


class Referral(ChoiceLabels):
    class Kind(models.TextChoices):
        TRAUMA = "trauma", _("Trauma support")
        HOUSING = "housing", _("Housing")
        RELOCATION = "relocation", _("Relocation")
        LEGAL = "legal", _("Legal")
        FUNERAL = "funeral", _("Funeral assistance")
        EMPLOYMENT = "employment", _("Employment")
        MEDICAL = "medical", _("Medical")
        OTHER = "other", _("Other")

    response = models.ForeignKey(ResponseLog, on_delete=models.CASCADE, related_name="referrals")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    count = models.PositiveSmallIntegerField(default=1)

    class Meta:
        ordering = ["response", "kind"]
        constraints = [
            models.UniqueConstraint(fields=["response", "kind"], name="referral_once_per_kind"),
            models.CheckConstraint(name="referral_count_not_negative", condition=Q(count__gte=0)),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} × {self.count}"


class FollowUp(models.Model):
    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="follow_ups")
    notification = models.ForeignKey(Notification, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    response = models.ForeignKey(ResponseLog, null=True, blank=True, on_delete=models.CASCADE,
                                 related_name="follow_ups")
    task = models.CharField(max_length=200)
    due_on = models.DateField()
    assigned_to = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="follow_ups")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    done_at = models.DateTimeField(null=True, blank=True)
    # Set once by the reminder sweep when it claims the row: a second sweep skips it.
    reminded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["due_on", "id"]
        indexes = [
            # "My follow-ups": a worker's open tasks by due date.
            models.Index(fields=["assigned_to", "due_on"], name="followup_mine", condition=Q(done_at__isnull=True)),
            # The reminder sweep: open, unreminded tasks that are due.
            models.Index(fields=["due_on"], name="followup_due",
                          condition=Q(done_at__isnull=True, reminded_at__isnull=True)),
        ]

    def __str__(self) -> str:
        return f"{self.task} (due {self.due_on})"

    @property
    def is_done(self) -> bool:
        return self.done_at is not None
