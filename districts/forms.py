"""Forms of the administrator's people pages and of everyone's account page.

The forms check types and choices; the rules about a role and its scope live in the services
(`user_invite`, `membership_change`), whose ValidationError the views put back on these forms
beside the field at fault, with everything typed kept.
"""

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from .models import Role
from .selectors import districts_all, organizations_active


class ScopeFields(forms.Form):
    """A role and the district or organisation it is held in."""

    role = forms.ChoiceField(label=_("Role"), choices=[("", "—"), *Role.choices])
    district = forms.ModelChoiceField(
        label=_("District (CPD roles)"), queryset=None, required=False, to_field_name="number",
        empty_label=_("No district"),
        error_messages={"invalid_choice": _("There is no such district.")},
    )
    organization = forms.ModelChoiceField(
        label=_("Organisation (outreach roles)"), queryset=None, required=False, to_field_name="code",
        empty_label=_("No organisation"),
        error_messages={"invalid_choice": _("There is no such active organisation.")},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["district"].queryset = districts_all()
        self.fields["organization"].queryset = organizations_active()


class InviteForm(ScopeFields):
    email = forms.EmailField(label=_("Email address"), max_length=150,
                             help_text=_("They sign in with it."))
    first_name = forms.CharField(label=_("First name"), max_length=150)
    last_name = forms.CharField(label=_("Last name"), max_length=150, required=False)
    language = forms.ChoiceField(label=_("Language of the invitation and the portal"),
                                 choices=settings.LANGUAGES, initial="en")

    field_order = ["email", "first_name", "last_name", "role", "district", "organization", "language"]


class MembershipForm(ScopeFields):
    pass


class LanguageForm(forms.Form):
    language = forms.ChoiceField(label=_("Language"), choices=settings.LANGUAGES)
