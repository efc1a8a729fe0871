import uuid

import pghistory
from django.conf import settings
from django.contrib.auth.models import User
from django.db import models

from core.models import ChoiceLabels


class Source(models.TextChoices):
    WEB = "web", "Web"
    PHONE = "phone", "Phone"
    API = "api", "API"
    SYSTEM = "system", "System"


class AppendOnlyError(Exception):
    """Audit events are written once and never changed or deleted."""


class Event(ChoiceLabels):
    """One state change or one view of something sensitive: who, from where, what.

    `data` carries codes and counts, never personal details (no names, no notes).
    """

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    at = models.DateTimeField(auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    source = models.CharField(max_length=8, choices=Source.choices)
    action = models.CharField(max_length=64, help_text="dotted code, e.g. incident.created")
    object_type = models.CharField(max_length=64, blank=True)
    object_code = models.CharField(max_length=64, blank=True)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [
            # The object's history: events for one incident or notification, newest first.
            models.Index(fields=["object_type", "object_code", "at"], name="audit_object_at"),
            # "Who viewed our responses": one action over time.
            models.Index(fields=["action", "at"], name="audit_action_at"),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.action} {self.object_type}:{self.object_code}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise AppendOnlyError("audit events cannot be changed")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("audit events cannot be deleted")


class Access(ChoiceLabels):
    """Who viewed what, counted per user, page, object, organisation and hour.

    One row per (actor, action, object, organisation, hour) however often the page was opened
    or polled: the incident page and the board refresh every few seconds, and a row per poll
    would flood the table. `organization_code` names the organisation whose records (agreed
    summary, responses) the page showed, so each organisation can read its own access log.
    """

    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    role = models.CharField(max_length=24, blank=True)
    source = models.CharField(max_length=8, choices=Source.choices)
    action = models.CharField(max_length=64, help_text="dotted code, e.g. incident.viewed")
    object_type = models.CharField(max_length=64, blank=True)
    object_code = models.CharField(max_length=64, blank=True)
    organization_code = models.CharField(max_length=64, blank=True)
    hour = models.DateTimeField(help_text="The hour (UTC) the views fall in.")
    count = models.PositiveIntegerField(default=1)
    first_at = models.DateTimeField()
    last_at = models.DateTimeField()

    class Meta:
        ordering = ["-last_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["actor", "action", "object_type", "object_code", "organization_code", "hour"],
                name="access_once_per_hour",
            ),
        ]
        indexes = [
            # An organisation's access log, newest first.
            models.Index(fields=["organization_code", "last_at"], name="access_org_time"),
            # The retention purge and "who viewed this incident": by object.
            models.Index(fields=["object_type", "object_code"], name="access_object"),
        ]

    def __str__(self) -> str:
        return f"{self.hour:%Y-%m-%d %H}h {self.action} {self.object_type}:{self.object_code} ×{self.count}"


class Refusal(ChoiceLabels):
    """Refusals of anonymous callers, counted per action, reason and hour, never a row per attempt.

    An anonymous caller can repeat a request for free; one row each would let anybody fill the
    audit trail (a brute force, junk acknowledgement links, forged SMS callbacks).
    """

    action = models.CharField(max_length=64, help_text="dotted code, e.g. login.failed")
    reason = models.CharField(max_length=64, blank=True)
    source = models.CharField(max_length=8, choices=Source.choices)
    hour = models.DateTimeField(help_text="The hour (UTC) the refusals fall in.")
    count = models.PositiveIntegerField(default=1)
    last_at = models.DateTimeField()

    class Meta:
        ordering = ["-hour", "action"]
        constraints = [
            models.UniqueConstraint(fields=["action", "reason", "source", "hour"], name="refusal_once_per_hour"),
        ]

    def __str__(self) -> str:
        return f"{self.hour:%Y-%m-%d %H}h {self.action} ({self.reason}) ×{self.count}"


# Users' rights and activation kept by a database trigger (pghistory, PostgreSQL only): who was
# made staff or superuser, or deactivated, even by a bulk update. Passwords, emails and names
# are not copied. Tracked through a proxy so the triggers live in audit's migrations, not in
# Django's own auth app (pghistory's way for a model the project does not own).
@pghistory.track(
    pghistory.InsertEvent(), pghistory.UpdateEvent(),
    fields=["username", "is_active", "is_staff", "is_superuser"], model_name="UserEvent",
)
class TrackedUser(User):
    class Meta:
        proxy = True


UserEvent = TrackedUser.pgh_event_model
