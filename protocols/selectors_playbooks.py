"""Reading playbooks and places for pages: the checklists an incident's viewer should see."""

from dataclasses import dataclass

from django.db.models import Count, QuerySet

from districts.models import Organization

from .models_playbooks import Place, Playbook


@dataclass(frozen=True)
class Card:
    """One matched playbook as a page shows it to one role, in one language."""

    code: str
    title: str
    description: str
    partner_types: list[str]
    steps: list[tuple[str, list[str]]]  # (role label, steps) for each role shown


def playbook_cards(playbooks, *, roles: list[str], language: str) -> list[Card]:
    """The matched playbooks with the steps for `roles` (most specific first); a playbook with
    no steps for any of those roles is still listed (its title tells the viewer it applies)."""
    labels = dict(Playbook.Role.choices)
    types = dict(Organization.PartnerType.choices)
    cards = []
    for playbook in playbooks:
        steps = [(str(labels[role]), playbook.checklist_for(role, language)) for role in roles]
        description = playbook.description_es if language == "es" and playbook.description_es else playbook.description
        cards.append(Card(code=playbook.code, title=playbook.title_in(language), description=description,
                          partner_types=[str(types.get(t, t)) for t in playbook.partner_types],
                          steps=[(label, s) for label, s in steps if s]))
    return cards


def playbooks_for_admin() -> QuerySet[Playbook]:
    return Playbook.objects.annotate(incident_count=Count("incidents")).prefetch_related("partners")


def playbook_by_code(code: str) -> Playbook | None:
    return Playbook.objects.filter(code=code).prefetch_related("partners").first()


def playbook_choices() -> list[tuple[str, str]]:
    """(code, title) of every playbook, for filters."""
    return list(Playbook.objects.order_by("position", "code").values_list("code", "title"))


def places_list() -> QuerySet[Place]:
    return Place.objects.order_by("kind", "name")


def place_by_code(code) -> Place | None:
    return Place.objects.filter(code=code).first()


def partner_organizations() -> QuerySet[Organization]:
    """Organisations a playbook may name as partners: every active one."""
    return Organization.objects.filter(active=True).order_by("partner_type", "name")
