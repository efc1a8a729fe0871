"""The Users page's filter (django-filter): role, district, organisation, active, and a search
by name or email address. An unknown district or organisation is a message beside the field."""

import django_filters
from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from .models import Role
from .selectors import districts_all, organizations_for_filter

YES_NO = (("yes", _("Yes")), ("no", _("No")))


class PeopleFilter(django_filters.FilterSet):
    search = django_filters.CharFilter(
        label=_("Name or email"), method="filter_search", max_length=100,
        widget=forms.TextInput(attrs={"type": "search"}),
    )
    role = django_filters.ChoiceFilter(label=_("Role"), field_name="membership__role", choices=Role.choices,
                                       empty_label=_("Any role"))
    district = django_filters.ModelChoiceFilter(
        label=_("District"), field_name="membership__district", to_field_name="number", queryset=None,
        empty_label=_("All districts"),
        error_messages={"invalid_choice": _("There is no such district.")},
    )
    organization = django_filters.ModelChoiceFilter(
        label=_("Organisation"), field_name="membership__organization", to_field_name="code", queryset=None,
        empty_label=_("All organisations"),
        error_messages={"invalid_choice": _("That organisation is not in the list.")},
    )
    active = django_filters.ChoiceFilter(label=_("Active"), choices=YES_NO, method="filter_active",
                                         empty_label=_("Active or not"))

    class Meta:
        fields: list[str] = []

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.filters["district"].queryset = districts_all()
        self.filters["organization"].queryset = organizations_for_filter()

    def filter_search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(first_name__icontains=value) | Q(last_name__icontains=value)
                               | Q(email__icontains=value) | Q(username__icontains=value))

    def filter_active(self, queryset, name, value):
        return queryset.filter(is_active=value == "yes")
