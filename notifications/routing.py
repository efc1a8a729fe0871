"""Routing: which organisations hear about an incident, and why.

An organisation is notified when one of its coverage rules names the incident's community
area, beat or district. It is notified once per incident however many rules match; the reason
lists every matching rule so the incident page can say why each organisation was told.
"""

from dataclasses import dataclass

from django.db.models import Q

from districts.models import Coverage, Organization

from .models import Incident

# Reasons list the closest rule first.
RULE_ORDER = [Coverage.Kind.COMMUNITY_AREA, Coverage.Kind.BEAT, Coverage.Kind.DISTRICT]


@dataclass(frozen=True)
class Route:
    organization: Organization
    reason: str  # "covers community area 68 Englewood"


def _rule_text(coverage: Coverage) -> str:
    if coverage.kind == Coverage.Kind.COMMUNITY_AREA:
        area = coverage.community_area
        return f"covers community area {area.number} {area.display_name}"
    if coverage.kind == Coverage.Kind.BEAT:
        return f"covers beat {coverage.beat.number}"
    return f"covers district {int(coverage.district.number)} ({coverage.district.name})"


def organizations_for_incident(incident: Incident) -> list[Route]:
    """Active organisations covering the incident's place, each once, ordered by name.

    One query whatever the number of organisations: the matching coverage rows with their
    organisations and places (the places name the reasons).
    """
    match = Q(pk__in=[])
    if incident.community_area_id:
        match |= Q(community_area_id=incident.community_area_id)
    if incident.beat_id:
        match |= Q(beat_id=incident.beat_id)
    if incident.district_id:
        match |= Q(district_id=incident.district_id)
    coverage = Coverage.objects.filter(match, organization__active=True).select_related(
        "organization", "community_area", "beat", "district"
    ).defer("community_area__boundary", "beat__boundary", "district__boundary").order_by("organization__name", "pk")
    organizations: dict[int, Organization] = {}  # in the database's name order
    rules: dict[int, list[Coverage]] = {}
    for rule in coverage:
        organizations.setdefault(rule.organization_id, rule.organization)
        rules.setdefault(rule.organization_id, []).append(rule)
    return [Route(organization=org, reason="; ".join(
                _rule_text(rule) for rule in sorted(rules[pk], key=lambda rule: (RULE_ORDER.index(rule.kind), rule.pk))
            )[:200]) for pk, org in organizations.items()]
