import uuid

from django.conf import settings
from django.core.validators import MaxLengthValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from core.models import ChoiceLabels
from districts.access import scope_of
from districts.models import CommunityArea, District, Role
from notifications.models import Victim

# --- CPD's own record (the City's gumc-mgzr data set), imported by reviews/importers.py --------
#
# What CPD publishes about each shooting victim and homicide, kept beside the portal's own
# incidents so reconciliation can ask which of CPD's shootings the portal was told about.
# No name is ever stored: the official export carries homicide victims' names and the importer
# never reads those columns.


class CpdVictim(ChoiceLabels):
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
    rows instead of recomputing every month. `fingerprint` is a hash of the month's change stamps
    (notifications.models.FiguresStamp) when the figures were computed; a settling month whose
    stamps moved is recomputed on the next read (reviews/summaries.py), and the nightly task
    recomputes every month.
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


# --- the shooting review meeting --------------------------------------------------------------
#
# Each month the district (or several districts together), their outreach organisations and the
# CSCC meet over the month: the agenda is built from the data (reviews/selectors_meeting.py);
# what the meeting adds is kept here: themes, action items that carry over until closed, who
# attended, the minutes. Nothing here holds an organisation's own record.


class Review(ChoiceLabels):
    """One shooting review meeting: a Chicago month and the district(s) it covers.

    `month` is the first day of the month and never changes once the review exists (the
    districts' rows copy it to keep one review per month and district; see ReviewDistrict).
    Commanders run the reviews of their own district, analysts any; CPD desk staff read their
    district's (`runnable_by`, `readable_by`).
    """

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        HELD = "held", _("Held")
        CLOSED = "closed", _("Closed")

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    month = models.DateField(help_text="The first day of the Chicago-local month under review.")
    districts = models.ManyToManyField(District, through="ReviewDistrict", related_name="+")
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.DRAFT)
    meeting_at = models.DateTimeField(null=True, blank=True, help_text="When the meeting is (or was) held.")
    notes = models.TextField(blank=True, validators=[MaxLengthValidator(10_000)],
                             help_text="The meeting's minutes: decisions and discussion, never a person's details.")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-month", "-created_at"]
        constraints = [
            models.CheckConstraint(condition=models.Q(month__day=1), name="review_month_first_day"),
            models.CheckConstraint(
                condition=models.Q(status="closed", closed_at__isnull=False)
                | (~models.Q(status="closed") & models.Q(closed_at__isnull=True)),
                name="review_closed_when_closed_at"),
        ]
        indexes = [
            # The list of reviews, newest first, and the carry-over's "earlier reviews":
            # ORDER BY month DESC / WHERE month < %s.
            models.Index(fields=["month"], name="review_month"),
        ]

    def __str__(self) -> str:
        return f"Review {self.month:%Y-%m}"

    @property
    def is_closed(self) -> bool:
        return self.status == self.Status.CLOSED

    @staticmethod
    def runnable_for(user, district_ids) -> bool:
        """Whether the user may run a review of these districts: an analyst any; a commander only
        a review of their own district alone (a joint review shows other districts' incidents)."""
        scope = scope_of(user)
        if scope.is_analyst:
            return True
        return scope.role == Role.CPD_COMMANDER and set(district_ids) == {scope.district_id}

    def _district_ids(self) -> set[int]:
        return {row.district_id for row in self.review_districts.all()}

    def runnable_by(self, user) -> bool:
        return self.runnable_for(user, self._district_ids())

    def readable_by(self, user) -> bool:
        scope = scope_of(user)
        if scope.is_analyst:
            return True
        return scope.is_cpd and self._district_ids() == {scope.district_id}


class ReviewDistrict(models.Model):
    """A district a review covers. The month is copied from the review so the database itself
    keeps one review per month and district, however the districts are combined."""

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="review_districts")
    district = models.ForeignKey(District, on_delete=models.PROTECT, related_name="+")
    month = models.DateField()

    class Meta:
        ordering = ["district__number"]
        constraints = [
            # Also the index behind the duplicate check and the carry-over's overlap:
            # WHERE month = %s AND district_id IN (...) / WHERE district_id IN (...) AND month < %s.
            models.UniqueConstraint(fields=["district", "month"], name="review_once_per_district_month"),
        ]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} {self.district_id}"


class ReviewTheme(ChoiceLabels):
    """A theme the meeting discussed: a tag from a short controlled list (so themes can be counted
    across months) and/or a free tag, with a note."""

    class Tag(models.TextChoices):
        NOTIFICATION_DELAY = "notification_delay", _("Slow notification")
        ACKNOWLEDGEMENT = "acknowledgement", _("Slow or missed acknowledgement")
        COVERAGE_GAP = "coverage_gap", _("Coverage gap")
        HOSPITAL = "hospital", _("Hospital response")
        SCENE_ACCESS = "scene_access", _("Scene access and safety")
        COORDINATION = "coordination", _("Coordination between partners")
        DATA_QUALITY = "data_quality", _("Data quality")
        TREND = "trend", _("Trend or pattern")
        OTHER = "other", _("Other")

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="themes")
    tag = models.CharField(max_length=20, choices=Tag.choices, blank=True)
    free_tag = models.CharField(max_length=60, blank=True)
    note = models.TextField(blank=True, validators=[MaxLengthValidator(2_000)])
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(condition=~models.Q(tag="") | ~models.Q(free_tag=""), name="review_theme_tagged"),
        ]

    def __str__(self) -> str:
        return self.label

    @property
    def label(self) -> str:
        return " · ".join(part for part in (self.get_tag_display() if self.tag else "", self.free_tag) if part)


