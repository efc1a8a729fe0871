from django.contrib import admin

from .models import CpdIncident, CpdVictim


class _ImportedOnly(admin.ModelAdmin):
    """CPD's own record: written by `manage.py import_cpd_victims` only, so read-only here."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(CpdIncident)
class CpdIncidentAdmin(_ImportedOnly):
    list_display = ["rd_number", "occurred_at", "block", "district", "beat", "victim_count", "fatal_count",
                    "cpd_updated_at", "changed_at"]
    list_filter = ["district"]
    search_fields = ["rd_number", "block"]
    date_hierarchy = "occurred_at"


@admin.register(CpdVictim)
class CpdVictimAdmin(_ImportedOnly):
    list_display = ["unique_id", "rd_number", "occurred_at", "district", "victimization", "age_band", "sex",
                    "fatal", "cpd_updated_at", "changed_at"]
    list_filter = ["district", "fatal", "victimization"]
    search_fields = ["unique_id", "rd_number"]
    date_hierarchy = "occurred_at"
