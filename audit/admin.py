from django.contrib import admin

from core.admin_kit import ReadOnlyAdmin

from .models import Access, Event, Refusal


@admin.register(Event)
class EventAdmin(ReadOnlyAdmin):
    list_display = ["at", "action", "source", "actor", "object_type", "object_code"]
    list_filter = ["source", "action", "object_type"]
    search_fields = ["action", "object_code", "actor__username"]
    date_hierarchy = "at"
    readonly_fields = [f.name for f in Event._meta.fields]


# Views an organisation's own members made of its own records (`responses.*`, its export) are
# the organisation's to read (its access log, /team/access-log/), not the administrators'.
ORGANISATION_INTERNAL_ACTIONS = ("responses.viewed", "responses.listed", "records.exported")


@admin.register(Access)
class AccessAdmin(ReadOnlyAdmin):
    """Who viewed incidents, boards and exports: counted per person, page, organisation and hour."""

    list_display = ["hour", "actor", "role", "action", "object_type", "object_code", "count", "last_at"]
    list_filter = ["action", "role", "source"]
    search_fields = ["object_code", "actor__username"]
    date_hierarchy = "hour"

    def get_queryset(self, request):
        return super().get_queryset(request).exclude(action__in=ORGANISATION_INTERNAL_ACTIONS)


@admin.register(Refusal)
class RefusalAdmin(ReadOnlyAdmin):
    """Anonymous callers refused, counted per action, reason and hour."""

    list_display = ["hour", "action", "reason", "source", "count", "last_at"]
    list_filter = ["action", "source"]
    date_hierarchy = "hour"