class ActionItem(ChoiceLabels):
    """Something the meeting decided someone will do. Raised in one review; while it is open or in
    progress it appears on every later review of an overlapping district, until done or dropped."""

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        IN_PROGRESS = "in_progress", _("In progress")
        DONE = "done", _("Done")
        DROPPED = "dropped", _("Dropped")

    OPEN_STATUSES = (Status.OPEN, Status.IN_PROGRESS)

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="action_items",
                               help_text="The review it was raised in.")
    text = models.TextField(validators=[MaxLengthValidator(1_000)])
    owner_user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    owner_name = models.CharField(max_length=120, blank=True, help_text="A named party or organisation.")
    due_date = models.DateField(null=True, blank=True)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.OPEN)
    closed_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            # An owner is required; a user deleted later leaves the item with its named owner, if any.
            models.CheckConstraint(condition=models.Q(owner_user__isnull=False) | ~models.Q(owner_name=""),
                                   name="action_item_has_owner"),
            models.CheckConstraint(
                condition=models.Q(status__in=["done", "dropped"], closed_at__isnull=False)
                | models.Q(status__in=["open", "in_progress"], closed_at__isnull=True),
                name="action_item_closed_when_closed_at"),
        ]
        indexes = [
            # The carry-over: items still open raised in earlier reviews.
            # WHERE status IN ('open', 'in_progress') AND review_id IN (...).
            models.Index(fields=["review"], name="action_item_open_by_review",
                         condition=models.Q(status__in=["open", "in_progress"])),
        ]

    def __str__(self) -> str:
        return self.text[:60]

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES

    @property
    def owner_label(self) -> str:
        if self.owner_user_id and self.owner_user is not None:
            return self.owner_user.get_full_name() or self.owner_user.get_username()
        return self.owner_name


class ReviewAttendance(models.Model):
    """Who was asked to the meeting and whether they came: a portal user or a name, with the
    organisation or agency they came for."""

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="attendance")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                             related_name="+")
    name = models.CharField(max_length=120, blank=True)
    organization = models.CharField(max_length=120, blank=True, help_text="The organisation or agency.")
    present = models.BooleanField(default=True)

    class Meta:
        ordering = ["organization", "name", "id"]
        verbose_name_plural = "review attendance"
        constraints = [
            models.CheckConstraint(condition=models.Q(user__isnull=False) | ~models.Q(name=""),
                                   name="review_attendance_has_person"),
            models.UniqueConstraint(fields=["review", "user"], condition=models.Q(user__isnull=False),
                                    name="review_attendance_user_once"),
        ]

    def __str__(self) -> str:
        return self.person_label

    @property
    def person_label(self) -> str:
        if self.user_id and self.user is not None:
            return self.user.get_full_name() or self.user.get_username()
        return self.name


# --- the monthly report's published versions (reviews/report.py, services.monthly_report_publish) ---


class MonthlyReport(ChoiceLabels):
    """One published version of a month's report for one scope: the document as sent, kept.

    `scope` is the summary table's key (`summaries.scope_key`): "all" for the whole city,
    "district:007" or "district:007,011". Each publication of the same month and scope is a new
    version (1, 2, …); nothing is ever replaced, so what went out on a day can be shown later.
    The PDF and its HTML source are stored in the row (no file storage to keep in step with it).
    `published_by` is empty for the scheduled run on the first of the month.
    """

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    month = models.DateField(help_text="The first day of the Chicago-local month reported on.")
    scope = models.CharField(max_length=200)
    version = models.PositiveIntegerField()
    language = models.CharField(max_length=5, choices=settings.LANGUAGES, default="en")
    html = models.TextField()
    pdf = models.BinaryField()
    recipients = models.PositiveIntegerField(default=0, help_text="How many people it was emailed to.")
    published_at = models.DateTimeField(auto_now_add=True)
    published_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="+")

    class Meta:
        ordering = ["-month", "scope", "-version"]
        constraints = [
            # Also the index behind the next version number and a scope's versions:
            # WHERE scope = %s AND month = %s ORDER BY version DESC.
            models.UniqueConstraint(fields=["scope", "month", "version"], name="monthly_report_version_once"),
            models.CheckConstraint(condition=models.Q(month__day=1), name="monthly_report_month_first_day"),
            models.CheckConstraint(condition=models.Q(version__gte=1), name="monthly_report_version_positive"),
        ]
        indexes = [
            # The list of a month's published versions: WHERE month = %s.
            models.Index(fields=["month"], name="monthly_report_month"),
        ]

    def __str__(self) -> str:
        return f"Report {self.month:%Y-%m} {self.scope} v{self.version}"

    @property
    def district_numbers(self) -> list[str]:
        """The districts of the scope; empty for the whole city."""
        return self.scope.removeprefix("district:").split(",") if self.scope.startswith("district:") else []

    def readable_by(self, user) -> bool:
        """Analysts every version; CPD staff and commanders a report of their own district alone."""
        scope = scope_of(user)
        if scope.is_analyst:
            return True
        if not scope.is_cpd or len(self.district_numbers) != 1:
            return False
        return District.objects.filter(pk=scope.district_id, number=self.district_numbers[0]).exists()
