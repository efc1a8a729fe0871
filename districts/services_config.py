"""Administrators' writes about the protocol's configuration: organisations, the places they
cover, and which districts run the pilot. The portal's own pages call these (no Django admin
needed); each validates everything before writing, so bad input leaves nothing half-saved, and
appends its audit event in the same transaction.

Bad input raises ValidationError({field: [message]}). Audit events carry codes and choices:
an organisation's name and settings go in as before/after pairs, but its contact details
(phone, email, the liaison's name, title, phone and email) only as the names of the fields
that changed, never their values (audit.services refuses personal details).
"""

from datetime import date

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.services import audit_log

from .models import Beat, CommunityArea, Coverage, District, Organization, normalise_district

# What an administrator sets on an organisation (the service's keyword names).
ORGANIZATION_FIELDS = ("name", "short_name", "partner_type", "active", "signed_understanding", "signed_on", "phone",
                       "email", "liaison_name", "liaison_title", "liaison_phone", "liaison_email",
                       "ack_window_minutes")
CONTACT_FIELDS = frozenset({"phone", "email", "liaison_name", "liaison_title", "liaison_phone", "liaison_email"})
TEXT_LIMITS = {"name": 120, "short_name": 40, "phone": 32, "liaison_name": 120, "liaison_title": 120,
               "liaison_phone": 32}
ACK_WINDOW = (1, 120)  # minutes, as the supervisor's escalation policy page allows


# --- organisations ----------------------------------------------------------------------------

def _organization_errors(values: dict, *, organization: Organization | None) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    name = values["name"]
    if not name:
        errors["name"] = [_("Give the organisation's name.")]
    elif Organization.objects.filter(name__iexact=name).exclude(pk=getattr(organization, "pk", None)).exists():
        errors["name"] = [_("Another organisation is already called “%(name)s”.") % {"name": name}]
    for field, limit in TEXT_LIMITS.items():
        if len(values[field]) > limit and field not in errors:
            errors[field] = [_("At most %(limit)s characters.") % {"limit": limit}]
    if values["partner_type"] not in Organization.PartnerType.values:
        errors["partner_type"] = [_("Choose a partner type from the list.")]
    for field in ("email", "liaison_email"):
        if values[field]:
            try:
                validate_email(values[field])
            except ValidationError:
                errors[field] = [_("Enter an email address, e.g. desk@example.org.")]
    signed_on = values["signed_on"]
    if signed_on is not None and not values["signed_understanding"]:
        errors["signed_on"] = [_("A signing date needs “Signed the Professional Understanding” ticked.")]
    elif signed_on is not None and signed_on > timezone.localdate():
        errors["signed_on"] = [_("The signing date is in the future.")]
    window = values["ack_window_minutes"]
    if not isinstance(window, int) or isinstance(window, bool) or not ACK_WINDOW[0] <= window <= ACK_WINDOW[1]:
        errors["ack_window_minutes"] = [_("Between %(low)s and %(high)s minutes.") % {
            "low": ACK_WINDOW[0], "high": ACK_WINDOW[1]}]
    return errors


def _clean_values(values: dict) -> dict:
    unknown = set(values) - set(ORGANIZATION_FIELDS)
    if unknown:
        raise TypeError(f"unknown organisation fields: {', '.join(sorted(unknown))}")
    cleaned = {field: values.get(field) for field in ORGANIZATION_FIELDS}
    for field in ORGANIZATION_FIELDS:
        if field in TEXT_LIMITS or field in CONTACT_FIELDS:
            cleaned[field] = (cleaned[field] or "").strip()
    cleaned["active"] = bool(cleaned["active"])
    cleaned["signed_understanding"] = bool(cleaned["signed_understanding"])
    cleaned["partner_type"] = cleaned["partner_type"] or ""
    return cleaned


def _audit_value(value):
    return value.isoformat() if isinstance(value, date) else value


def _changes(before: dict, after: dict) -> dict:
    """The audit data of an edit: {"changed": {field: [before, after]}, "contact_changed": [fields]}.
    The organisation's name goes in as `organization_name`: the trail's `name` key is for people."""
    changed, contact = {}, []
    for field in ORGANIZATION_FIELDS:
        if before.get(field) == after[field]:
            continue
        if field in CONTACT_FIELDS:
            contact.append(field)
        else:
            key = "organization_name" if field == "name" else field
            changed[key] = [_audit_value(before.get(field)), _audit_value(after[field])]
    return {"changed": changed, "contact_changed": contact}


