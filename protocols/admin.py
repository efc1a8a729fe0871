"""The Django admin for protocols: a read-mostly view. Documents are published from the portal's
own pages (protocols/views_documents.py), which keep every version and write the audit events;
here versions, acknowledgements and sign-offs are shown, not edited."""

from django.contrib import admin

from .models import (
    KnowledgeQuestion,
    OnboardingSignOff,
    Pathway,
    PathwayStep,
    ProtocolAcknowledgement,
    ProtocolDocument,
    ProtocolVersion,
)


class ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ProtocolDocument)
class ProtocolDocumentAdmin(ReadOnly):
    list_display = ["slug", "kind", "position", "created_at"]


@admin.register(ProtocolVersion)
class ProtocolVersionAdmin(ReadOnly):
    list_display = ["document", "number", "language", "title", "effective_on", "published_at"]
    list_filter = ["document", "language"]


@admin.register(ProtocolAcknowledgement)
class ProtocolAcknowledgementAdmin(ReadOnly):
    list_display = ["user", "document", "number", "language", "acknowledged_at"]
    list_filter = ["document"]


class StepInline(admin.TabularInline):
    model = PathwayStep
    fields = ["position", "kind", "document", "title", "title_es"]
    extra = 0


@admin.register(Pathway)
class PathwayAdmin(admin.ModelAdmin):
    list_display = ["role", "title"]
    inlines = [StepInline]


@admin.register(KnowledgeQuestion)
class KnowledgeQuestionAdmin(admin.ModelAdmin):
    list_display = ["step", "position", "text"]
    list_filter = ["step__pathway"]


@admin.register(OnboardingSignOff)
class OnboardingSignOffAdmin(ReadOnly):
    list_display = ["user", "pathway", "signed_at"]
