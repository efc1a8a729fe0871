"""Administrators' forms for playbooks and places. They shape input only: the services check
it (`rules.playbook_errors`) and their messages are put back on the same-named fields."""

import json

from django import forms
from django.core.exceptions import ValidationError
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from districts.models import Organization

from .models_playbooks import Playbook
from .selectors_playbooks import partner_organizations

ROLE_FIELDS = [(role, label) for role, label in Playbook.Role.choices]
MAX_UPLOAD = 5 * 1024 * 1024


def _steps_field(label, language):
    return forms.CharField(label=format_lazy("{} ({})", label, language), required=False,
                           widget=forms.Textarea(attrs={"rows": 4}), help_text=_("One step a line."))


class PlaybookForm(forms.Form):
    code = forms.SlugField(label=_("Code"), max_length=40, help_text=_("Stable, e.g. fatal: the API's scenarios."))
    title = forms.CharField(label=_("Title (English)"), max_length=120)
    title_es = forms.CharField(label=_("Title (Spanish)"), max_length=120, required=False)
    description = forms.CharField(label=_("Description (English)"), max_length=300, required=False)
    description_es = forms.CharField(label=_("Description (Spanish)"), max_length=300, required=False)
    rules = forms.CharField(
        label=_("Matching rules (JSON)"), required=False,
        widget=forms.Textarea(attrs={"rows": 5, "spellcheck": "false"}),
        help_text=_("A list; every rule must hold. Empty: every shooting."))
    partner_types = forms.MultipleChoiceField(label=_("Partner types to involve"), required=False,
                                              choices=Organization.PartnerType.choices,
                                              widget=forms.CheckboxSelectMultiple)
    partners = forms.ModelMultipleChoiceField(label=_("Partner organisations to notify"), required=False,
                                              queryset=Organization.objects.none(),
                                              widget=forms.CheckboxSelectMultiple)
    position = forms.IntegerField(label=_("Position"), min_value=0, max_value=1000, initial=100,
                                  help_text=_("Lower comes first: the most specific playbooks first."))
    active = forms.BooleanField(label=_("Active"), required=False, initial=True)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["partners"].queryset = partner_organizations()
        for role, label in ROLE_FIELDS:
            self.fields[f"steps_{role}"] = _steps_field(label, _("English"))
            self.fields[f"steps_{role}_es"] = _steps_field(label, _("Spanish"))

    def role_fields(self):
        return [(label, self[f"steps_{role}"], self[f"steps_{role}_es"]) for role, label in ROLE_FIELDS]

    def clean_rules(self):
        text = self.cleaned_data["rules"].strip()
        if not text:
            return []
        try:
            return json.loads(text)
        except json.JSONDecodeError as error:
            raise ValidationError(_("The rules are not valid JSON (line %(line)s, column %(col)s).") % {
                "line": error.lineno, "col": error.colno}) from None

    def clean(self):
        cleaned = super().clean()
        checklists = {}
        for role, _label in ROLE_FIELDS:
            english = [line.strip() for line in cleaned.get(f"steps_{role}", "").splitlines()]
            spanish = [line.strip() for line in cleaned.get(f"steps_{role}_es", "").splitlines()]
            if any(es and (i >= len(english) or not english[i]) for i, es in enumerate(spanish)):
                self.add_error(f"steps_{role}_es", _("A Spanish step has no English step on the same line: give "
                                                     "each step in English, and its Spanish on the same line."))
            steps = [{"en": en, **({"es": spanish[i]} if i < len(spanish) and spanish[i] else {})}
                     for i, en in enumerate(english) if en]
            if steps:
                checklists[role] = steps
        cleaned["checklists"] = checklists
        return cleaned

    def service_values(self) -> dict:
        data = self.cleaned_data
        return {name: data[name] for name in ("code", "title", "title_es", "description", "description_es", "rules",
                                              "partner_types", "checklists", "position", "active")}

    def add_service_errors(self, error: ValidationError) -> None:
        for name, messages in error.message_dict.items():
            target = name if name in self.fields else None
            if name == "checklists":
                target = "steps_outreach"
            for message in messages:
                self.add_error(target, message)


def playbook_initial(playbook: Playbook) -> dict:
    initial = {name: getattr(playbook, name) for name in ("code", "title", "title_es", "description",
                                                          "description_es", "partner_types", "position", "active")}
    initial["rules"] = json.dumps(playbook.rules, ensure_ascii=False, indent=1) if playbook.rules else ""
    initial["partners"] = list(playbook.partners.all())
    for role, _label in ROLE_FIELDS:
        steps = playbook.checklists.get(role, [])
        initial[f"steps_{role}"] = "\n".join(step.get("en", "") for step in steps)
        initial[f"steps_{role}_es"] = "\n".join(step.get("es", "") for step in steps)
    return initial


class PlacesUploadForm(forms.Form):
    file = forms.FileField(label=_("Places file (CSV)"),
                           help_text=_("Columns kind, name, latitude, longitude and, optionally, address."))

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD:
            raise ValidationError(_("The file is larger than 5 MB."))
        try:
            return upload.read().decode("utf-8-sig")
        except UnicodeDecodeError:
            raise ValidationError(_("The file is not UTF-8 text: save it as CSV (UTF-8).")) from None
