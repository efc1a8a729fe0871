"""The administrator's Users table (django-tables2): one row per person, linked to their page."""

import django_tables2 as tables
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _


def _badge(kind: str, text) -> str:
    return format_html('<span class="badge {}">{}</span>', kind, text)


class PeopleTable(tables.Table):
    name = tables.Column(verbose_name=_("Name"), accessor="pk", order_by=("last_name", "first_name"),
                         empty_values=())
    email = tables.Column(verbose_name=_("Email"), default="—")
    role = tables.Column(verbose_name=_("Role"), accessor="membership__role", order_by=("membership__role",),
                         default="—")
    scope = tables.Column(verbose_name=_("District or organisation"), accessor="pk", orderable=False,
                          empty_values=())
    is_active = tables.Column(verbose_name=_("Active"), empty_values=())
    last_login = tables.DateTimeColumn(verbose_name=_("Last login"), format="Y-m-d H:i", default="—",
                                       attrs={"td": {"class": "nowrap"}})
    invitation_pending = tables.Column(verbose_name=_("Invitation"), empty_values=())

    class Meta:
        template_name = "includes/table.html"
        attrs = {"class": "table people-table"}
        orderable = True
        empty_text = _("Nobody matches this filter.")
        fields = ()

    def render_name(self, record):
        label = record.get_full_name() or record.username
        membership = getattr(record, "membership", None)
        if membership is None:  # no role in the portal (a Django superuser): the Django admin's
            return label
        return format_html('<a href="{}">{}</a>', reverse("districts:user", args=[membership.code]), label)

    def render_role(self, record):
        return record.membership.get_role_display()

    def render_scope(self, record):
        membership = getattr(record, "membership", None)
        if membership is None:
            return format_html('<span class="muted">{}</span>', _("No role"))
        if membership.district:
            return membership.district.label
        if membership.organization:
            return str(membership.organization)
        return format_html('<span class="muted">{}</span>', _("Citywide"))

    def render_is_active(self, value):
        return _badge("ok", _("Active")) if value else _badge("alert", _("Deactivated"))

    def render_invitation_pending(self, record):
        if not record.invitation_pending:
            return "—"
        if record.invitation.expires_at <= timezone.now():
            return _badge("alert", _("Expired"))
        return _badge("warn", _("Pending"))
