"""The dashboard's filter (django-filter): the month the headline figures are for, a month range
for the tables, a district and an organisation.

The figures are not a queryset to narrow row by row: the view reads the cleaned values and
asks the selectors for exactly that district, organisation and range. The filter set's part is
the form, its choices scoped to the user and its messages: a malformed month, a month in the
future, a range backwards or longer than MAX_RANGE_MONTHS, a district or an organisation the
user may not see. The scenario filter narrows every figure to the incidents that matched one
playbook (`Incident.scenarios`, matched when the incident was entered or corrected).
"""

import django_filters
from django import forms
from django.utils.translation import gettext_lazy as _

from core.dates import today_local
from districts.models import District, Organization
from protocols.models import Playbook

from .selectors import Month

MAX_RANGE_MONTHS = 36


def this_month() -> Month:
    today = today_local()
    return Month(today.year, today.month)


def _index(month: Month) -> int:
    return month.year * 12 + month.month - 1


class MonthField(forms.CharField):
    """`YYYY-MM` → reviews.selectors.Month (None when empty); never a month after this one."""

    widget = forms.TextInput(attrs={"type": "month", "placeholder": "YYYY-MM", "pattern": r"\d{4}-\d{2}",
                                    "inputmode": "numeric", "maxlength": "7"})

    def to_python(self, value):
        value = super().to_python(value).strip()
        if not value:
            return None
        try:
            month = Month.parse(value)
        except ValueError:
            raise forms.ValidationError(_("“%(value)s” is not a month: use YYYY-MM, for example 2026-03."),
                                        code="invalid", params={"value": value}) from None
        if _index(month) > _index(this_month()):
            raise forms.ValidationError(_("%(value)s is in the future: choose %(now)s or earlier."),
                                        code="future", params={"value": month.label, "now": this_month().label})
        return month


class MonthFilter(django_filters.Filter):
    field_class = MonthField


class DashboardFilterForm(forms.Form):
    def clean(self):
        cleaned = super().clean()
        first, last = cleaned.get("month_from"), cleaned.get("month_to")
        if first and last:
            if _index(first) > _index(last):
                self.add_error("month_to", _("The range ends before it starts."))
            elif _index(last) - _index(first) + 1 > MAX_RANGE_MONTHS:
                self.add_error("month_to", _("Choose at most %(limit)s months at a time.") % {
                    "limit": MAX_RANGE_MONTHS})
        return cleaned


class DashboardFilter(django_filters.FilterSet):
    month = MonthFilter(label=_("Month"), help_text=_("The month of the headline figures and the trend's end."))
    month_from = MonthFilter(label=_("Tables from"))
    month_to = MonthFilter(label=_("Tables to"))
    district = django_filters.ModelChoiceFilter(
        label=_("District"), to_field_name="number", queryset=District.objects.none(), empty_label=_("All districts"),
        error_messages={"invalid_choice": _("There is no district “%(value)s” you can see.")},
    )
    organization = django_filters.ModelChoiceFilter(
        label=_("Organisation"), to_field_name="code", queryset=Organization.objects.none(),
        empty_label=_("All organisations"),
        error_messages={"invalid_choice": _("That organisation is not one you can see.")},
    )

    scenario = django_filters.ModelChoiceFilter(
        label=_("Scenario"), to_field_name="code", queryset=Playbook.objects.none(), empty_label=_("All incidents"),
        error_messages={"invalid_choice": _("There is no scenario playbook “%(value)s”.")},
    )

    class Meta:
        form = DashboardFilterForm
        fields: list[str] = []

    def __init__(self, data=None, *, districts, organizations, **kwargs):
        """`districts` and `organizations`: the choices this user may pick from."""
        super().__init__(data, queryset=District.objects.none(), **kwargs)
        self.filters["district"].queryset = districts
        self.filters["organization"].queryset = organizations
        self.filters["scenario"].queryset = Playbook.objects.order_by("position", "code")
