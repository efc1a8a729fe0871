"""The Django admin for protocols: a read-mostly view. Documents are published from the portal's
own pages (protocols/views_documents.py), which keep every version and write the audit events;
here versions, acknowledgements and sign-offs are shown, not edited."""

from django.contrib import admin

from core.admin_kit import ReadOnlyAdmin

from .models import (
    KnowledgeQuestion,
    OnboardingSignOff,
    Pathway,
    PathwayStep,
    ProtocolAcknowledgement,
    ProtocolDocument,
    ProtocolVersion,
)


@admin.register(ProtocolDocument)
class ProtocolDocumentAdmin(ReadOnlyAdmin):
    list_display = ["slug", "kind", "position", "created_at"]


@admin.register(ProtocolVersion)
class ProtocolVersionAdmin(ReadOnlyAdmin):
    list_display = ["document", "number", "language", "title", "effective_on", "published_at"]
    list_filter = ["document", "language"]


@admin.register(ProtocolAcknowledgement)
class ProtocolAcknowledgementAdmin(ReadOnlyAdmin):
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
class OnboardingSignOffAdmin(ReadOnlyAdmin):
    list_display = ["user", "pathway", "signed_at"]
