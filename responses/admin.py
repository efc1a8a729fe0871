from django.contrib import admin

from .models import FollowUp, Referral, ResponseLog


class ReferralInline(admin.TabularInline):
    model = Referral
    extra = 0


@admin.register(ResponseLog)
class ResponseLogAdmin(admin.ModelAdmin):
    list_display = ["code", "organization", "created_by", "created_at", "retaliation_risk"]
    list_filter = ["organization", "retaliation_risk"]
    search_fields = ["code", "client_key"]
    raw_id_fields = ["notification", "created_by"]
    inlines = [ReferralInline]


@admin.register(FollowUp)
class FollowUpAdmin(admin.ModelAdmin):
    list_display = ["task", "organization", "assigned_to", "due_on", "done_at", "reminded_at"]
    list_filter = ["organization"]
    raw_id_fields = ["notification", "response", "assigned_to", "created_by"]
