import uuid

from django.conf import settings
from django.db import models


class Source(models.TextChoices):
    WEB = "web", "Web"
    PHONE = "phone", "Phone"
    API = "api", "API"
    SYSTEM = "system", "System"


class AppendOnlyError(Exception):
    """Audit events are written once and never changed or deleted."""


class Event(models.Model):
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


class RefusalCount(models.Model):
    """Refused requests from anonymous callers, counted per hour instead of one event each.

    Anyone can send junk to an unauthenticated endpoint (a forged acknowledgement link, an
    unsigned SMS callback) as fast as they like; one event per request would let them flood the
    trail. A signed-in caller's refusal and every real use stay events of their own.
    """

    hour = models.DateTimeField(help_text="the start of the hour (UTC) the refusals fell in")
    action = models.CharField(max_length=64, help_text="dotted code, e.g. notification.ack_refused")
    reason = models.CharField(max_length=32, blank=True)
    count = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-hour", "action", "reason"]
        constraints = [
            # One counter per hour, action and reason; refusal_count() increments it.
            models.UniqueConstraint(fields=["hour", "action", "reason"], name="audit_refusal_count_hour_action"),
        ]

    def __str__(self) -> str:
        return f"{self.hour:%Y-%m-%d %H:00} {self.action} {self.reason}: {self.count}"
