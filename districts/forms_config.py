"""Administrators' forms for organisations and their coverage. They shape input only: the
services (`services_config`) check it and their messages are put back on the same-named fields,
so a refused form comes back with everything the administrator typed."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from .models import Organization
from .selectors_config import coverage_choices
from .services_config import ACK_WINDOW, ORGANIZATION_FIELDS


class ServiceErrorsMixin:
    def add_service_errors(self, error: ValidationError) -> None:
        """The service's {field: [messages]} on the matching fields (the rest above the form)."""
        for name, messages in error.message_dict.items():
            for message in messages:
                self.add_error(name if name in self.fields else None, message)


class OrganizationForm(ServiceErrorsMixin, forms.Form):
    name = forms.CharField(label=_("Name"), max_length=120)
    short_name = forms.CharField(label=_("Short name"), max_length=40, required=False,
                                 help_text=_("How pages and messages name it, e.g. READI."))
    partner_type = forms.ChoiceField(label=_("Partner type"), choices=Organization.PartnerType.choices,
                                     initial=Organization.PartnerType.STREET_OUTREACH)
    active = forms.BooleanField(label=_("Active: incidents where it covers notify it"), required=False, initial=True)
    signed_understanding = forms.BooleanField(label=_("Signed the Professional Understanding"), required=False)
    signed_on = forms.DateField(label=_("Signed on"), required=False,
                                widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
                                error_messages={"invalid": _("Enter a date, e.g. 2026-03-07.")})
    phone = forms.CharField(label=_("Phone"), max_length=32, required=False)
    email = forms.EmailField(label=_("Email"), required=False)
    liaison_name = forms.CharField(label=_("Liaison's name"), max_length=120, required=False)
    liaison_title = forms.CharField(label=_("Liaison's title"), max_length=120, required=False)
    liaison_phone = forms.CharField(label=_("Liaison's phone"), max_length=32, required=False)
    liaison_email = forms.EmailField(label=_("Liaison's email"), required=False)
    ack_window_minutes = forms.IntegerField(
        label=_("Acknowledgement window (minutes)"), min_value=ACK_WINDOW[0], max_value=ACK_WINDOW[1], initial=10,
        help_text=_("Without an acknowledgement in this time, escalation pages the backup."))

    def service_values(self) -> dict:
        return {name: self.cleaned_data[name] for name in ORGANIZATION_FIELDS}


def organization_initial(organization: Organization) -> dict:
    return {name: getattr(organization, name) for name in ORGANIZATION_FIELDS}


class CoverageForm(ServiceErrorsMixin, forms.Form):
    """One place to add, from the real lists: `kind:number` (`community_area:68`, `beat:0723`)."""

    place = forms.ChoiceField(label=_("Place to cover"), error_messages={
        "invalid_choice": _("Choose a community area, beat or district from the list."),
        "required": _("Choose a place to cover.")})

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["place"].choices = [("", "—"), *coverage_choices()]

    def service_values(self) -> dict:
        kind, _sep, number = self.cleaned_data["place"].partition(":")
        return {"kind": kind, "number": number}
