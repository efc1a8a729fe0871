"""The incident entry and correction form: a plain form plus a victims formset.

The forms only shape input; `notifications.services` validates it (geography, times, counts)
and its `ValidationError` messages are put back on the same-named fields here.
"""

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _

from core.dates import CHICAGO
from core.parsers import float_or_none, int_or_none
from districts.access import scope_of
from districts.models import Beat, CommunityArea, District, Hospital
from protocols.matching import IncidentFacts

from .intake import MAX_NOTE, MAX_VICTIMS
from .models import Incident, Victim

DATETIME_LOCAL = "%Y-%m-%dT%H:%M"


class IncidentForm(forms.Form):
    rd_number = forms.CharField(
        label=_("RD number"), required=False, max_length=12,
        widget=forms.TextInput(attrs={"autocomplete": "off", "placeholder": "JH411616", "autocapitalize": "characters",
                                      "spellcheck": "false"}),
    )
    occurred_at = forms.DateTimeField(
        label=_("Occurred at"), input_formats=[DATETIME_LOCAL, "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format=DATETIME_LOCAL),
        help_text=_("Chicago time."), error_messages={"required": _("Enter when the shooting happened."),
                                                    "invalid": _("Enter a date and time, e.g. 2026-03-07 21:14.")},
    )
    block = forms.CharField(
        label=_("Block"), max_length=120,
        widget=forms.TextInput(attrs={"placeholder": "6300 S HALSTED ST", "autocomplete": "off",
                                      "autocapitalize": "characters"}),
        help_text=_("Hundred-block address, never a house number."),
        error_messages={"required": _("Enter the block, e.g. 6300 S HALSTED ST.")},
    )
    latitude = forms.FloatField(label=_("Latitude"), required=False,
                                widget=forms.NumberInput(attrs={"step": "any", "inputmode": "decimal"}))
    longitude = forms.FloatField(label=_("Longitude"), required=False,
                                 widget=forms.NumberInput(attrs={"step": "any", "inputmode": "decimal"}))
    district = forms.ChoiceField(label=_("District"), error_messages={
        "invalid_choice": _("You can enter incidents for your own district only (%(value)s is not yours).")})
    beat = forms.ChoiceField(label=_("Beat"), required=False, error_messages={
        "invalid_choice": _("Beat %(value)s is not in the district.")})
    community_area = forms.TypedChoiceField(
        label=_("Community area"), required=False, coerce=int, empty_value=None,
        error_messages={"invalid_choice": _("Choose a community area from the list.")},
    )
    hospital = forms.ChoiceField(label=_("Hospital"), required=False, error_messages={
        "invalid_choice": _("“%(value)s” is not a known hospital.")})
    scene_status = forms.ChoiceField(label=_("Scene"), choices=Incident.SceneStatus.choices,
                                     initial=Incident.SceneStatus.ACTIVE, widget=forms.RadioSelect)
    gathering = forms.ChoiceField(
        label=_("At a vigil or funeral"), required=False, choices=Incident.Gathering.choices,
        help_text=_("Brings in the vigil and funeral playbook."),
        error_messages={"invalid_choice": _("Choose vigil, funeral or no.")},
    )
    note = forms.CharField(
        label=_("Note for outreach"), required=False, max_length=MAX_NOTE,
        widget=forms.Textarea(attrs={"rows": 3, "maxlength": MAX_NOTE}),
        help_text=_("Short and factual. No names, no suspects, no witnesses."),
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        scope = scope_of(user)
        districts = District.objects.defer("boundary")
        if scope.is_cpd:
            districts = districts.filter(pk=scope.district_id)
            self.fields["district"].initial = districts.first().number if districts else None
        self.fields["district"].choices = [(d.number, d.label) for d in districts]
        numbers = [d.number for d in districts]
        beats = list(Beat.objects.defer("boundary").filter(district__number__in=numbers))
        self.fields["beat"].choices = [("", "—")] + [(b.number, b.number) for b in beats]
        # Name first, so typing "eng" in the closed select lands on Englewood.
        areas = sorted(CommunityArea.objects.defer("boundary"), key=lambda a: a.name)
        self.fields["community_area"].choices = [("", "—")] + [(a.number, f"{a.display_name} ({a.number})")
                                                                for a in areas]
        # With its violence-intervention programme, which a playbook may route to.
        hospitals = list(Hospital.objects.filter(active=True).select_related("violence_programme"))
        self.fields["hospital"].choices = [("", _("Not known"))] + [(h.code, h.name) for h in hospitals]
        # The rows behind the choices, by their value: `service_arguments` hands them to the
        # service, which then need not read them again.
        self.rows = {"district": {d.number: d for d in districts}, "beat": {b.number: b for b in beats},
                     "community_area": {str(a.number): a for a in areas}, "hospital": {h.code: h for h in hospitals}}
        if not self.is_bound and "occurred_at" not in self.initial:
            self.initial["occurred_at"] = timezone.localtime().replace(second=0, microsecond=0)

    def add_service_errors(self, error: ValidationError, victims: "VictimFormSet") -> None:
        """Put the service's {field: [messages]} on the matching fields (victims on the formset)."""
        for name, messages in error.message_dict.items():
            for message in messages:
                if name == "victims":
                    victims.service_errors.append(message)
                elif name in self.fields:
                    self.add_error(name, message)
                else:
                    self.add_error(None, message)


class VictimForm(forms.Form):
    age_band = forms.ChoiceField(label=_("Age"), choices=Victim.AgeBand.choices, initial=Victim.AgeBand.UNKNOWN)
    sex = forms.ChoiceField(label=_("Sex"), choices=Victim.Sex.choices, initial=Victim.Sex.UNKNOWN)
    fatal = forms.BooleanField(label=_("Fatal"), required=False)
    gunshot = forms.BooleanField(label=_("Gunshot"), required=False, initial=True)

    def has_changed(self) -> bool:
        # A row on the form is a victim, even one left at "unknown, unknown": without this the
        # formset would treat an untouched row as blank and drop it.
        return True


class BaseVictimFormSet(forms.BaseFormSet):
    default_error_messages = {
        "too_few_forms": _("Add at least one victim."),
        "too_many_forms": _("At most %(num)d victims per incident.")  # Django fills in num,
    }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.service_errors: list[str] = []

    def victims(self) -> list[dict]:
        return [form.cleaned_data for form in self.forms if form.cleaned_data]


VictimFormSet = forms.formset_factory(
    VictimForm, formset=BaseVictimFormSet, extra=0, min_num=1, validate_min=True,
    max_num=MAX_VICTIMS, validate_max=True, absolute_max=MAX_VICTIMS + 10,
)


def incident_initial(incident: Incident) -> tuple[dict, list[dict]]:
    """The correction form's starting values: the incident as stored."""
    initial = {
        "rd_number": incident.rd_number or "", "occurred_at": timezone.localtime(incident.occurred_at),
        "block": incident.block, "latitude": incident.latitude, "longitude": incident.longitude,
        "district": incident.district.number, "beat": incident.beat.number if incident.beat else "",
        "community_area": incident.community_area.number if incident.community_area else "",
        "hospital": incident.hospital.code if incident.hospital else "", "scene_status": incident.scene_status,
        "note": incident.note, "gathering": incident.gathering,
    }
    victims = [{"age_band": v.age_band, "sex": v.sex, "fatal": v.fatal, "gunshot": v.gunshot}
               for v in incident.victims.all()]
    return initial, victims


def service_arguments(form: IncidentForm, victims: BaseVictimFormSet) -> dict:
    """The form's cleaned values under the service's keyword names; the district, beat,
    community area and hospital chosen as the rows the form already read."""
    data = dict(form.cleaned_data)
    for name, rows in form.rows.items():
        if data.get(name) not in (None, ""):
            data[name] = rows.get(str(data[name]), data[name])
    data["victims"] = victims.victims()
    return data


def preview_facts(params, *, point: tuple[float, float] | None = None) -> tuple[IncidentFacts, Hospital | None]:
    """The facts the "who will be told" preview matches playbooks on, from the form's fields as
    the page sends them (`victims` and `fatal` counts, one `age_band` per victim, `hospital`,
    `gathering`, `occurred_at` in Chicago time, `latitude`/`longitude` or the located `point`).

    The preview is a convenience, never a check: a value it cannot read is left out (no
    hospital, no gathering, now), and saving validates the form as usual.
    """
    victims = int_or_none(params.get("victims"), low=0, high=MAX_VICTIMS) or 0
    fatal = min(int_or_none(params.get("fatal"), low=0, high=MAX_VICTIMS) or 0, victims)
    bands = tuple(band for band in params.getlist("age_band")[:MAX_VICTIMS] if band in Victim.AgeBand.values)
    code = str(params.get("hospital") or "")[:16]
    hospital = Hospital.objects.filter(code=code, active=True).select_related("violence_programme").first() \
        if code else None
    gathering = params.get("gathering") or ""
    occurred_at = _local_datetime_or_none(params.get("occurred_at"))
    latitude, longitude = point or (float_or_none(params.get("latitude")), float_or_none(params.get("longitude")))
    if latitude is None or longitude is None:
        latitude = longitude = None
    facts = IncidentFacts(
        victim_count=victims, fatal_count=fatal, age_bands=bands, hospital=hospital.code if hospital else None,
        trauma_centre=bool(hospital and (hospital.adult_trauma_level or hospital.pediatric_trauma_level)),
        latitude=latitude, longitude=longitude, occurred_at=occurred_at or timezone.now(),
        gathering=gathering if gathering in Incident.Gathering.values else "",
    )
    return facts, hospital


def _local_datetime_or_none(value):
    """`2026-03-07T21:14` (a datetime-local field) as Chicago time, or None."""
    try:
        moment = parse_datetime(str(value or "")[:32])
    except ValueError:  # well formed but impossible: month 13
        return None
    if moment is not None and timezone.is_naive(moment):
        moment = moment.replace(tzinfo=CHICAGO)
    return moment
