"""Reads for the dashboards: several months of the review table's figures at once, and the
latest month that has data.

`monthly_review` (reviews.selectors) answers one month with a few queries per district and
organisation (the response-log counts). A dashboard needs thirteen months for its trends and
year-on-year change, and a table over a month range, so `review_months` reads the whole range
in two queries (incidents, notifications) and groups by Chicago month in Python, computing each
figure with the same functions as `monthly_review`: the figures are the review table's, by
definition (tests/reviews/test_dashboard.py checks they equal `monthly_review`'s).

What it leaves out: the counts from the organisations' logs (responses by type, referrals,
retaliation risk), which the dashboards do not show.
"""

from collections import defaultdict
from datetime import datetime

from django.db.models import Max, Q

from core.dates import month_of, month_shift
from districts.models import District, Organization
from notifications.models import Incident, Notification

from .selectors import (
    Month,
    _incident_figures,
    _incident_rows,
    _notification_figures,
    _notification_rows,
    _organization_intervals,
)


def month_range(first: Month, last: Month) -> list[Month]:
    """Every month from `first` to `last`, both included (empty when first is after last)."""
    months, at = [], (first.year, first.month)
    while at <= (last.year, last.month):
        months.append(Month(*at))
        at = month_shift(*at, 1)
    return months


def shifted(month: Month, months: int) -> Month:
    return Month(*month_shift(month.year, month.month, months))


def _month_key(moment: datetime) -> str:
    year, month = month_of(moment)
    return f"{year:04d}-{month:02d}"


def review_months(months: list[Month], *, districts=None, organization: Organization | None = None) -> dict[str, dict]:
    """{month label: figures} for each month asked for, each shaped like `monthly_review`'s:
    "districts" (each district asked for, or every district with an incident that month plus the
    pilot districts), "organizations" (those notified, narrowed to `organization` if given) and
    "pilot". When `organization` is given its entry is always there, zeros and all.

    Queries: two for the rows, one for the districts, one for the organisations, whatever the
    number of months, districts or incidents.
    """
    if not months:
        return {}
    start, end = min(months, key=lambda m: (m.year, m.month)).bounds[0], max(
        months, key=lambda m: (m.year, m.month)).bounds[1]
    incidents = Incident.objects.filter(occurred_at__gte=start, occurred_at__lt=end)
    if districts is not None:
        incidents = incidents.filter(district__in=districts)
    notifications = Notification.objects.filter(kind=Notification.Kind.INCIDENT, incident__in=incidents)
    if organization is not None:
        notifications = notifications.filter(organization=organization)
    incident_rows, notification_rows = _incident_rows(incidents), _notification_rows(notifications)

    incidents_by = defaultdict(list)  # (month, district id) and (month, None) for the month
    for row in incident_rows:
        key = _month_key(row[3])
        incidents_by[key, row[0]].append(row)
        incidents_by[key, None].append(row)
    notifications_by = defaultdict(list)  # (month, "d", district id), (month, "o", org id), (month,)
    for row in notification_rows:
        key = _month_key(row["incident__occurred_at"])
        notifications_by[key, "d", row["incident__district_id"]].append(row)
        notifications_by[key, "o", row["organization_id"]].append(row)
        notifications_by[key,].append(row)

    if districts is None:
        seen = {row[0] for row in incident_rows}
        district_list = list(District.objects.filter(Q(pk__in=seen) | Q(is_pilot=True)).defer("boundary"))
    else:
        district_list = list({d.pk: d for d in districts}.values())
    district_list.sort(key=lambda d: d.number)
    org_ids = {row["organization_id"] for row in notification_rows}
    if organization is not None:
        org_ids.add(organization.pk)
    organizations = list(Organization.objects.filter(pk__in=org_ids).order_by("name"))

    out = {}
    for month in months:
        label = month.label
        month_districts = district_list if districts is not None else [
            d for d in district_list if d.is_pilot or incidents_by.get((label, d.pk))]
        out[label] = {
            "month": label,
            "districts": [{"district": d.number, "name": d.name,
                           **_incident_figures(incidents_by.get((label, d.pk), [])),
                           **_notification_figures(notifications_by.get((label, "d", d.pk), []))}
                          for d in month_districts],
            "organizations": [
                {"organization": str(org.code), "name": org.name,
                 **_notification_figures(notifications_by.get((label, "o", org.pk), [])),
                 **_organization_intervals(notifications_by.get((label, "o", org.pk), []))}
                for org in organizations
                if org.pk == getattr(organization, "pk", None) or notifications_by.get((label, "o", org.pk))],
            "pilot": {**_incident_figures(incidents_by.get((label, None), [])),
                      **_notification_figures(notifications_by.get((label,), []))},
        }
    return out


def latest_month_with_data(*, until: Month, districts=None, organization: Organization | None = None) -> Month | None:
    """The latest month up to and including `until` with an incident in scope (for an
    organisation: an incident it was notified of); None when there is none. One query."""
    end = until.bounds[1]
    if organization is not None:
        rows = Notification.objects.filter(kind=Notification.Kind.INCIDENT, organization=organization,
                                           incident__occurred_at__lt=end)
        if districts is not None:
            rows = rows.filter(incident__district__in=districts)
        latest = rows.aggregate(latest=Max("incident__occurred_at"))["latest"]
    else:
        rows = Incident.objects.filter(occurred_at__lt=end)
        if districts is not None:
            rows = rows.filter(district__in=districts)
        latest = rows.aggregate(latest=Max("occurred_at"))["latest"]
    return None if latest is None else Month(*month_of(latest))
