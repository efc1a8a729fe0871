"""OpenAPI generation (drf-spectacular): component names and operation descriptions.

Kept apart from `core.api` because DRF loads the schema class from settings while its own
modules are still importing. Each app documents its own extras (an authentication scheme,
callbacks outside the API) next to what they describe.
"""

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import get_doc


class ApiSchema(AutoSchema):
    """Names components after their view: `IncidentCreateApi.OutputSerializer` → `IncidentCreateOutput`,
    so the nested HackSoft-style serializers never collide."""

    def get_serializer_name(self, serializer, direction) -> str:
        cls = serializer if isinstance(serializer, type) else type(serializer)
        parts = [part.removesuffix("Serializer").removesuffix("Api") for part in cls.__qualname__.split(".")]
        parts = [part for i, part in enumerate(parts) if part and (i == 0 or part not in ("Output", "Input"))
                 or i == len(parts) - 1]
        return "".join(dict.fromkeys(parts)) or cls.__name__

    def get_description(self) -> str:
        """The docstring of the operation's own view class, also where `endpoint()` joined two."""
        description = super().get_description()
        method = (self.method or "").lower()
        owner = next((klass for klass in type(self.view).__mro__ if method in vars(klass)), None)
        own = vars(owner).get("__doc__") if owner is not None else None
        return get_doc(owner) if own else description
