from django.contrib import admin

from .models import Access, Event, Refusal


@admin.register(Event)
class EventAdmin(admin.ModelAdmin):
    list_display = ["at", "action", "source", "actor", "object_type", "object_code"]
    list_filter = ["source", "action", "object_type"]
    search_fields = ["action", "object_code", "actor__username"]
    date_hierarchy = "at"
    readonly_fields = [f.name for f in Event._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


# Views an organisation's own members made of its own records (`responses.*`, its export) are
# the organisation's to read (its access log, /team/access-log/), not the administrators'.
ORGANISATION_INTERNAL_ACTIONS = ("responses.viewed", "responses.listed", "records.exported")


class _ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Access)
class AccessAdmin(_ReadOnly):
    """Who viewed incidents, boards and exports: counted per person, page, organisation and hour."""

    list_display = ["hour", "actor", "role", "action", "object_type", "object_code", "count", "last_at"]
    list_filter = ["action", "role", "source"]
    search_fields = ["object_code", "actor__username"]
    date_hierarchy = "hour"

    def get_queryset(self, request):
        return super().get_queryset(request).exclude(action__in=ORGANISATION_INTERNAL_ACTIONS)


@admin.register(Refusal)
class RefusalAdmin(_ReadOnly):
    """Anonymous callers refused, counted per action, reason and hour."""

    list_display = ["hour", "action", "reason", "source", "count", "last_at"]
    list_filter = ["action", "source"]
    date_hierarchy = "hour"
