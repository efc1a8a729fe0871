"""The incident history: every incident in the user's scope, filtered, sorted, paginated and
exported (CSV, XLSX).

CPD staff and commanders see their district, analysts every district; other roles get 403,
anonymous visitors the login page. Scope comes from `districts.access` and
`notifications.access` (through `selectors_history`). An invalid filter lists nothing and
shows the form's messages; it is never exported. Each export is audited (`history.exported`,
with the filter as codes and the row count), and asks for the password again when the user's
last one is older than ten minutes (`districts.auth.reauthentication_for_export`).
"""

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django_filters.views import FilterView
from django_tables2 import SingleTableMixin
from django_tables2.export import ExportMixin

from audit.models import Source
from audit.services import access_record, audit_log
from districts.access import require_role, scope_of
from districts.auth import reauthentication_for_export
from districts.models import Role

from . import selectors_history
from .filters import IncidentHistoryFilter
from .tables import SORT_CHOICES, XLSX_MAX_ROWS, HistoryExport, IncidentHistoryTable

HISTORY_ROLES = (Role.CPD_STAFF, Role.CPD_COMMANDER, Role.ANALYST)
PAGE_SIZE = 25


class IncidentHistoryView(LoginRequiredMixin, ExportMixin, SingleTableMixin, FilterView):
    template_name = "reviews/history.html"
    table_class = IncidentHistoryTable
    filterset_class = IncidentHistoryFilter
    table_pagination = {"per_page": PAGE_SIZE}  # the table paginates (a bad page number shows page 1 or the last)
    export_class = HistoryExport
    export_formats = (HistoryExport.CSV, HistoryExport.XLSX)
    export_name = "incident-history"

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            require_role(request.user, *HISTORY_ROLES)
        return super().dispatch(request, *args, **kwargs)

    def get_dataset_kwargs(self):
        return {"title": _("Incident history")[:31]}  # an XLSX sheet name holds 31 characters

    def get_queryset(self):
        return selectors_history.history_incidents(self.request.user)

    def get_filterset_kwargs(self, filterset_class):
        return {**super().get_filterset_kwargs(filterset_class), "user": self.request.user}

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(
            show_district=scope_of(self.request.user).citywide,
            filter_invalid=self.filterset.is_bound and not self.filterset.is_valid(),
            sort_choices=SORT_CHOICES,
            sort=self.request.GET.get("sort", "-occurred_at"),
        )
        return context

    def render_to_response(self, context, **kwargs):
        export_format = self.request.GET.get(self.export_trigger_param)
        if export_format and not context["filter_invalid"]:
            if export_format not in self.export_formats:
                messages.error(self.request, _("Export as CSV or XLSX."))
            elif (export := self._export(export_format)) is not None:
                return export
            query = self.request.GET.copy()
            query.pop(self.export_trigger_param, None)
            return redirect(f"{self.request.path}?{query.urlencode()}")
        return super(ExportMixin, self).render_to_response(context, **kwargs)

    def _export(self, export_format):
        """The export response, or None (with a message) when XLSX would be too large."""
        rows = self.object_list.count()
        if export_format == HistoryExport.XLSX and rows > XLSX_MAX_ROWS:
            messages.error(self.request, _(
                "%(rows)s incidents are more than an XLSX export holds (%(limit)s): narrow the "
                "filter or export CSV.") % {"rows": rows, "limit": XLSX_MAX_ROWS})
            return None
        reauthentication_for_export(self.request)  # raises: allauth confirms the password, then comes back
        audit_log(actor=self.request.user, source=Source.WEB, action="history.exported",
                  data={"format": export_format, "rows": rows, "filter": self.filterset.summary()})
        access_record(actor=self.request.user, source=Source.WEB, action="history.exported",
                      organization_codes=selectors_history.organizations_notified(self.object_list),
                      role=scope_of(self.request.user).role or "")
        return self.create_export(export_format)
