"""Scenario playbooks and the places list they match against.

A playbook is data, edited by administrators in the portal: matching rules on an incident's
attributes (`protocols.rules` declares the fields and values a rule may name), the partner
types to involve, partner organisations to notify besides the covering ones, and a checklist
for each role. The matched playbooks of an incident are stored on the incident
(`notifications.Incident.scenarios`): notifications sits above this app.
"""

import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _

from core.models import ChoiceLabels
from districts.models import Organization


class Playbook(models.Model):
    class Role(models.TextChoices):
        CPD_DESK = "cpd_desk", _("CPD desk")
        COMMANDER = "commander", _("District commander")
        OUTREACH = "outreach", _("Street outreach")
        PARTNER = "partner", _("Partner organisation")

    code = models.SlugField(max_length=40, unique=True, help_text="Stable code, e.g. fatal; the API's scenarios.")
    title = models.CharField(max_length=120)
    title_es = models.CharField(max_length=120, blank=True)
    description = models.CharField(max_length=300, blank=True)
    description_es = models.CharField(max_length=300, blank=True)
    # [{"field": ..., "op": ..., "value": ...}, ...], all must hold; [] matches every shooting.
    rules = models.JSONField(default=list, blank=True)
    partner_types = models.JSONField(default=list, blank=True, help_text="Organization.PartnerType values.")
    partners = models.ManyToManyField(Organization, blank=True, related_name="playbooks",
                                      help_text="Notified in addition to the covering organisations.")
    # {"cpd_desk": [{"en": ..., "es": ...}, ...], "commander": [...], "outreach": [...], "partner": [...]}
    checklists = models.JSONField(default=dict)
    position = models.PositiveSmallIntegerField(default=100, help_text="Most specific first.")
    active = models.BooleanField(default=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["position", "code"]

    def __str__(self) -> str:
        return self.title

    def title_in(self, language: str) -> str:
        return self.title_es if language == "es" and self.title_es else self.title

    def checklist_for(self, role: str, language: str) -> list[str]:
        """The steps for one role in one language (English where no translation exists)."""
        steps = []
        for step in self.checklists.get(role, []):
            text = step.get("es") if language == "es" else None
            steps.append(text or step.get("en", ""))
        return [step for step in steps if step]


class Place(ChoiceLabels):
    """A place where a shooting calls for more: a school, a park, a place of worship, a funeral home."""

    class Kind(models.TextChoices):
        SCHOOL = "school", _("School")
        PARK = "park", _("Park")
        PLACE_OF_WORSHIP = "place_of_worship", _("Place of worship")
        FUNERAL_HOME = "funeral_home", _("Funeral home")

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    name = models.CharField(max_length=160)
    address = models.CharField(max_length=200, blank=True)
    latitude = models.FloatField()
    longitude = models.FloatField()

    class Meta:
        ordering = ["kind", "name"]
        constraints = [models.UniqueConstraint(fields=["kind", "name"], name="place_kind_name")]
        indexes = [
            # Matching: places inside a small latitude/longitude box around a shooting.
            models.Index(fields=["latitude", "longitude"], name="place_point"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.name}"
