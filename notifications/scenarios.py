"""Scenario playbooks on an incident: match them, store them, and route their partners.

Called by `services.py` inside the transaction that writes the incident and routes it, on
entry and on every correction. The rules and the matching live in `protocols` (below this
app); this module gives them plain facts about the incident, including the other shootings
near it in place and time, and stores the result on `Incident.scenarios`.

Partners: a playbook's partner organisations are notified besides the covering ones, and a
playbook naming the hospital partner type notifies the violence-intervention programme of
the hospital the victim was taken to, where one is recorded. A notification exists once per
incident and organisation, so a correction that re-matches a playbook notifies nobody twice.

`partners_preview` runs the same matching on facts from the entry form before anything is
saved, for its "who will be told" list; it stores and sends nothing.
"""

from dataclasses import dataclass, replace
from datetime import timedelta

from django.db.models import Prefetch, prefetch_related_objects
from django.utils.translation import gettext as _
from django.utils.translation import override

from audit.services import audit_log
from districts.models import Hospital, Organization
from protocols.matching import (
    IncidentFacts,
    Neighbour,
    PointIndex,
    active_playbooks,
    box,
    places_index,
    playbooks_matching,
    repeat_window,
)
from protocols.models import Playbook

from .models import Incident, Notification, Victim
from .routing import Route

# CPD's own policy: a victim-services partner hears the place and the number of victims only.
LIMITED_RELAY_TYPES = {Organization.PartnerType.VICTIM_SERVICES}


def relay_for(organization: Organization) -> str:
    if organization.partner_type in LIMITED_RELAY_TYPES:
        return Notification.Relay.LIMITED
    return Notification.Relay.FULL


def _neighbours(incident: Incident, window: tuple[int, int] | None) -> tuple[Neighbour, ...]:
    """Other shootings with a point inside the repeat window's box and days."""
    return _neighbours_near(incident.latitude, incident.longitude, incident.occurred_at, window, exclude=incident.pk)


def _neighbours_near(latitude, longitude, occurred_at, window, *, exclude=None) -> tuple[Neighbour, ...]:
    if window is None or latitude is None or longitude is None or occurred_at is None:
        return ()
    metres, days = window
    others = Incident.objects.filter(
        **box(latitude, longitude, metres),
        occurred_at__gte=occurred_at - timedelta(days=days),
        occurred_at__lte=occurred_at + timedelta(days=days),
    )
    if exclude is not None:
        others = others.exclude(pk=exclude)
    return tuple(Neighbour(lat, lon, at) for lat, lon, at in others.values_list("latitude", "longitude", "occurred_at"))


def incident_facts(incident: Incident, playbooks: list[Playbook], *, age_bands=None) -> IncidentFacts:
    """The facts the playbooks test; `age_bands` (the victims' as just written) saves a query."""
    hospital = incident.hospital
    if age_bands is None:
        age_bands = incident.victims.values_list("age_band", flat=True)
    return IncidentFacts(
        victim_count=incident.victim_count, fatal_count=incident.fatal_count,
        age_bands=tuple(age_bands),
        hospital=hospital.code if hospital else None,
        trauma_centre=bool(hospital and (hospital.adult_trauma_level or hospital.pediatric_trauma_level)),
        latitude=incident.latitude, longitude=incident.longitude, occurred_at=incident.occurred_at,
        gathering=incident.gathering, neighbours=_neighbours(incident, repeat_window(playbooks)),
    )


def scenarios_match(incident: Incident, *, age_bands=None, new: bool = False) -> list[Playbook]:
    """Match the active playbooks and store them on the incident (replacing the last match).

    `new`: the incident was just inserted and has no match to replace, so the links are one
    INSERT.
    """
    playbooks = active_playbooks()
    matched = (playbooks_matching(incident_facts(incident, playbooks, age_bands=age_bands), playbooks)
               if playbooks else [])
    if new:
        Through = Incident.scenarios.through
        Through.objects.bulk_create([Through(incident_id=incident.pk, playbook_id=p.pk) for p in matched])
    else:
        incident.scenarios.set(matched)
    return matched


def _playbook_partners(playbooks: list[Playbook], hospital: Hospital | None):
    """(organisation, the playbook bringing it in, True when it comes as the hospital's
    violence-intervention programme), in playbook order; an organisation may come more than once."""
    programme = hospital.violence_programme if hospital is not None else None
    # Every playbook's active partners in one query.
    prefetch_related_objects(playbooks, Prefetch("partners", queryset=Organization.objects.filter(active=True),
                                                 to_attr="active_partners"))
    for playbook in playbooks:
        for organization in playbook.active_partners:
            yield organization, playbook, False
        if (Organization.PartnerType.HOSPITAL in playbook.partner_types and programme is not None
                and programme.active):
            yield programme, playbook, True


