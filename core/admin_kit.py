"""Shared pieces of the apps' Django admins.

`ReadOnlyAdmin`: a model the admin shows and never changes (audit trails, published versions).

The autocomplete select, safe with a value that is not an id:

Django's `AutocompleteSelect` looks the submitted value up to show it again when the form comes
back with errors; a value that is not a number (`²`, `abc`) then raises inside the widget, a
500 instead of the form's own "Select a valid choice". `SafeAutocompleteAdmin` gives a model
admin's autocomplete fields the widget below, which shows such a value as nothing chosen.
"""

from django.contrib import admin
from django.contrib.admin.widgets import AutocompleteSelect
from django.core.exceptions import ValidationError


class SafeAutocompleteSelect(AutocompleteSelect):
    def optgroups(self, name, value, attr=None):
        try:
            return super().optgroups(name, value, attr)
        except (ValueError, TypeError, ValidationError):
            return super().optgroups(name, [], attr)


class SafeAutocompleteAdmin:
    """A mixin for ModelAdmin and InlineModelAdmin, before the Django class."""

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name in self.get_autocomplete_fields(request):
            kwargs.setdefault("widget", SafeAutocompleteSelect(db_field, self.admin_site, using=kwargs.get("using")))
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
