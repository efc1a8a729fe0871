from django.contrib import admin

from .models import Delivery, Incident, Notification, TimelineEntry, Victim


class VictimInline(admin.TabularInline):
    model = Victim
    extra = 0


@admin.register(Incident)
class IncidentAdmin(admin.ModelAdmin):
    list_display = ["rd_number", "occurred_at", "block", "district", "beat", "victim_count", "fatal_count", "source"]
    list_filter = ["district", "source", "scene_status"]
    search_fields = ["rd_number", "block", "code"]
    date_hierarchy = "occurred_at"
    inlines = [VictimInline]
    raw_id_fields = ["beat", "community_area", "entered_by"]


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["incident", "organization", "kind", "status", "acknowledged_at", "escalation_level"]
    list_filter = ["status", "kind", "organization"]
    search_fields = ["code", "incident__rd_number"]
    raw_id_fields = ["incident", "acknowledged_by", "assigned_to"]


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    list_display = ["created_at", "kind", "purpose", "target", "status", "attempts", "sent_at", "last_error"]
    list_filter = ["status", "kind", "purpose"]
    search_fields = ["code", "target", "provider_id"]
    raw_id_fields = ["notification", "channel", "recipient"]


@admin.register(TimelineEntry)
class TimelineEntryAdmin(admin.ModelAdmin):
    list_display = ["at", "incident", "kind", "text"]
    list_filter = ["kind"]
    raw_id_fields = ["incident", "notification", "delivery"]
