from django.contrib import admin

from .models import Event, RefusalCount


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


@admin.register(RefusalCount)
class RefusalCountAdmin(admin.ModelAdmin):
    """Refused anonymous requests per hour (forged or expired acknowledgement links, unsigned
    SMS callbacks): a rising count is someone probing."""

    list_display = ["hour", "action", "reason", "count"]
    list_filter = ["action", "reason"]
    date_hierarchy = "hour"
    readonly_fields = [f.name for f in RefusalCount._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
