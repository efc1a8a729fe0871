"""The portal's models share one change to Django's: `get_FOO_display()` reads a label table
built once per field and language.

Django's own builds `dict(make_hashable(field.flatchoices))` on every call, and hashing a lazy
label translates it, so each call translates every choice of the field: the board's live part
showed ~90 labels and spent ~500 gettext calls (a quarter of its render) on them. Choices here are
static (TextChoices and settings.LANGUAGES), so the table cannot go stale; a value that cannot be
a dictionary key (a list in a JSON field) falls back to Django's way.
"""

from functools import lru_cache

from django.db import models
from django.utils.encoding import force_str
from django.utils.translation import get_language


@lru_cache(maxsize=1024)
def _labels(field, language: str | None) -> dict:
    return {value: force_str(label) for value, label in field.flatchoices}


class ChoiceLabels(models.Model):
    class Meta:
        abstract = True

    def _get_FIELD_display(self, field):
        value = getattr(self, field.attname)
        try:
            label = _labels(field, get_language()).get(value, value)
        except TypeError:  # an unhashable value
            return super()._get_FIELD_display(field)
        return force_str(label, strings_only=True)
