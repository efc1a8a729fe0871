from django.contrib import admin

from .models import ActionItem, CpdIncident, CpdVictim, Review, ReviewAttendance, ReviewDistrict, ReviewTheme


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


# --- the shooting review meeting: read-only here, written through reviews/services.py (audited) ---


class _MeetingReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class _ReviewDistrictInline(admin.TabularInline):
    model = ReviewDistrict
    fields = ["district", "month"]
    extra = 0

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Review)
class ReviewAdmin(_MeetingReadOnly):
    list_display = ["month", "status", "meeting_at", "created_at", "closed_at"]
    list_filter = ["status"]
    date_hierarchy = "month"
    inlines = [_ReviewDistrictInline]
    exclude = ["districts"]


@admin.register(ReviewTheme)
class ReviewThemeAdmin(_MeetingReadOnly):
    list_display = ["review", "tag", "free_tag", "created_at"]
    list_filter = ["tag"]


@admin.register(ActionItem)
class ActionItemAdmin(_MeetingReadOnly):
    list_display = ["review", "status", "due_date", "closed_at", "created_at"]
    list_filter = ["status"]


@admin.register(ReviewAttendance)
class ReviewAttendanceAdmin(_MeetingReadOnly):
    list_display = ["review", "organization", "present"]
    list_filter = ["present"]
