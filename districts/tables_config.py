"""The administrators' organisation list: its table (django-tables2) and filter (django-filter).
A filter value outside the lists (an unknown partner type) is a form error beside the field and
the page lists nothing until it is fixed."""

import django_filters
import django_tables2 as tables
from django import forms
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from .models import Organization

YES_NO = (("yes", _("Yes")), ("no", _("No")))
NARROW = {"td": {"class": "hide-narrow"}, "th": {"class": "hide-narrow"}}  # left out on a phone


class OrganizationTable(tables.Table):
    name = tables.Column(verbose_name=_("Organisation"),
                         linkify=("districts:organization_edit", {"code": tables.A("code")}))
    short_name = tables.Column(verbose_name=_("Short name"), default="—", attrs=NARROW)
    partner_type = tables.Column(verbose_name=_("Partner type"))
    coverage_count = tables.Column(verbose_name=_("Places covered"), attrs={"td": {"class": "num hide-narrow"},
                                                                            "th": {"class": "num hide-narrow"}})
    signed_understanding = tables.Column(verbose_name=_("Professional Understanding"))
    ack_window_minutes = tables.Column(verbose_name=_("Acknowledgement window"), attrs={
        "td": {"class": "num hide-narrow"}, "th": {"class": "num hide-narrow"}})
    active = tables.Column(verbose_name=_("State"))

    class Meta:
        template_name = "includes/table.html"
        attrs = {"class": "table organization-table"}
        orderable = True
        order_by = ("name",)
        empty_text = _("No organisation matches this filter.")
        fields = ()

    def render_partner_type(self, record):
        return record.get_partner_type_display()

    def render_signed_understanding(self, record):
        if not record.signed_understanding:
            return format_html('<span class="badge warn">{}</span>', _("Not yet signed"))
        return format_html('<span class="badge ok">{}</span>', record.signed_on or _("Signed"))

    def render_ack_window_minutes(self, value):
        return _("%(minutes)s min") % {"minutes": value}

    def render_active(self, value):
        if value:
            return format_html('<span class="badge ok">{}</span>', _("Active"))
        return format_html('<span class="badge">{}</span>', _("Inactive"))


def _yes_no(field: str):
    def method(self, queryset, name, value):
        return queryset.filter(**{field: value == "yes"})
    return method


class OrganizationFilter(django_filters.FilterSet):
    search = django_filters.CharFilter(label=_("Name"), method="filter_search", max_length=60,
                                       widget=forms.TextInput(attrs={"type": "search"}))
    partner_type = django_filters.ChoiceFilter(label=_("Partner type"), choices=Organization.PartnerType.choices,
                                               empty_label=_("Any type"))
    active = django_filters.ChoiceFilter(label=_("Active"), choices=YES_NO, method="filter_active",
                                         empty_label=_("Active or not"))
    signed = django_filters.ChoiceFilter(label=_("Signed the Professional Understanding"), choices=YES_NO,
                                         method="filter_signed", empty_label=_("Signed or not"))

    class Meta:
        model = Organization
        fields: list[str] = []

    filter_active = _yes_no("active")
    filter_signed = _yes_no("signed_understanding")

    def filter_search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(name__icontains=value) | queryset.filter(short_name__icontains=value)
