"""Outreach forms: plain server-rendered HTML that works on a phone, with or without JavaScript."""

import uuid

from django import forms
from django.utils.translation import gettext_lazy as _

from districts.models import OnCall
from notifications.models import Notification
from notifications.state import TAP_STATUSES

from .labels import WEEKDAYS
from .models import NOTES_MAX, EngagedRole, Referral, ResponseType, RetaliationRisk


class LocalDateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%Y-%m-%dT%H:%M")


class StatusForm(forms.Form):
    status = forms.ChoiceField(choices=[(s, s) for s in TAP_STATUSES])
    reason = forms.ChoiceField(choices=[("", ""), *Notification.UnableReason.choices], required=False)


class CorrectionForm(forms.Form):
    status = forms.ChoiceField(choices=[(s, s) for s in TAP_STATUSES])
    at = forms.DateTimeField(label=_("Correct time"), widget=LocalDateTimeInput())


class ResponseForm(forms.Form):
    """The response log. Referral and people-engaged counts are one number field per kind."""

    client_key = forms.UUIDField(widget=forms.HiddenInput, initial=uuid.uuid4)
    arrived_at = forms.DateTimeField(label=_("Arrived at"), required=False, widget=LocalDateTimeInput(),
                                     help_text=_("Leave empty if nobody went."))
    response_types = forms.MultipleChoiceField(label=_("What we did"), choices=ResponseType.choices,
                                               required=False, widget=forms.CheckboxSelectMultiple)
    retaliation_risk = forms.ChoiceField(label=_("Risk of retaliation"), choices=RetaliationRisk.choices,
                                         initial=RetaliationRisk.UNKNOWN, widget=forms.RadioSelect)
    follow_up_on = forms.DateField(label=_("Follow up on"), required=False,
                                   widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    follow_up_task = forms.CharField(label=_("Follow-up task"), required=False, max_length=200,
                                     widget=forms.TextInput(attrs={"placeholder": _("e.g. visit the family")}))
    notes = forms.CharField(label=_("Private notes"), required=False, widget=forms.Textarea(attrs={"rows": 4}),
                            help_text=_("Stay inside your organisation. No names."))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The browser stops at the limit; the service says so clearly if a client sends more.
        self.fields["notes"].widget.attrs["maxlength"] = NOTES_MAX
        for kind, label in Referral.Kind.choices:
            self.fields[f"referral_{kind}"] = forms.IntegerField(
                label=label, required=False, min_value=0, max_value=500,
                widget=forms.NumberInput(attrs={"inputmode": "numeric", "placeholder": "0"}))
        for role, label in EngagedRole.choices:
            self.fields[f"engaged_{role}"] = forms.IntegerField(
                label=label, required=False, min_value=0, max_value=500,
                widget=forms.NumberInput(attrs={"inputmode": "numeric", "placeholder": "0"}))

    def referral_fields(self):
        return [self[f"referral_{k}"] for k in Referral.Kind.values]

    def engaged_fields(self):
        return [self[f"engaged_{r}"] for r in EngagedRole.values]

    def service_kwargs(self) -> dict:
        data = self.cleaned_data
        return {
            "client_key": data["client_key"],
            "arrived_at": data["arrived_at"],
            "response_types": data["response_types"],
            "retaliation_risk": data["retaliation_risk"],
            "referrals": {k: data[f"referral_{k}"] or 0 for k in Referral.Kind.values},
            "people_engaged": {r: data[f"engaged_{r}"] or 0 for r in EngagedRole.values},
            "follow_up_on": data["follow_up_on"],
            "follow_up_task": data["follow_up_task"],
            "notes": data["notes"],
        }

    def add_service_errors(self, error) -> None:
        """Put a service's {field: [messages]} on the matching form field."""
        mapped = {"referrals": "referral_other", "people_engaged": "engaged_victim"}
        for field, messages in error.message_dict.items():
            target = field if field in self.fields else mapped.get(field)
            for message in messages:
                self.add_error(target, message)


class AssignForm(forms.Form):
    assignee = forms.TypedChoiceField(label=_("Assign to"), coerce=int, required=False, empty_value=None)

    def __init__(self, *args, members=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assignee"].choices = [("", _("Nobody"))] + [
            (m.user_id, m.user.get_full_name() or m.user.username) for m in members]


class OnCallForm(forms.Form):
    user = forms.TypedChoiceField(label=_("Who"), coerce=int)
    tier = forms.TypedChoiceField(label=_("Role"), coerce=int, choices=OnCall.Tier.choices,
                                  initial=OnCall.Tier.PRIMARY)
    weekday = forms.TypedChoiceField(label=_("Day"), coerce=int, required=False, empty_value=None,
                                     choices=[("", _("Every day"))] + list(enumerate(WEEKDAYS)))
    starts = forms.TimeField(label=_("From"), required=False, widget=forms.TimeInput(attrs={"type": "time"}))
    ends = forms.TimeField(label=_("Until"), required=False, widget=forms.TimeInput(attrs={"type": "time"}))

    def __init__(self, *args, members=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["user"].choices = [(m.user_id, m.user.get_full_name() or m.user.username) for m in members]


class PolicyForm(forms.Form):
    ack_window_minutes = forms.IntegerField(
        label=_("Minutes to acknowledge before the backup is paged"), min_value=1, max_value=120)


class ChannelForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=[("email", _("Email")), ("sms", _("SMS")),
                                                      ("webhook", _("Webhook"))])
    target = forms.CharField(label=_("Address, number or URL"), max_length=500)
    is_fallback = forms.BooleanField(label=_("Use as fallback"), required=False)


class ConsentForm(forms.Form):
    share_arrival = forms.BooleanField(label=_("Share our arrival time"), required=False)
    share_response_category = forms.BooleanField(
        label=_("Share the kind of response (scene, hospital, family, mediation)"), required=False)


class LanguageForm(forms.Form):
    language = forms.ChoiceField(choices=[("en", "English"), ("es", "Español")])
