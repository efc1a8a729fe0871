"""Validators for channel targets. Kept in `districts` (where Channel lives) so the model's
`clean()`, the services and the transports, which check again at send time, can use them.
The rules themselves are `core.outbound`'s, the one guard for every address the portal calls."""

from django.core.exceptions import ValidationError

from core.outbound import OutboundRefused, push_policy, webhook_policy


def webhook_url_validate(url: str) -> None:
    """Refuse a webhook URL that could reach inside the network.

    The host is resolved and every address it resolves to must be public (not private,
    loopback, link-local, reserved, multicast, CGNAT…), unless the host is listed in
    settings.WEBHOOK_ALLOWED_HOSTS; an allow-listed host may also use plain http. Raises
    ValidationError with a message a supervisor can act on; returns None when the URL is fine.
    """
    try:
        webhook_policy().save_check(url)
    except OutboundRefused as exc:
        raise ValidationError(exc.reason, code=exc.code) from None


def push_endpoint_validate(url: str) -> None:
    """Refuse a web push endpoint that is not one of the browsers' push services
    (settings.PUSH_SERVICE_HOSTS) over https. The address is resolved and checked at send time."""
    try:
        push_policy().url_check(url)
    except OutboundRefused as exc:
        raise ValidationError(exc.reason, code=exc.code) from None
