"""The incident history's filter (django-filter).

Every choice is scoped to the user: CPD staff and commanders are offered their own district and
its beats, analysts every district. A value outside those (an unknown district or beat, a
malformed date or organisation code) is a form error the page shows beside the field; the page
then lists nothing rather than guessing. Dates are Chicago calendar days, "to" included.
"""

from datetime import date, timedelta

import django_filters
from django import forms
from django.utils.translation import gettext_lazy as _

from core.dates import day_start
from districts.models import normalise_district

from . import selectors_history as history

FATAL_CHOICES = (("yes", _("Fatal")), ("no", _("Not fatal")))


EARLIEST, LATEST = date(1900, 1, 1), date(2100, 12, 31)


class HistoryFilterForm(forms.Form):
    def clean(self):
        cleaned = super().clean()
        for name in ("occurred_from", "occurred_to"):
            day = cleaned.get(name)
            if day and not EARLIEST <= day <= LATEST:
                self.add_error(name, _("Give a date between 1900 and 2100."))
                cleaned.pop(name, None)
        start, end = cleaned.get("occurred_from"), cleaned.get("occurred_to")
        if start and end and start > end:
            self.add_error("occurred_to", _("The end date is before the start date."))
        return cleaned


def _date_input():
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def _padded(data):
    """The query with a district or beat number written as people write it (`7`, `723`) padded
    as the data holds it (`007`, `0723`); anything else is left for the form to refuse."""
    if data is None:
        return None
    data = data.copy()
    try:
        if data.get("district"):
            data["district"] = normalise_district(data["district"])
    except ValueError:
        pass
    beat = (data.get("beat") or "").strip()
    if beat.isascii() and beat.isdigit() and len(beat) < 4:
        data["beat"] = beat.zfill(4)
    return data


class IncidentHistoryFilter(django_filters.FilterSet):
    search = django_filters.CharFilter(
        label=_("RD number or block"), method="filter_search", max_length=60,
        widget=forms.TextInput(attrs={"type": "search", "placeholder": _("e.g. JH123456 or HALSTED")}),
    )
    occurred_from = django_filters.DateFilter(label=_("From"), method="filter_from", widget=_date_input())
    occurred_to = django_filters.DateFilter(label=_("To"), method="filter_to", widget=_date_input())
    district = django_filters.ModelChoiceFilter(
        label=_("District"), field_name="district", to_field_name="number", queryset=None,
        empty_label=_("All districts"),
        error_messages={"invalid_choice": _("There is no district “%(value)s” you can see.")},
    )
    beat = django_filters.ModelChoiceFilter(
        label=_("Beat"), field_name="beat", to_field_name="number", queryset=None,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "placeholder": "0723", "maxlength": "4"}),
        error_messages={"invalid_choice": _("There is no beat “%(value)s” in the districts you can see.")},
    )
    community_area = django_filters.ModelChoiceFilter(
        label=_("Community area"), field_name="community_area", to_field_name="number", queryset=None,
        empty_label=_("All community areas"),
        error_messages={"invalid_choice": _("There is no community area “%(value)s”.")},
    )
    organization = django_filters.ModelChoiceFilter(
        label=_("Organisation notified"), method="filter_organization", to_field_name="code", queryset=None,
        empty_label=_("Any organisation"),
        error_messages={"invalid_choice": _("That organisation is not in the list.")},
    )
    fatal = django_filters.ChoiceFilter(label=_("Fatal"), choices=FATAL_CHOICES, method="filter_fatal",
                                        empty_label=_("Fatal or not"))
    state = django_filters.ChoiceFilter(label=_("State"), choices=list(history.STATES.items()),
                                        method="filter_state", empty_label=_("Any state"))
    scenario = django_filters.ModelChoiceFilter(
        label=_("Scenario"), field_name="scenarios", to_field_name="code", queryset=None,
        empty_label=_("Any scenario"),
        error_messages={"invalid_choice": _("There is no scenario playbook “%(value)s”.")},
    )

    class Meta:
        form = HistoryFilterForm
        fields: list[str] = []

    def __init__(self, data=None, *args, user, **kwargs):
        super().__init__(_padded(data), *args, **kwargs)
        self.filters["district"].queryset = history.history_districts(user)
        self.filters["beat"].queryset = history.history_beats(user)
        self.filters["community_area"].queryset = history.history_community_areas()
        self.filters["organization"].queryset = history.history_organizations()
        self.filters["scenario"].queryset = history.history_scenarios()

    def filter_search(self, queryset, name, value):
        return history.incidents_matching(queryset, value.strip()) if value.strip() else queryset

    def filter_from(self, queryset, name, value):
        return queryset.filter(occurred_at__gte=day_start(value))

    def filter_to(self, queryset, name, value):
        return queryset.filter(occurred_at__lt=day_start(value + timedelta(days=1)))

    def filter_organization(self, queryset, name, value):
        return history.incidents_notifying(queryset, value)

    def filter_fatal(self, queryset, name, value):
        return queryset.filter(fatal_count__gt=0) if value == "yes" else queryset.filter(fatal_count=0)

    def filter_state(self, queryset, name, value):
        return history.incidents_in_state(queryset, value)

    def summary(self) -> dict:
        """The applied filter as codes and numbers (for the audit trail): no free text but the search."""
        if not self.is_bound or not self.is_valid():
            return {}
        data = {}
        for key, value in self.form.cleaned_data.items():
            if value in (None, ""):
                continue
            if key in ("district", "beat", "community_area"):
                value = value.number
            elif key == "organization":
                value = str(value.code)
            elif key == "scenario":
                value = value.code
            elif hasattr(value, "isoformat"):
                value = value.isoformat()
            data[key] = value
        return data
