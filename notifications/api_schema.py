"""What notifications documents in the OpenAPI reference beyond its API views: the SMS
provider's callbacks (`inbound.py`, plain Django views, signed rather than authenticated) and
the body of an outbound webhook (`transports.py`). Wired as a drf-spectacular postprocessing
hook in settings.
"""


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
