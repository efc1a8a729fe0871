"""Writes of the reviews app: the monthly summary table and the shooting review meeting.

`monthly_reviews` is the read-through: the current month always computed; a month still
settling (until `SETTLING` after its end: late acknowledgements, corrections, CPD's updates)
read from the table only while its fingerprint still matches (summaries.fingerprints); an
older month read from the table as stored, since the nightly refresh recomputes it anyway.
That keeps a year view's freshness check to the one or two settling months.
`monthly_summaries_refresh` is the nightly task's work.

The review meeting's writes (`review_create` … `review_attendance_add`) each check that the actor
may run the review (`Review.runnable_by`: analysts any, a commander their own district's) and
that it is not closed, and append an audit event with codes and choices only: never the
minutes, a theme's note, an action item's text or a person's name.

The monthly report (`monthly_report_publish`) renders through reviews.report, keeps each version
as a `MonthlyReport` and emails the PDF to the participants; its audit event carries the month,
scope, version and the number of recipients only.
"""

from datetime import date, datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage, mailers
from django.db import IntegrityError, transaction
from django.db.models import Max, Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from audit.models import Source
from audit.services import audit_log
from core.dates import local, month_of, month_shift, today_local
from core.exceptions import Conflict, NotAllowed
from districts.access import scope_of
from districts.models import District, Membership, Organization, Role
from notifications.models import Notification
from protocols.onboarding import onboarding_review_attended

from . import report
from .models import ActionItem, MonthlyReport, MonthlySummary, Review, ReviewAttendance, ReviewDistrict, ReviewTheme
from .selectors import Month, incidents_in_month, monthly_review
from .summaries import fingerprints, first_day, scope_key, settled, stored_summaries


def monthly_reviews(months: list[Month], *, districts=None, organization: Organization | None = None,
                    scenario=None) -> list[dict]:
    """`monthly_review` for each month, in the order given: stored figures where they still
    match their month, computed (and stored) otherwise; the current month always computed.
    Figures narrowed to one scenario playbook are always computed (they are a smaller set of
    incidents, and one stored copy per playbook and scope would multiply the table)."""
    if not months:
        return []
    if scenario is not None:
        return [monthly_review(month=month, districts=districts, organization=organization, scenario=scenario)
                for month in months]
    scope = scope_key(districts=districts, organization=organization)
    stored = stored_summaries(months, scope=scope)
    now = timezone.now()
    current = Month(*month_of(now))
    # Only a month still settling, or one not stored yet, needs its fingerprint.
    checked = [m for m in months if m != current and not (settled(m, now) and first_day(m) in stored)]
    prints = fingerprints(checked, districts=districts) if checked else {}
    out = []
    for month in months:
        row = stored.get(first_day(month))
        if month != current and row is not None and (month not in prints or row.fingerprint == prints[month]):
            out.append(row.figures)
            continue
        figures = monthly_review(month=month, districts=districts, organization=organization)
        if month != current:
            monthly_summary_store(month=month, scope=scope, fingerprint=prints[month], figures=figures)
        out.append(figures)
    return out


def monthly_summary_store(*, month: Month, scope: str, fingerprint: str, figures: dict) -> MonthlySummary:
    """Write one month's figures for one scope (insert or replace)."""
    summary, _ = MonthlySummary.objects.update_or_create(
        scope=scope, month=first_day(month), defaults={"fingerprint": fingerprint, "figures": figures})
    return summary


def monthly_summaries_refresh(*, months: int = 24) -> int:
    """Recompute the last `months` closed months for every district, every organisation and all
    districts together (the nightly task). Returns how many rows were written."""
    current = Month(*month_of(timezone.now()))
    asked = [Month(*month_shift(current.year, current.month, -back)) for back in range(1, months + 1)]
    scopes = [{"districts": None}]
    scopes += [{"districts": [d]} for d in District.objects.defer("boundary").order_by("number")]
    scopes += [{"organization": o} for o in Organization.objects.order_by("name")]
    written = 0
    for scope in scopes:
        prints = fingerprints(asked, districts=scope.get("districts"))
        for month in asked:
            monthly_summary_store(month=month, scope=scope_key(**scope), fingerprint=prints[month],
                                  figures=monthly_review(month=month, **scope))
            written += 1
    return written


# --- the shooting review meeting ---------------------------------------------------------------


