"""OpenAPI generation for the API (drf-spectacular): component names and the integration token scheme.

Kept apart from `api_support` because DRF loads the schema class from settings while its own
modules are still importing.
"""

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema


class ApiSchema(AutoSchema):
    """Names components after their view: `IncidentCreateApi.OutputSerializer` → `IncidentCreateOutput`,
    so the nested HackSoft-style serializers never collide."""

    def get_serializer_name(self, serializer, direction) -> str:
        cls = serializer if isinstance(serializer, type) else type(serializer)
        parts = [part.removesuffix("Serializer").removesuffix("Api") for part in cls.__qualname__.split(".")]
        parts = [part for i, part in enumerate(parts) if part and (i == 0 or part not in ("Output", "Input"))
                 or i == len(parts) - 1]
        return "".join(dict.fromkeys(parts)) or cls.__name__


class IntegrationTokenScheme(OpenApiAuthenticationExtension):
    target_class = "districts.api_auth.IntegrationTokenAuthentication"
    name = "integrationToken"

    def get_security_definition(self, auto_schema):
        return {"type": "apiKey", "in": "header", "name": "Authorization",
                "description": "An integration token from an administrator: `Token cvi_…`."}
