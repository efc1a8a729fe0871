from allauth.mfa.admin import AuthenticatorAdmin as AllauthAuthenticatorAdmin
from allauth.mfa.models import Authenticator
from django import forms
from django.contrib import admin, messages

from core.admin_kit import SafeAutocompleteAdmin

from .models import (
    Beat,
    Channel,
    CommunityArea,
    Coverage,
    District,
    Hospital,
    IntegrationToken,
    Membership,
    OnCall,
    Organization,
    UserToken,
)
from .services import integration_token_create, integration_token_revoke, user_tokens_revoke


@admin.register(District)
class DistrictAdmin(admin.ModelAdmin):
    list_display = ["number", "name", "station_address", "is_pilot"]
    list_filter = ["is_pilot"]
    search_fields = ["number", "name"]
    exclude = ["boundary"]


@admin.register(Beat)
class BeatAdmin(admin.ModelAdmin):
    list_display = ["number", "district", "sector"]
    list_filter = ["district"]
    search_fields = ["number"]
    exclude = ["boundary"]


@admin.register(CommunityArea)
class CommunityAreaAdmin(admin.ModelAdmin):
    list_display = ["number", "name"]
    search_fields = ["name", "number"]
    exclude = ["boundary"]


@admin.register(Hospital)
class HospitalAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "area", "adult_trauma_level", "pediatric_trauma_level", "active"]
    list_filter = ["active", "adult_trauma_level", "pediatric_trauma_level"]
    search_fields = ["code", "name"]


class CoverageInline(SafeAutocompleteAdmin, admin.TabularInline):
    model = Coverage
    extra = 0
    autocomplete_fields = ["community_area", "beat", "district"]


class ChannelInline(admin.TabularInline):
    model = Channel
    extra = 0
    fields = ["kind", "target", "user", "is_fallback", "active", "last_drill_at", "last_drill_ok"]
    readonly_fields = ["last_drill_at", "last_drill_ok"]


class OnCallInline(admin.TabularInline):
    model = OnCall
    extra = 0


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    list_display = ["name", "partner_type", "active", "signed_understanding", "ack_window_minutes"]
    list_filter = ["partner_type", "active", "signed_understanding"]
    search_fields = ["name", "short_name"]
    inlines = [CoverageInline, ChannelInline, OnCallInline]


@admin.register(Coverage)
class CoverageAdmin(admin.ModelAdmin):
    list_display = ["organization", "kind", "community_area", "beat", "district"]
    list_filter = ["kind", "organization"]
    search_fields = ["organization__name", "community_area__name", "beat__number"]


@admin.register(Membership)
class MembershipAdmin(SafeAutocompleteAdmin, admin.ModelAdmin):
    list_display = ["user", "role", "district", "organization", "language"]
    list_filter = ["role", "district", "organization", "language"]
    search_fields = ["user__username", "user__email"]
    autocomplete_fields = ["user"]


@admin.register(Channel)
class ChannelAdmin(admin.ModelAdmin):
    list_display = ["organization", "kind", "target", "user", "is_fallback", "active", "last_drill_ok"]
    list_filter = ["kind", "active", "is_fallback", "last_drill_ok", "organization"]
    search_fields = ["target", "organization__name"]


@admin.register(OnCall)
class OnCallAdmin(admin.ModelAdmin):
    list_display = ["organization", "user", "tier", "weekday", "starts", "ends"]
    list_filter = ["organization", "tier"]


class IntegrationTokenForm(forms.ModelForm):
    operations = forms.MultipleChoiceField(
        choices=IntegrationToken.Operation.choices, widget=forms.CheckboxSelectMultiple
    )

    class Meta:
        model = IntegrationToken
        fields = ["name", "organization", "district", "operations", "expires_at"]

    def clean(self):
        data = super().clean()
        if not self.instance.pk and bool(data.get("organization")) == bool(data.get("district")):
            raise forms.ValidationError("Scope the token to exactly one organisation or one district.")
        return data


@admin.register(IntegrationToken)
class IntegrationTokenAdmin(admin.ModelAdmin):
    """Tokens are created here and shown once, in the confirmation message; revoke with the action."""

    list_display = ["name", "key_prefix", "organization", "district", "created_at", "last_used_at", "revoked_at"]
    list_filter = ["organization", "district"]
    search_fields = ["name", "key_prefix"]
    readonly_fields = ["key_prefix", "created_by", "created_at", "last_used_at", "revoked_at"]
    fields = ["name", "organization", "district", "operations", "expires_at", *readonly_fields]
    actions = ["revoke"]
    form = IntegrationTokenForm

    def get_readonly_fields(self, request, obj=None):
        # Scope and operations are fixed once issued: issue a new token instead.
        return self.readonly_fields + (["organization", "district", "operations"] if obj else [])

    def save_model(self, request, obj, form, change):
        if change:
            obj.save(update_fields=["name", "expires_at"])
            return
        token, raw = integration_token_create(
            actor=request.user, name=obj.name, operations=list(obj.operations or []),
            organization=obj.organization, district=obj.district, expires_at=obj.expires_at,
        )
        obj.pk, obj.user_id, obj.key_prefix = token.pk, token.user_id, token.key_prefix
        messages.warning(request, f"Copy this token now; it will not be shown again: {raw}")

    @admin.action(description="Revoke the selected tokens")
    def revoke(self, request, queryset):
        for token in queryset:
            integration_token_revoke(token=token, actor=request.user)


@admin.register(UserToken)
class UserTokenAdmin(admin.ModelAdmin):
    """People's API tokens: who has one and until when; never the key. Revoke with the action."""

    list_display = ["user", "key_prefix", "created_at", "expires_at", "last_used_at", "revoked_at"]
    search_fields = ["user__username", "key_prefix"]
    fields = readonly_fields = ["user", "key_prefix", "created_at", "expires_at", "last_used_at", "revoked_at"]
    actions = ["revoke"]

    def has_add_permission(self, request) -> bool:
        return False  # issued by the API's sign-in only

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    @admin.action(description="Revoke every token of the selected tokens' users")
    def revoke(self, request, queryset):
        for user in {token.user for token in queryset.select_related("user")}:
            user_tokens_revoke(user=user, actor=request.user, source="web", reason="admin")


# allauth's own admin shows an authenticator's data, the TOTP secret and the recovery codes'
# seed among it: whoever reads it can produce the person's codes. Administrators see that a
# person has a second factor and may remove a lost one, nothing more.
admin.site.unregister(Authenticator)


@admin.register(Authenticator)
class AuthenticatorAdmin(AllauthAuthenticatorAdmin):
    fields = readonly_fields = ["user", "type", "created_at", "last_used_at"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
