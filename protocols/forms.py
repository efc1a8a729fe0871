from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from .models import ProtocolDocument


class VersionForm(forms.Form):
    """A new version of a document (English: the next number) or a translation of the current one."""

    language = forms.ChoiceField(label=_("Language"), choices=settings.LANGUAGES, initial="en",
                                 help_text=_("English publishes the next version; Spanish translates the current one."))
    title = forms.CharField(label=_("Title"), max_length=200)
    body = forms.CharField(label=_("Text (Markdown)"), widget=forms.Textarea(attrs={"rows": 24}), max_length=100_000,
                           help_text=_("Headings with #, lists with - or 1., **bold**, [links](https://…). "
                                       "Raw HTML and images are shown as text."))
    effective_on = forms.DateField(label=_("Takes effect on"), required=False,
                                   widget=forms.DateInput(attrs={"type": "date"}),
                                   help_text=_("Not before the current version's date. A translation takes the "
                                               "English version's date."))
    change_note = forms.CharField(label=_("What changed"), max_length=300, required=False)


class DocumentForm(VersionForm):
    """A new document and its first version (in English)."""

    slug = forms.SlugField(label=_("Address"), max_length=60,
                           help_text=_("Lower-case words and hyphens, e.g. vigil-guidance."))
    kind = forms.ChoiceField(label=_("Kind"), choices=ProtocolDocument.Kind.choices,
                             initial=ProtocolDocument.Kind.OTHER)
    field_order = ["slug", "kind", "title", "body", "effective_on", "change_note"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        del self.fields["language"]