@transaction.atomic
def organization_create(*, actor, source: str, **values) -> Organization:
    """A new organisation with the values given (ORGANIZATION_FIELDS); it covers nothing yet."""
    values = _clean_values(values)
    if errors := _organization_errors(values, organization=None):
        raise ValidationError(errors)
    try:
        with transaction.atomic():  # two administrators adding the same name at once: the constraint decides
            organization = Organization.objects.create(**values)
    except IntegrityError:
        raise ValidationError({"name": [_("Another organisation is already called “%(name)s”.")
                                        % {"name": values["name"]}]}) from None
    audit_log(actor=actor, source=source, action="organization.created", obj=organization,
              data=_changes({}, values))
    return organization


@transaction.atomic
def organization_update(*, organization: Organization, actor, source: str, **values) -> Organization:
    """Change the organisation to the values given (every field in ORGANIZATION_FIELDS); an edit
    that changes nothing writes no event. A window change applies to escalations from now on."""
    values = _clean_values(values)
    if errors := _organization_errors(values, organization=organization):
        raise ValidationError(errors)
    locked = Organization.objects.select_for_update().get(pk=organization.pk)
    before = {field: getattr(locked, field) for field in ORGANIZATION_FIELDS}
    data = _changes(before, values)
    if not data["changed"] and not data["contact_changed"]:
        return locked
    for field, value in values.items():
        setattr(locked, field, value)
    try:
        with transaction.atomic():
            locked.save(update_fields=list(ORGANIZATION_FIELDS))
    except IntegrityError:
        raise ValidationError({"name": [_("Another organisation is already called “%(name)s”.")
                                        % {"name": values["name"]}]}) from None
    audit_log(actor=actor, source=source, action="organization.updated", obj=locked, data=data)
    return locked


# --- coverage ---------------------------------------------------------------------------------

def coverage_place(kind: str, number) -> Beat | CommunityArea | District | None:
    """The community area (1-77), beat (`714` or `0714`) or district (`7`, `007`) numbered so; None
    when there is none."""
    text = str(number or "").strip()
    if not (text.isascii() and text.isdigit()) or len(text) > 4:
        return None
    if kind == Coverage.Kind.COMMUNITY_AREA:
        return CommunityArea.objects.defer("boundary").filter(number=int(text)).first()
    if kind == Coverage.Kind.BEAT:
        return Beat.objects.defer("boundary").filter(number=text.zfill(4)).first()
    if kind == Coverage.Kind.DISTRICT:
        try:
            return District.objects.defer("boundary").filter(number=normalise_district(text)).first()
        except ValueError:
            return None
    return None


def _place_code(coverage: Coverage) -> str:
    place = coverage.place
    return str(place.number)


@transaction.atomic
def coverage_add(*, organization: Organization, actor, source: str, kind: str, number) -> Coverage:
    """The organisation covers one more community area, beat or whole district from now on:
    incidents entered there notify it."""
    if kind not in Coverage.Kind.values:
        raise ValidationError({"place": [_("Choose a community area, a beat or a district.")]})
    place = coverage_place(kind, number)
    if place is None:
        missing = {Coverage.Kind.COMMUNITY_AREA: _("There is no community area numbered %(number)s."),
                   Coverage.Kind.BEAT: _("There is no beat numbered %(number)s."),
                   Coverage.Kind.DISTRICT: _("There is no police district numbered %(number)s.")}[kind]
        raise ValidationError({"place": [missing % {"number": str(number)[:10]}]})
    coverage = Coverage(organization=organization, kind=kind, **{kind: place})
    try:
        with transaction.atomic():  # the unique constraints decide a race between two administrators
            coverage.save()
    except IntegrityError:
        raise ValidationError({"place": [_("%(organization)s already covers %(place)s.") % {
            "organization": organization, "place": place}]}) from None
    audit_log(actor=actor, source=source, action="coverage.added", obj=organization,
              data={"kind": kind, "place": _place_code(coverage)})
    return coverage


@transaction.atomic
def coverage_remove(*, coverage: Coverage, actor, source: str) -> None:
    """The organisation no longer covers this place: incidents entered there from now on do not
    notify it (incidents already routed keep their notifications)."""
    data = {"kind": coverage.kind, "place": _place_code(coverage)}
    organization = coverage.organization
    coverage.delete()
    audit_log(actor=actor, source=source, action="coverage.removed", obj=organization, data=data)


# --- districts --------------------------------------------------------------------------------

@transaction.atomic
def district_pilot_set(*, district: District, actor, source: str, is_pilot: bool) -> District:
    """Mark the district as running the pilot, or not. Routing does not read this flag: it is
    which districts the citywide pages, the board, the directory and the reports list first."""
    locked = District.objects.select_for_update().defer("boundary").get(pk=district.pk)
    if locked.is_pilot == is_pilot:
        return locked
    locked.is_pilot = is_pilot
    locked.save(update_fields=["is_pilot"])
    audit_log(actor=actor, source=source, action="district.pilot_set", obj=locked,
              data={"district": locked.number, "is_pilot": [not is_pilot, is_pilot]})
    return locked