class ReviewExists(Conflict):
    """A review already covers this month in one of the districts asked for; `review` is it."""

    def __init__(self, review: Review, district: District):
        self.review, self.district = review, district
        super().__init__(_("There is already a review of %(month)s for %(district)s.") % {
            "month": f"{review.month:%Y-%m}", "district": district.label})


def _existing_review(month: date, districts: list[District]) -> tuple[Review, District] | None:
    row = (ReviewDistrict.objects.filter(month=month, district__in=districts)
           .select_related("review", "district").order_by("district__number").first())
    return None if row is None else (row.review, row.district)


def review_create(*, actor, month: Month, districts: list[District], source: str = Source.WEB) -> Review:
    """A draft review of the month for the districts. Raises ValidationError for no district or a
    month after this one, NotAllowed for a district the actor may not run, ReviewExists when one of
    the districts already has a review of that month (the database's constraint decides a race)."""
    districts = sorted({d.pk: d for d in districts}.values(), key=lambda d: d.number)
    if not districts:
        raise ValidationError({"districts": _("Choose at least one district.")})
    current = Month(*month_of(timezone.now()))
    if (month.year, month.month) > (current.year, current.month):
        raise ValidationError({"month": _("%(value)s is in the future: choose %(now)s or earlier.") % {
            "value": month.label, "now": current.label}})
    if not Review.runnable_for(actor, [d.pk for d in districts]):
        raise NotAllowed(_("You may not run a review of these districts."))
    first = first_day(month)
    try:
        with transaction.atomic():
            review = Review.objects.create(month=first, created_by=actor)
            ReviewDistrict.objects.bulk_create(
                [ReviewDistrict(review=review, district=d, month=first) for d in districts])
    except IntegrityError:
        if (existing := _existing_review(first, districts)) is not None:
            raise ReviewExists(*existing) from None
        raise
    audit_log(actor=actor, source=source, action="review.created", obj=review,
              data={"month": month.label, "districts": [d.number for d in districts]})
    return review


def _locked_for(actor, review: Review) -> Review:
    """The review's row, locked for this transaction, after checking the actor runs it and it is
    not closed (NotAllowed, Conflict). The lock keeps a write from landing after a close."""
    if not review.runnable_by(actor):
        raise NotAllowed(_("You may not run this review."))
    locked = Review.objects.select_for_update().get(pk=review.pk)
    if locked.is_closed:
        raise Conflict(_("This review is closed: it can no longer be changed."))
    return locked


def review_update(*, actor, review: Review, meeting_at: datetime | None, notes: str, status: str,
                  source: str = Source.WEB) -> Review:
    """Set the meeting's time, the minutes and the status (draft or held; closing is review_close)."""
    if status not in (Review.Status.DRAFT, Review.Status.HELD):
        raise ValidationError({"status": _("Choose draft or held; close the review with its own button.")})
    with transaction.atomic():
        locked = _locked_for(actor, review)
        locked.meeting_at, locked.notes, locked.status = meeting_at, notes, status
        locked.save(update_fields=["meeting_at", "notes", "status", "updated_at"])
        audit_log(actor=actor, source=source, action="review.updated", obj=locked,
                  data={"status": status, "meeting_set": meeting_at is not None})
    return locked


def review_close(*, actor, review: Review, source: str = Source.WEB) -> Review:
    """Close the review: nothing on it changes afterwards. Its open action items stay open and
    carry over to the next review of an overlapping district."""
    with transaction.atomic():
        locked = _locked_for(actor, review)
        locked.status, locked.closed_at = Review.Status.CLOSED, timezone.now()
        locked.save(update_fields=["status", "closed_at", "updated_at"])
        open_items = locked.action_items.filter(status__in=ActionItem.OPEN_STATUSES).count()
        audit_log(actor=actor, source=source, action="review.closed", obj=locked, data={"open_items": open_items})
    return locked


def review_theme_add(*, actor, review: Review, tag: str, free_tag: str, note: str,
                     source: str = Source.WEB) -> ReviewTheme:
    """Add a theme: a tag from the list, a free tag, or both; ValidationError when neither."""
    free_tag, note = free_tag.strip(), note.strip()
    if tag and tag not in ReviewTheme.Tag.values:
        raise ValidationError({"tag": _("Choose a theme from the list.")})
    if not tag and not free_tag:
        raise ValidationError(_("A theme needs a tag from the list or a tag of your own."))
    with transaction.atomic():
        locked = _locked_for(actor, review)
        theme = ReviewTheme.objects.create(review=locked, tag=tag, free_tag=free_tag, note=note, created_by=actor)
        audit_log(actor=actor, source=source, action="review.theme_added", obj=locked,
                  data={"tag": tag or "own", "own_tag": bool(free_tag)})
    return theme


