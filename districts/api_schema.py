"""OpenAPI generation for the API (drf-spectacular): component names and the integration token scheme.

Kept apart from `api_support` because DRF loads the schema class from settings while its own
modules are still importing.
"""

from drf_spectacular.extensions import OpenApiAuthenticationExtension
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


class IntegrationTokenScheme(OpenApiAuthenticationExtension):
    target_class = "districts.api_auth.IntegrationTokenAuthentication"
    name = "integrationToken"

    def get_security_definition(self, auto_schema):
        return {"type": "apiKey", "in": "header", "name": "Authorization",
                "description": "An integration token from an administrator: `Token cvi_…`."}


def _form(properties: dict[str, str], required: list[str]) -> dict:
    return {"content": {"application/x-www-form-urlencoded": {"schema": {
        "type": "object", "required": required,
        "properties": {name: {"type": "string", "description": text} for name, text in properties.items()}}}}}


SIGNATURE = {"name": "X-Twilio-Signature", "in": "header", "required": False, "schema": {"type": "string"},
             "description": "The provider's signature of the URL and form (Twilio); the console and test "
                            "backends check a shared secret header instead. A bad signature: 403, nothing changes."}
CALLBACKS = {
    "/sms/inbound/": {"post": {
        "operationId": "sms_inbound", "tags": ["callbacks"], "security": [], "parameters": [SIGNATURE],
        "summary": "An SMS reply from a worker's phone",
        "description": "`1`, `ACK` or `OK` acknowledges the sender's newest unacknowledged notification.",
        "requestBody": _form({"From": "The sender's number, E.164.", "Body": "The reply text."}, ["From"]),
        "responses": {"200": {"description": "A TwiML reply.", "content": {"text/xml": {"schema": {"type": "string"}}}},
                      "400": {"description": "No sender."}, "403": {"description": "Signature check failed."}},
    }},
    "/sms/status/": {"post": {
        "operationId": "sms_status", "tags": ["callbacks"], "security": [], "parameters": [SIGNATURE],
        "summary": "The SMS provider's delivery report for one message",
        "requestBody": _form({"MessageSid": "The provider's message id.",
                              "MessageStatus": "queued, sent, delivered, undelivered or failed.",
                              "ErrorCode": "The provider's error code, if any."}, ["MessageSid", "MessageStatus"]),
        "responses": {"204": {"description": "Recorded (or unknown message)."},
                      "403": {"description": "Signature check failed."}},
    }},
}
WEBHOOK_EVENT = {
    "type": "object", "required": ["id", "type", "data"],
    "description": "The body POSTed to an organisation's webhook URL, signed per Standard Webhooks "
                   "(`webhook-id`, `webhook-timestamp`, `webhook-signature` headers). `id` is the delivery's "
                   "code: drop duplicates by it. Test one with `POST /api/v1/organizations/{code}/webhook-test/`.",
    "properties": {
        "id": {"type": "string", "format": "uuid"},
        "type": {"type": "string", "enum": ["incident.notified", "incident.updated", "notification.escalated"]},
        "data": {"type": "object", "additionalProperties": True},
    },
}


def add_callbacks(result, generator, request, public):
    """Postprocessing hook: the SMS provider's callbacks (plain Django views, signed rather than
    authenticated) and the outbound webhook body, so the reference names every integration point."""
    result.setdefault("paths", {}).update(CALLBACKS)
    result.setdefault("components", {}).setdefault("schemas", {})["WebhookEvent"] = WEBHOOK_EVENT
    return result
