"""Protocol documents: the Professional Understanding's texts, each published version kept.

A document (`ProtocolDocument`) has numbered versions. Version N exists first in English, the
reference text; a Spanish translation of N is another row with the same number. Rows are never
edited: a change is a new version, so what a person signed can always be shown again.
"""

import uuid

from django.conf import settings
from django.core.validators import MaxLengthValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from core.models import ChoiceLabels


class ProtocolDocument(ChoiceLabels):
    class Kind(models.TextChoices):
        COMMON_VISION = "common_vision", _("Common vision")
        NOTIFICATION_PROTOCOL = "notification_protocol", _("Notification protocol")
        RULES_OF_ENGAGEMENT = "rules_of_engagement", _("Rules of engagement")
        COMMUNICATION_GUIDANCE = "communication_guidance", _("Communication guidance")
        OTHER = "other", _("Other document")

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    slug = models.SlugField(max_length=60, unique=True, help_text="Its address, e.g. rules-of-engagement.")
    kind = models.CharField(max_length=24, choices=Kind.choices, default=Kind.OTHER)
    position = models.PositiveSmallIntegerField(default=100, help_text="Order in the list of documents.")
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")

    class Meta:
        ordering = ["position", "slug"]

    def __str__(self) -> str:
        return self.slug


class ProtocolVersion(ChoiceLabels):
    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    document = models.ForeignKey(ProtocolDocument, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    language = models.CharField(max_length=5, choices=settings.LANGUAGES, default="en")
    title = models.CharField(max_length=200)
    body = models.TextField(validators=[MaxLengthValidator(100_000)], help_text="Markdown; raw HTML is not allowed.")
    effective_on = models.DateField(help_text="The day this version takes effect.")
    change_note = models.CharField(max_length=300, blank=True, help_text="What changed, in a sentence.")
    published_at = models.DateTimeField(auto_now_add=True)
    published_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="+")

    class Meta:
        ordering = ["document", "-number", "language"]
        constraints = [
            models.UniqueConstraint(fields=["document", "number", "language"], name="protocol_version_once"),
        ]
        indexes = [
            # The current version of a document in a language: WHERE document_id = %s ORDER BY number DESC.
            models.Index(fields=["document", "-number"], name="protocol_version_latest"),
        ]

    def __str__(self) -> str:
        return f"{self.document.slug} v{self.number} ({self.language})"

    def save(self, *args, **kwargs):
        # What someone signed must stay what they read: a change is a new version, never an edit.
        if not self._state.adding:
            raise ValueError("A published protocol version is never changed; publish a new version.")
        super().save(*args, **kwargs)


class ProtocolAcknowledgement(ChoiceLabels):
    """A person's signature: they read version `number` of the document (in `language`)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="protocol_acks")
    document = models.ForeignKey(ProtocolDocument, on_delete=models.CASCADE, related_name="acknowledgements")
    number = models.PositiveIntegerField()
    language = models.CharField(max_length=5, choices=settings.LANGUAGES, default="en")
    acknowledged_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-acknowledged_at"]
        constraints = [
            models.UniqueConstraint(fields=["user", "document", "number"], name="protocol_ack_once"),
        ]

    def __str__(self) -> str:
        return f"{self.user} signed {self.document.slug} v{self.number}"


class ProtocolNotice(models.Model):
    """An in-app reminder: a document this person signed has a new version to re-acknowledge.

    Resolved when they acknowledge that version (or a later one)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="protocol_notices")
    document = models.ForeignKey(ProtocolDocument, on_delete=models.CASCADE, related_name="notices")
    number = models.PositiveIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["user", "document", "number"], name="protocol_notice_once"),
        ]
        indexes = [
            # A member's open reminders on their home page: WHERE user_id = %s AND resolved_at IS NULL.
            models.Index(fields=["user", "resolved_at"], name="protocol_notice_open"),
        ]

    def __str__(self) -> str:
        return f"{self.user}: {self.document.slug} v{self.number} to re-acknowledge"