def partner_routes(incident: Incident, playbooks: list[Playbook], *, skip: set[int]) -> list[Route]:
    """The partner organisations the matched playbooks bring in, each once, except `skip` (ids
    already routed or notified)."""
    routes: dict[int, Route] = {}
    hospital = incident.hospital if incident.hospital_id else None
    with override("en"):  # the reason is CPD's record, in English
        for organization, playbook, programme in _playbook_partners(playbooks, hospital):
            if programme:
                reason = f"violence-intervention programme of {hospital.name} (playbook {playbook.title})"
            elif relay_for(organization) == Notification.Relay.LIMITED:
                # A limited relay's reason names no playbook: "Fatal shooting" says more than CPD relays.
                reason = "partner named in a matched playbook"
            else:
                reason = f"partner in playbook {playbook.title}"
            if organization.pk not in skip and organization.pk not in routes:
                routes[organization.pk] = Route(organization=organization, reason=reason[:200])
    return list(routes.values())


@dataclass(frozen=True)
class PartnerPreview:
    organization: Organization
    reason: str  # in the reader's language
    limited: bool  # hears the place and the number of victims only


def partners_preview(*, facts: IncidentFacts, hospital: Hospital | None, skip: set[int],
                     language: str) -> list[PartnerPreview]:
    """Who the active playbooks would add for an incident not saved yet (the entry form's "who
    will be told"), each once, except `skip` (the covering organisations). `facts` needs no
    neighbours: they are looked up here when a playbook has a repeat rule. Nothing is stored."""
    playbooks = active_playbooks()
    if not playbooks:
        return []
    neighbours = _neighbours_near(facts.latitude, facts.longitude, facts.occurred_at, repeat_window(playbooks))
    matched = playbooks_matching(replace(facts, neighbours=neighbours), playbooks)
    previews: dict[int, PartnerPreview] = {}
    for organization, playbook, programme in _playbook_partners(matched, hospital):
        if organization.pk in skip or organization.pk in previews:
            continue
        title = playbook.title_in(language)
        limited = relay_for(organization) == Notification.Relay.LIMITED
        if programme:
            reason = _("Violence-intervention programme of %(hospital)s (playbook “%(playbook)s”)") % {
                "hospital": hospital.name, "playbook": title}
        elif limited:
            reason = _("Playbook “%(playbook)s”: told the place and the number of victims only") % {"playbook": title}
        else:
            reason = _("Playbook “%(playbook)s”") % {"playbook": title}
        previews[organization.pk] = PartnerPreview(organization=organization, reason=reason, limited=limited)
    return list(previews.values())


def scenarios_rematch(*, incidents, actor=None) -> int:
    """Match stored incidents again (imported history, or after a playbook was edited) and store
    the result, notifying nobody: a partner hears of an incident only when it is entered or
    corrected. Matches in bulk: a few queries whatever the number of incidents (victims, the
    shootings near each in time and place, and the places are read once). Returns how many
    incidents were matched; call it inside a transaction."""
    playbooks = active_playbooks()
    rows = list(incidents.values_list("pk", "victim_count", "fatal_count", "hospital__code",
                                      "hospital__adult_trauma_level", "hospital__pediatric_trauma_level",
                                      "latitude", "longitude", "occurred_at", "gathering"))
    if not rows:
        return 0
    ids = [row[0] for row in rows]
    bands: dict[int, list[str]] = {}
    for incident_id, band in Victim.objects.filter(incident_id__in=ids).values_list("incident_id", "age_band"):
        bands.setdefault(incident_id, []).append(band)
    window = repeat_window(playbooks)
    others = _others_index(rows, window)
    places = places_index()
    Through = Incident.scenarios.through
    links = []
    for pk, victims, fatal, code, adult, paediatric, latitude, longitude, occurred_at, gathering in rows:
        neighbours = ()
        if others is not None and latitude is not None and longitude is not None:
            neighbours = tuple(n for other, n in others.near(latitude, longitude, window[0]) if other != pk)
        facts = IncidentFacts(victim_count=victims, fatal_count=fatal, age_bands=tuple(bands.get(pk, ())),
                              hospital=code, trauma_centre=bool(adult or paediatric), latitude=latitude,
                              longitude=longitude, occurred_at=occurred_at, gathering=gathering,
                              neighbours=neighbours)
        links += [Through(incident_id=pk, playbook_id=p.pk) for p in playbooks_matching(facts, playbooks,
                                                                                        places=places)]
    Through.objects.filter(incident_id__in=ids).delete()
    Through.objects.bulk_create(links, batch_size=2000)
    audit_log(actor=actor, source="system", action="scenarios.rematched",
              data={"incidents": len(rows), "playbooks": [p.code for p in playbooks]})
    return len(rows)


def _others_index(rows, window: tuple[int, int] | None) -> PointIndex | None:
    """Every shooting with a point in the time the rows span (plus the repeat window), indexed."""
    if window is None:
        return None
    metres, days = window
    times = [row[8] for row in rows]
    others = Incident.objects.filter(
        latitude__isnull=False, longitude__isnull=False,
        occurred_at__gte=min(times) - timedelta(days=days), occurred_at__lte=max(times) + timedelta(days=days),
    ).values_list("pk", "latitude", "longitude", "occurred_at")
    return PointIndex([(lat, lon, (pk, Neighbour(lat, lon, at))) for pk, lat, lon, at in others],
                      cell_metres=max(metres, 1))
