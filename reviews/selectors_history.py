"""Reads for the incident history: incidents in the user's scope with their states, and the
choices its filter offers.

Scope comes from `notifications.access` and `districts.access` only. What comes back is what a
notification carries (ARCHITECTURE.md, the analyst's row): never the exact point, never who
entered it, and nothing of an organisation's own record (this module never imports
`responses`).

Each state is one `EXISTS` over the incident's notifications, so the list, its filter and its
export cost the same number of queries whatever the page holds; the notification foreign key's
index serves every one of them.
"""

from django.db.models import (
    DurationField,
    Exists,
    F,
    Func,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
)
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _

from districts.access import scope_of
from districts.models import Beat, CommunityArea, District, Organization
from notifications.access import incidents_for_user
from notifications.models import Incident, Notification
from protocols.models import Playbook

# The history's states, in the order the filter offers them. Each is a boolean annotation of
# `history_incidents`, except "never notified", which is "notified" being false.
STATES = {
    "unacknowledged": _("Unacknowledged"),
    "acknowledged_late": _("Acknowledged late"),
    "escalated": _("Escalated"),
    "never_notified": _("Never notified"),
    "responded": _("Responded"),
}

# Fields a history row never loads: the exact point and who entered it (not in the analyst's
# scope, so in no history row for anyone), and the geography's boundary polygons (large).
DEFERRED = ("latitude", "longitude", "entered_by", "district__boundary", "beat__boundary",
            "community_area__boundary")


class Minutes(Func):
    """A whole number of minutes as a duration, on both databases: integer × interval is not
    portable (SQLite keeps durations as microseconds and Django refuses `int * timedelta` there)."""

    output_field = DurationField()
    template = "(%(expressions)s * INTERVAL '1 minute')"

    def as_sqlite(self, compiler, connection, **extra):
        return self.as_sql(compiler, connection, template="(%(expressions)s * 60000000)", **extra)


def _ack_window():
    return Minutes(F("organization__ack_window_minutes"))


def history_incidents(user) -> QuerySet[Incident]:
    """The user's incidents (their district for CPD, every district for analysts), newest first,
    with the boolean annotations `notified`, `unacknowledged`, `acknowledged_late`, `escalated`
    and `responded`, and `told` (the incident's notifications with their organisations) prefetched.

    - notified: at least one organisation was sent a message (a notification with nothing sent,
      or no notification at all, is "never notified");
    - unacknowledged: an organisation was sent a message and has not acknowledged it;
    - acknowledged late: an organisation acknowledged after its own window (`ack_window_minutes`)
      from when it was first sent a message (from when it was written, if never sent);
    - escalated: somebody was actually paged (`escalation_paged_level > 0`);
    - responded: an organisation reported a response in the agreed summary.
    """
    told = Notification.objects.filter(incident=OuterRef("pk"), kind=Notification.Kind.INCIDENT)
    sent = told.filter(first_sent_at__isnull=False)
    late = told.filter(acknowledged_at__isnull=False).alias(
        window_end=Coalesce("first_sent_at", "created_at") + _ack_window(),
    ).filter(acknowledged_at__gt=F("window_end"))
    notified_orgs = (Notification.objects.filter(kind=Notification.Kind.INCIDENT)
                     .select_related("organization").only("id", "incident", "organization", "organization__name",
                                                          "organization__short_name")
                     .order_by("organization__name"))
    return (
        incidents_for_user(user)
        .defer(*DEFERRED)
        .annotate(
            notified=Exists(sent),
            unacknowledged=Exists(sent.filter(acknowledged_at__isnull=True)),
            acknowledged_late=Exists(late),
            escalated=Exists(told.filter(escalation_paged_level__gt=0)),
            responded=Exists(told.filter(responded=True)),
        )
        .prefetch_related(Prefetch("notifications", queryset=notified_orgs, to_attr="told"))
        .order_by("-occurred_at", "-pk")
    )


def incidents_in_state(incidents: QuerySet[Incident], state: str) -> QuerySet[Incident]:
    """`history_incidents` narrowed to one of STATES."""
    if state == "never_notified":
        return incidents.filter(notified=False)
    return incidents.filter(**{state: True})


def incidents_notifying(incidents: QuerySet[Incident], organization: Organization) -> QuerySet[Incident]:
    """Incidents of which the organisation was told (one EXISTS, no duplicate rows)."""
    return incidents.filter(Exists(Notification.objects.filter(incident=OuterRef("pk"), organization=organization)))


def incidents_matching(incidents: QuerySet[Incident], text: str) -> QuerySet[Incident]:
    """Incidents whose RD number or block contains the text (case-insensitive)."""
    return incidents.filter(Q(rd_number__icontains=text) | Q(block__icontains=text))


def organizations_notified(incidents: QuerySet[Incident]) -> list[str]:
    """The codes of the organisations notified of these incidents (an export's access-log rows)."""
    return [str(code) for code in Notification.objects.filter(incident__in=incidents.values("pk"))
            .values_list("organization__code", flat=True).distinct()]


def history_districts(user) -> QuerySet[District]:
    """Districts the user's history can be narrowed to: their own (CPD), all (analysts)."""
    scope = scope_of(user)
    districts = District.objects.defer("boundary")
    if scope.citywide:
        return districts
    if scope.is_cpd:
        return districts.filter(pk=scope.district_id)
    return districts.none()


def history_beats(user) -> QuerySet[Beat]:
    """Beats of the user's districts."""
    return Beat.objects.defer("boundary").filter(district__in=history_districts(user))


def history_community_areas() -> QuerySet[CommunityArea]:
    """Every community area (a district's incidents may fall in any area it touches)."""
    return CommunityArea.objects.defer("boundary")


def history_organizations() -> QuerySet[Organization]:
    """Organisations an incident can have been routed to: every one, active or not, because the
    history goes back past changes in who takes part."""
    return Organization.objects.only("id", "code", "name", "short_name")


def history_scenarios() -> QuerySet[Playbook]:
    """The scenario playbooks an incident may have matched (inactive ones too: old incidents)."""
    return Playbook.objects.order_by("position", "code")
