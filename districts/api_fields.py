"""API fields that know the portal's districts."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from .models import District, normalise_district


@extend_schema_field({"oneOf": [{"type": "string", "pattern": "^[0-9]{1,3}$"}, {"type": "integer"}],
                      "description": "CPD district number; `\"007\"`, `\"7\"` and `7` are the same."})
class DistrictField(serializers.Field):
    """A CPD district as three digits; accepts an integer or an unpadded string on input."""

    default_error_messages = {
        "invalid": "A district is a CPD district number, e.g. \"007\" or 7.",
        "unknown": "No district {number}.",
    }

    def to_internal_value(self, data) -> District:
        try:
            number = normalise_district(data)
        except ValueError:
            self.fail("invalid")
        district = District.objects.defer("boundary").filter(number=number).first()
        if district is None:
            self.fail("unknown", number=number)
        return district

    def to_representation(self, value) -> str:
        return value.number if isinstance(value, District) else str(value)