def _earliest_due(review: Review) -> date:
    """The first day an action item may fall due: the meeting's day, or today before a meeting is set."""
    return local(review.meeting_at).date() if review.meeting_at else today_local()


def action_item_add(*, actor, review: Review, text: str, owner_user=None, owner_name: str = "",
                    due_date: date | None = None, source: str = Source.WEB) -> ActionItem:
    """Raise an action item in the review. ValidationError without text, without an owner (a user
    or a named party), or with a due date before the meeting (before today when no meeting is set)."""
    text, owner_name = text.strip(), owner_name.strip()
    errors = {}
    if not text:
        errors["text"] = _("Say what is to be done.")
    if owner_user is None and not owner_name:
        errors["owner_name"] = _("Give the item an owner: a portal user or a named party or organisation.")
    with transaction.atomic():
        locked = _locked_for(actor, review)  # the meeting's time as stored, not as the caller last read it
        if due_date is not None and due_date < _earliest_due(locked):
            errors["due_date"] = _("The due date is before the meeting (%(day)s).") % {
                "day": _earliest_due(locked).isoformat()}
        if errors:
            raise ValidationError(errors)
        item = ActionItem.objects.create(review=locked, text=text, owner_user=owner_user, owner_name=owner_name,
                                         due_date=due_date, created_by=actor)
        audit_log(actor=actor, source=source, action="review.action_item_added", obj=locked,
                  data={"item": str(item.code), "owner": "user" if owner_user else "named",
                        "due": due_date.isoformat() if due_date else None})
    return item


def _carried_into(item: ActionItem, review: Review) -> bool:
    """Whether an item raised elsewhere is on this review's agenda: still open, raised in an
    earlier month's review sharing a district with this one."""
    if not item.is_open or item.review.month >= review.month:
        return False
    mine = {row.district_id for row in review.review_districts.all()}
    return ReviewDistrict.objects.filter(review_id=item.review_id, district_id__in=mine).exists()


def action_item_update(*, actor, review: Review, item: ActionItem, status: str,
                       source: str = Source.WEB) -> ActionItem:
    """Move an action item raised in this review, or carried into it, to another status; done and
    dropped close it (closed_at), open and in progress reopen it."""
    if status not in ActionItem.Status.values:
        raise ValidationError({"status": _("Choose a status from the list.")})
    if item.review_id != review.pk and not _carried_into(item, review):
        raise NotAllowed(_("That action item is not on this review."))
    with transaction.atomic():
        _locked_for(actor, review)
        item = ActionItem.objects.select_for_update().get(pk=item.pk)
        before = item.status
        item.status = status
        if status in ActionItem.OPEN_STATUSES:
            item.closed_at = None
        elif item.closed_at is None or before in ActionItem.OPEN_STATUSES:
            item.closed_at = timezone.now()
        item.save(update_fields=["status", "closed_at", "updated_at"])
        audit_log(actor=actor, source=source, action="review.action_item_updated", obj=review,
                  data={"item": str(item.code), "from": before, "to": status,
                        "carried": item.review_id != review.pk})
    return item


def review_attendance_add(*, actor, review: Review, user=None, name: str = "", organization: str = "",
                          present: bool = True, source: str = Source.WEB) -> ReviewAttendance:
    """Record one person asked to the meeting: a portal user, or a name with the organisation or
    agency. ValidationError without a person, or for a user already on the list."""
    name, organization = name.strip(), organization.strip()
    if user is None and not name:
        raise ValidationError({"name": _("Choose a portal user or write the person's name.")})
    with transaction.atomic():
        locked = _locked_for(actor, review)
        if user is not None and locked.attendance.filter(user=user).exists():
            raise ValidationError({"user": _("That person is already on the attendance list.")})
        row = ReviewAttendance.objects.create(review=locked, user=user, name="" if user else name,
                                              organization=organization, present=present)
        audit_log(actor=actor, source=source, action="review.attendance_added", obj=locked,
                  data={"person": "user" if user else "named", "present": present})
        if user is not None and present:  # the onboarding step "sit in a monthly review"
            onboarding_review_attended(user=user, review_code=str(locked.code))
    return row


