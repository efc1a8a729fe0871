"""A short checklist per kind of scene, shown with the incident.

The protocol documents (protocols/) are not written yet; these are the few steps every
organisation's scene-response training shares. The first matching kind is shown first.
"""

from django.utils.translation import gettext_lazy as _

PLAYBOOKS = {
    "fatal": {
        "title": _("Someone was killed"),
        "steps": [
            _("Check in with your supervisor before going to the scene."),
            _("Find the family; offer presence and practical help first."),
            _("Watch for talk of retaliation among friends and peers; start mediation early."),
            _("Offer funeral assistance and trauma support referrals."),
            _("Plan the follow-up visit within 72 hours."),
        ],
    },
    "youth": {
        "title": _("A young person was shot"),
        "steps": [
            _("Go to the hospital: the paediatric violence intervention team may already be there."),
            _("Reach the parent or guardian; keep the young person's school in mind."),
            _("Identify friends at risk of retaliation or of being targeted next."),
            _("Offer trauma support for siblings and friends."),
        ],
    },
    "multiple": {
        "title": _("Several people were shot"),
        "steps": [
            _("Call a second team member before you go; split between scene and hospitals."),
            _("Keep your distance from the police line; do not cross it."),
            _("Count the families to reach; share the list with your supervisor only."),
        ],
    },
    "standard": {
        "title": _("Scene response"),
        "steps": [
            _("Acknowledge now so the backup is not paged."),
            _("Go only if it is safe; if not, tap Unable to respond and say why."),
            _("At the scene: calm, listen, keep away from the police line."),
            _("At the hospital: support the family in the waiting area."),
            _("Log the response before the end of your shift."),
        ],
    },
}


def playbooks_for(incident) -> list[dict]:
    """The checklists that apply to this incident, most specific first, always ending with the standard one."""
    kinds = []
    if incident.fatal_count:
        kinds.append("fatal")
    if incident.victims.filter(age_band="0-19").exists():
        kinds.append("youth")
    if incident.victim_count > 1:
        kinds.append("multiple")
    kinds.append("standard")
    return [{"kind": k, **PLAYBOOKS[k]} for k in kinds]
