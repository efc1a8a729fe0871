"""The shooting review meeting's forms. They check the shape of what was typed (a month, a
district the user may use, a date); the rules about the review itself (no duplicate, an owner,
a due date not before the meeting, a closed review) are the services', whose ValidationError
the view puts back on the form, so a refused form keeps everything that was typed.
"""

from django import forms
from django.utils.translation import gettext_lazy as _

from districts.models import District

from .filters_dashboard import MonthField
from .models import ActionItem, Review, ReviewTheme


class ReviewCreateForm(forms.Form):
    month = MonthField(label=_("Month"), help_text=_("The month under review, YYYY-MM (Chicago time)."))
    districts = forms.ModelMultipleChoiceField(
        label=_("District(s)"), queryset=District.objects.none(), to_field_name="number",
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Choose at least one district."),
                        "invalid_choice": _("District “%(value)s” is not one you can review."),
                        "invalid_pk_value": _("District “%(pk)s” is not one you can review.")},
    )

    def __init__(self, *args, districts, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["districts"].queryset = districts
        self.fields["month"].required = True
        self.fields["month"].error_messages["required"] = _("Give the month, for example 2026-03.")
        if len(districts) == 1 and not self.is_bound:
            self.initial["districts"] = [districts[0].number]


class ReviewUpdateForm(forms.Form):
    meeting_at = forms.DateTimeField(
        label=_("Meeting date and time"), required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        error_messages={"invalid": _("Give the date and time, for example 2026-04-08 10:00.")},
    )
    status = forms.ChoiceField(label=_("Status"),
                               choices=[(Review.Status.DRAFT, Review.Status.DRAFT.label),
                                        (Review.Status.HELD, Review.Status.HELD.label)])
    notes = forms.CharField(label=_("Minutes"), required=False, max_length=10_000,
                            widget=forms.Textarea(attrs={"rows": 6}),
                            help_text=_("Decisions and discussion. No names or details of victims or of "
                                        "the people outreach works with."))


class ReviewThemeForm(forms.Form):
    tag = forms.ChoiceField(label=_("Theme"), required=False,
                            choices=[("", _("— choose or write your own —")), *ReviewTheme.Tag.choices])
    free_tag = forms.CharField(label=_("Your own tag"), required=False, max_length=60)
    note = forms.CharField(label=_("Note"), required=False, max_length=2_000, widget=forms.Textarea(attrs={"rows": 3}))


class ActionItemForm(forms.Form):
    text = forms.CharField(label=_("Action"), max_length=1_000, widget=forms.Textarea(attrs={"rows": 2}),
                           error_messages={"required": _("Say what is to be done.")})
    owner_user = forms.ModelChoiceField(label=_("Owner (portal user)"), required=False, queryset=None,
                                        empty_label=_("— none: name the owner below —"))
    owner_name = forms.CharField(label=_("Or a named party or organisation"), required=False, max_length=120)
    due_date = forms.DateField(label=_("Due date"), required=False, widget=forms.DateInput(attrs={"type": "date"}),
                               error_messages={"invalid": _("Give the date as YYYY-MM-DD.")})

    def __init__(self, *args, people, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner_user"].queryset = people
        self.fields["owner_user"].label_from_instance = lambda user: user.get_full_name() or user.get_username()


class ActionItemStatusForm(forms.Form):
    status = forms.ChoiceField(label=_("Status"), choices=ActionItem.Status.choices)


class AttendanceForm(forms.Form):
    PRESENT = [("present", _("Present")), ("absent", _("Absent"))]

    user = forms.ModelChoiceField(label=_("Portal user"), required=False, queryset=None,
                                  empty_label=_("— none: write the name below —"))
    name = forms.CharField(label=_("Or a name"), required=False, max_length=120)
    organization = forms.CharField(label=_("Organisation or agency"), required=False, max_length=120)
    present = forms.ChoiceField(label=_("Attendance"), choices=PRESENT, initial="present",
                                widget=forms.RadioSelect)

    def __init__(self, *args, people, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = people
        self.fields["user"].label_from_instance = lambda user: user.get_full_name() or user.get_username()