# --- the monthly report ----------------------------------------------------------------------------


def monthly_report_context(*, month: Month, districts: list[District] | None) -> dict:
    """The report's context (reviews.report), its figures read through the summary table.
    Raises report.ReportError for a month in the future."""
    report.check_month(month)
    figures = monthly_reviews(report.months_needed(month), districts=districts)
    return report.report_context(month=month, districts=districts, figures=figures)


def monthly_report_recipients(*, month: Month, districts: list[District] | None) -> list[str]:
    """Who a published report goes to: the commanders of its districts (citywide: of every district
    it lists), every analyst, and the supervisors of the organisations notified of an incident of
    the month there. Active users with an email address, each address once, sorted."""
    incidents = incidents_in_month(month, districts=districts)
    if districts is None:
        district_ids = set(District.objects.filter(Q(is_pilot=True) | Q(pk__in=incidents.values("district_id")))
                           .values_list("pk", flat=True))
    else:
        district_ids = {d.pk for d in districts}
    notified = Notification.objects.filter(kind=Notification.Kind.INCIDENT, incident__in=incidents)
    people = Membership.objects.filter(
        Q(role=Role.CPD_COMMANDER, district_id__in=district_ids) | Q(role=Role.ANALYST)
        | Q(role=Role.OUTREACH_SUPERVISOR, organization_id__in=notified.values("organization_id")),
        user__is_active=True).exclude(user__email="")
    return sorted(set(people.values_list("user__email", flat=True)))


def monthly_report_publish(*, month: Month, districts: list[District] | None, actor=None, language: str = "en",
                           source: str = Source.WEB) -> MonthlyReport:
    """Render the month's report for the districts (None: citywide) in `language`, keep it as a new
    version, and email the PDF to the participants (`monthly_report_recipients`), one message
    each. `actor` None is the scheduled run. Raises report.ReportError for a month in the future,
    NotAllowed for an actor who may not publish it (analysts any; a commander their own district
    alone). The version number comes from the unique (scope, month, version) constraint: two
    publications at once each get their own."""
    if actor is not None and not monthly_report_publishable_by(actor, districts):
        raise NotAllowed(_("You may not publish this report."))
    with translation.override(language):
        context = monthly_report_context(month=month, districts=districts)
        document = report.render_document(context)
        pdf = report.render_pdf(document)
    scope, first = report.report_scope(districts), first_day(month)
    recipients = monthly_report_recipients(month=month, districts=districts)
    for _attempt in range(5):
        latest = MonthlyReport.objects.filter(scope=scope, month=first).aggregate(v=Max("version"))["v"] or 0
        try:
            with transaction.atomic():
                published = MonthlyReport.objects.create(
                    month=first, scope=scope, version=latest + 1, language=language, html=document, pdf=pdf,
                    recipients=len(recipients), published_by=actor)
                audit_log(actor=actor, source=source, action="report.published", obj=published,
                          data={"month": month.label, "scope": scope, "version": published.version,
                                "recipients": len(recipients)})
            break
        except IntegrityError:
            continue
    else:
        raise Conflict(_("The report is being published by someone else; try again."))
    with translation.override(language):
        _report_email_send(published, context, recipients)
    return published


def monthly_report_publishable_by(user, districts: list[District] | None) -> bool:
    """Analysts may publish any report; a commander the report of their own district alone."""
    scope = scope_of(user)
    if scope.is_analyst:
        return True
    return (scope.role == Role.CPD_COMMANDER and districts is not None
            and {d.pk for d in districts} == {scope.district_id})


def _report_email_send(published: MonthlyReport, context: dict, recipients: list[str]) -> None:
    """One message per recipient (no one sees the others' addresses), the PDF attached."""
    values = {**context, "version": published.version,
              "versions_url": settings.SITE_URL + reverse("reviews:reports") + f"?month={context['month'].label}"}
    subject = " ".join(render_to_string("reviews/report_email_subject.html", values).split())
    body = render_to_string("reviews/report_email.html", values)
    filename = f"cvi-report-{context['month'].label}-{published.scope.replace(':', '-').replace(',', '-')}"
    messages = []
    for address in recipients:
        message = EmailMessage(subject, body, settings.DEFAULT_FROM_EMAIL, [address])
        message.attach(f"{filename}-v{published.version}.pdf", bytes(published.pdf), "application/pdf")
        messages.append(message)
    if messages:
        mailers.default.send_messages(messages)
