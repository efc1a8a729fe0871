"""Onboarding pathways: one per role, made of steps a new member completes, then signs off.

Steps are read a protocol version, meet the district's organisations (the directory), sit in a
monthly review (done when the member is recorded present at one, by `reviews`), and a short
knowledge check. Seeded text comes in English and Spanish (`title` / `title_es`).
"""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from core.models import ChoiceLabels
from districts.models import Role

from .models_documents import ProtocolDocument


def _in_language(english: str, spanish: str) -> str:
    return spanish if spanish and (get_language() or "en").startswith("es") else english


class Pathway(ChoiceLabels):
    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    role = models.CharField(max_length=24, choices=Role.choices, unique=True)
    title = models.CharField(max_length=120)
    title_es = models.CharField(max_length=120, blank=True)
    intro = models.TextField(blank=True)
    intro_es = models.TextField(blank=True)

    class Meta:
        ordering = ["role"]

    def __str__(self) -> str:
        return self.title

    @property
    def label(self) -> str:
        return _in_language(self.title, self.title_es)

    @property
    def intro_text(self) -> str:
        return _in_language(self.intro, self.intro_es)


class PathwayStep(ChoiceLabels):
    class Kind(models.TextChoices):
        READ_PROTOCOL = "read_protocol", _("Read a protocol")
        MEET_ORGANIZATIONS = "meet_organizations", _("Meet the district's organisations")
        ATTEND_REVIEW = "attend_review", _("Sit in a monthly review")
        KNOWLEDGE_CHECK = "knowledge_check", _("Knowledge check")

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    pathway = models.ForeignKey(Pathway, on_delete=models.CASCADE, related_name="steps")
    position = models.PositiveSmallIntegerField()
    kind = models.CharField(max_length=20, choices=Kind.choices)
    document = models.ForeignKey(ProtocolDocument, null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="+")
    title = models.CharField(max_length=160)
    title_es = models.CharField(max_length=160, blank=True)

    class Meta:
        ordering = ["pathway", "position"]
        constraints = [
            models.UniqueConstraint(fields=["pathway", "position"], name="pathway_step_position_once"),
            models.CheckConstraint(
                name="pathway_step_document_for_reading",
                condition=Q(kind="read_protocol", document__isnull=False) | ~Q(kind="read_protocol"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.pathway}: {self.position}. {self.title}"

    @property
    def label(self) -> str:
        return _in_language(self.title, self.title_es)


class KnowledgeQuestion(models.Model):
    """A multiple-choice question of a knowledge-check step. `choices` is a list of
    {"en": ..., "es": ...}; `answer` the index of the right one."""

    step = models.ForeignKey(PathwayStep, on_delete=models.CASCADE, related_name="questions")
    position = models.PositiveSmallIntegerField()
    text = models.CharField(max_length=300)
    text_es = models.CharField(max_length=300, blank=True)
    choices = models.JSONField()
    answer = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ["step", "position"]
        constraints = [
            models.UniqueConstraint(fields=["step", "position"], name="knowledge_question_position_once"),
        ]

    def __str__(self) -> str:
        return self.text

    @property
    def label(self) -> str:
        return _in_language(self.text, self.text_es)

    def choice_labels(self) -> list[str]:
        return [_in_language(choice.get("en", ""), choice.get("es", "")) for choice in self.choices]


class StepCompletion(models.Model):
    """A member finished a step. `detail` holds codes and numbers only (the review's code, the
    knowledge check's score), never a person's details."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="onboarding_steps")
    step = models.ForeignKey(PathwayStep, on_delete=models.CASCADE, related_name="completions")
    completed_at = models.DateTimeField(auto_now_add=True)
    detail = models.JSONField(default=dict, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "step"], name="step_completion_once"),
        ]

    def __str__(self) -> str:
        return f"{self.user}: {self.step}"


class OnboardingSignOff(models.Model):
    """A member signed off their pathway. `versions` records the version of each protocol they
    signed ({document slug: number}). A later sign-off (after a new version) adds a row."""

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="onboarding_signoffs")
    pathway = models.ForeignKey(Pathway, on_delete=models.CASCADE, related_name="signoffs")
    signed_at = models.DateTimeField(auto_now_add=True)
    versions = models.JSONField(default=dict)

    class Meta:
        ordering = ["-signed_at"]

    def __str__(self) -> str:
        return f"{self.user} signed off {self.pathway}"
