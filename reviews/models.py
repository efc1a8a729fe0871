from django.db import models

from districts.models import CommunityArea, District
from notifications.models import Victim

# --- CPD's own record (the City's gumc-mgzr data set), imported by reviews/importers.py --------
#
# What CPD publishes about each shooting victim and homicide, kept beside the portal's own
# incidents so reconciliation can ask which of CPD's shootings the portal was told about.
# No name is ever stored: the official export carries homicide victims' names and the importer
# never reads those columns.


class CpdVictim(models.Model):
    """One victimisation as CPD publishes it, keyed by CPD's `UNIQUE_ID` (`SHOOT-JH411616-#1`).

    `cpd_updated_at` is CPD's own last-edit time; `changed_at` is when an import last stored a
    different version of the row (a record CPD corrects weeks later gets a new `changed_at`; one
    imported again unchanged keeps its old one).
    """

    unique_id = models.CharField(max_length=40, unique=True)
    rd_number = models.CharField(max_length=12)
    occurred_at = models.DateTimeField()
    block = models.CharField(max_length=120)
    district = models.ForeignKey(District, on_delete=models.PROTECT, related_name="+")
    beat = models.CharField(max_length=4, blank=True)
    community_area = models.ForeignKey(
        CommunityArea, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    victimization = models.CharField(max_length=40, help_text="CPD's VICTIMIZATION_PRIMARY, e.g. HOMICIDE, BATTERY.")
    incident_type = models.CharField(max_length=40, blank=True, help_text="CPD's INCIDENT_PRIMARY.")
    age_band = models.CharField(max_length=8, choices=Victim.AgeBand.choices, default=Victim.AgeBand.UNKNOWN)
    sex = models.CharField(max_length=8, choices=Victim.Sex.choices, default=Victim.Sex.UNKNOWN)
    fatal = models.BooleanField(default=False)
    gunshot = models.BooleanField(default=True)
    location_description = models.CharField(max_length=80, blank=True)
    outreach_tag = models.CharField(
        max_length=200, blank=True, help_text="The City's STREET_OUTREACH_ORGANIZATION label(s), as published."
    )
    # Jittered by the City by about a block.
    latitude = models.FloatField(null=True, blank=True)
    longitude = models.FloatField(null=True, blank=True)
    cpd_updated_at = models.DateTimeField(null=True, blank=True)
    imported_at = models.DateTimeField(auto_now_add=True)
    changed_at = models.DateTimeField()

    class Meta:
        ordering = ["occurred_at", "unique_id"]
        indexes = [
            # Grouping into incidents after each import batch, and an incident's victims:
            # WHERE rd_number IN (…) / = %s.
            models.Index(fields=["rd_number"], name="cpd_victim_rd_number"),
        ]

    def __str__(self) -> str:
        return self.unique_id


class CpdIncident(models.Model):
    """CPD's victims grouped by RD number (`case_number`): one shooting incident as CPD records it.

    Rebuilt by the importer from its victims whenever one of them changes: the place and time
    are the earliest victim's, the counts are over all of them.
    """

    rd_number = models.CharField(max_length=12, unique=True)  # reconciliation's first match
    occurred_at = models.DateTimeField()
    block = models.CharField(max_length=120)
    district = models.ForeignKey(District, on_delete=models.PROTECT, related_name="+")
    beat = models.CharField(max_length=4, blank=True)
    community_area = models.ForeignKey(
        CommunityArea, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    latitude = models.FloatField(null=True, blank=True)
    longitude = models.FloatField(null=True, blank=True)
    victim_count = models.PositiveSmallIntegerField()
    fatal_count = models.PositiveSmallIntegerField()
    gunshot_count = models.PositiveSmallIntegerField()
    cpd_updated_at = models.DateTimeField(null=True, blank=True)
    changed_at = models.DateTimeField()

    class Meta:
        ordering = ["occurred_at", "rd_number"]
        indexes = [
            # Reconciliation for a month and district, and the fallback match by time and place:
            # WHERE district_id = %s AND occurred_at >= %s AND occurred_at < %s.
            models.Index(fields=["district", "occurred_at"], name="cpd_incident_district_time"),
            # The same month citywide: WHERE occurred_at >= %s AND occurred_at < %s.
            models.Index(fields=["occurred_at"], name="cpd_incident_time"),
        ]

    def __str__(self) -> str:
        return f"{self.rd_number} {self.block}"

    @property
    def victims(self) -> models.QuerySet[CpdVictim]:
        return CpdVictim.objects.filter(rd_number=self.rd_number)


# --- the monthly summary table ----------------------------------------------------------------


class MonthlySummary(models.Model):
    """One month's figures for one scope (every district, one district, one organisation), as
    `reviews.selectors.monthly_review` computed them: the year and multi-year views read these
    rows instead of recomputing every month. `fingerprint` summarises what the figures were
    computed from (incident, notification and response counts and latest changes); a row whose
    month no longer matches its fingerprint is recomputed on the next read (reviews/summaries.py),
    and the nightly task recomputes every month.
    """

    month = models.DateField(help_text="The first day of the Chicago-local month.")
    scope = models.CharField(max_length=64, help_text='"all", "district:<number>" or "organization:<code>".')
    fingerprint = models.CharField(max_length=64)
    figures = models.JSONField()
    computed_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            # Also the index behind the read: WHERE scope = %s AND month IN (...).
            models.UniqueConstraint(fields=["scope", "month"], name="monthly_summary_once"),
        ]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} {self.scope}"
