"""Domain exceptions of the notifications app. Bad input is a django ValidationError with a
{field: [messages]} dict; these are the other outcomes a view or API must turn into a status."""

from core.exceptions import Conflict, DomainError

__all__ = ["Conflict", "InvalidAcknowledgement", "TransportError"]


class InvalidAcknowledgement(DomainError):
    """A forged, expired or malformed acknowledgement link. Nothing changed."""


class TransportError(Exception):
    """A channel could not send. `permanent` means retrying cannot help (a refused number, a
    gone push subscription, a webhook URL outside the allow-list): the delivery dies at once.
    `timed_out` means the receiver did not answer in time: what opens a receiver's circuit
    (notifications/lanes.py)."""

    def __init__(self, message: str, *, permanent: bool = False, timed_out: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.permanent = permanent
        self.timed_out = timed_out
