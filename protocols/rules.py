"""The fields a playbook rule may name, and the check every saved playbook passes.

A rule is `{"field": ..., "op": ..., "value": ...}` (a place rule adds `metres`, a repeat rule
`metres` and `days`). A playbook's rules must all hold for it to match; no rules match every
shooting. `playbook_errors` returns every problem as `{name: [messages]}` so a form or the
loader can refuse the whole playbook with clear messages before anything is written.
"""

from django.utils.translation import gettext as _

from districts.models import Organization

from .models_playbooks import Place, Playbook

AGE_BANDS = ("0-19", "20-29", "30-39", "40-49", "50-59", "60+", "unknown")
GATHERINGS = ("vigil", "funeral")
HOSPITAL_VALUES = ("any", "trauma_centre")
MAX_METRES = 1000
MAX_DAYS = 60

# field: the operators it takes and what its value is.
FIELDS = {
    "victim_count": {"ops": ("gte", "eq"), "value": "count"},
    "fatal_count": {"ops": ("gte", "eq"), "value": "count"},
    "age_band": {"ops": ("any",), "value": AGE_BANDS},
    "hospital": {"ops": ("is",), "value": HOSPITAL_VALUES},
    "place": {"ops": ("within",), "value": tuple(Place.Kind.values)},
    "repeat": {"ops": ("within",), "value": None},
    "gathering": {"ops": ("in",), "value": GATHERINGS},
}
ROLES = tuple(Playbook.Role.values)
RESERVED_CODES = {"new"}  # the page that adds a playbook is playbooks/new/


def _number(value, low: int, high: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high


def _choices_error(number: int, name: str, value, allowed: tuple) -> str | None:
    values = value if isinstance(value, list) else [value]
    if not values or not all(isinstance(v, str) for v in values):
        return _("Rule %(n)s: give %(field)s one or more of %(allowed)s.") % {
            "n": number, "field": name, "allowed": ", ".join(allowed)}
    unknown = [v for v in values if v not in allowed]
    if unknown:
        return _("Rule %(n)s: “%(value)s” is not a value of %(field)s (known: %(allowed)s).") % {
            "n": number, "value": unknown[0], "field": name, "allowed": ", ".join(allowed)}
    return None


def rule_error(number: int, rule) -> str | None:
    """What is wrong with one rule (numbered from 1), or None."""
    if not isinstance(rule, dict) or "field" not in rule or "op" not in rule:
        return _("Rule %(n)s must be {\"field\": …, \"op\": …, \"value\": …}.") % {"n": number}
    name, op = rule["field"], rule["op"]
    if name not in FIELDS:
        return _("Rule %(n)s names an unknown field “%(field)s” (known: %(known)s).") % {
            "n": number, "field": name, "known": ", ".join(FIELDS)}
    spec = FIELDS[name]
    if op not in spec["ops"]:
        return _("Rule %(n)s: %(field)s takes the operator %(ops)s, not “%(op)s”.") % {
            "n": number, "field": name, "ops": " or ".join(spec["ops"]), "op": op}
    value = rule.get("value")
    if spec["value"] == "count":
        if not _number(value, 0, 50):
            return _("Rule %(n)s: %(field)s needs a whole number from 0 to 50.") % {"n": number, "field": name}
    elif name == "repeat":
        if not _number(rule.get("metres"), 10, MAX_METRES) or not _number(rule.get("days"), 1, MAX_DAYS):
            return _("Rule %(n)s: a repeat rule needs metres (10 to %(m)s) and days (1 to %(d)s).") % {
                "n": number, "m": MAX_METRES, "d": MAX_DAYS}
    else:
        problem = _choices_error(number, name, value, spec["value"])
        if problem:
            return problem
        if name == "place" and not _number(rule.get("metres"), 10, MAX_METRES):
            return _("Rule %(n)s: a place rule needs metres from 10 to %(m)s.") % {"n": number, "m": MAX_METRES}
    extra = set(rule) - {"field", "op", "value", "metres", "days"}
    if extra:
        return _("Rule %(n)s has an unknown key “%(key)s”.") % {"n": number, "key": sorted(extra)[0]}
    return None


def playbook_errors(*, code: str, title: str, rules, partner_types, checklists) -> dict[str, list[str]]:
    """Every problem with a playbook's content, by field name; {} when it may be saved."""
    errors: dict[str, list[str]] = {}
    if not code or not title:
        errors.setdefault("title" if not title else "code", []).append(_("Give the playbook a code and a title."))
    elif code in RESERVED_CODES:
        errors.setdefault("code", []).append(_("“%(code)s” is reserved: choose another code.") % {"code": code})
    if not isinstance(rules, list):
        errors.setdefault("rules", []).append(_("The rules are a list."))
    else:
        for number, rule in enumerate(rules, start=1):
            problem = rule_error(number, rule)
            if problem:
                errors.setdefault("rules", []).append(problem)
    known_types = Organization.PartnerType.values
    unknown = [t for t in partner_types or [] if t not in known_types]
    if unknown:
        errors.setdefault("partner_types", []).append(
            _("“%(value)s” is not a partner type (known: %(known)s).") % {
                "value": unknown[0], "known": ", ".join(known_types)})
    if not isinstance(checklists, dict) or not any(_steps(checklists.get(role)) for role in ROLES):
        errors.setdefault("checklists", []).append(_("A playbook needs a checklist for at least one role."))
    elif set(checklists) - set(ROLES):
        errors.setdefault("checklists", []).append(
            _("“%(role)s” is not a checklist role (known: %(known)s).") % {
                "role": sorted(set(checklists) - set(ROLES))[0], "known": ", ".join(ROLES)})
    elif any(len(_steps(steps)) != len(steps) for steps in checklists.values()):
        errors.setdefault("checklists", []).append(
            _("Each checklist step is {\"en\": text, \"es\": text}, the English not empty."))
    return errors


def _step_ok(step) -> bool:
    return (isinstance(step, dict) and isinstance(step.get("en"), str) and bool(step["en"].strip())
            and isinstance(step.get("es", ""), str) and set(step) <= {"en", "es"})


def _steps(steps) -> list:
    if not isinstance(steps, list):
        return []
    return [step for step in steps if _step_ok(step)]
