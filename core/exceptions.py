"""Base domain exceptions. Services raise them; the view, API or task turns them into a
message or a status code. Bad input is a django ValidationError with a {field: [messages]}
dict; these are the other outcomes."""


class DomainError(Exception):
    """Something the caller asked for cannot happen; the message is safe to show."""


class Conflict(DomainError):
    """The request contradicts what is stored (a duplicate RD number with different content). 409."""


class NotAllowed(DomainError):
    """The actor may not do this to this object. 403."""


class NotFound(DomainError):
    """The object does not exist for this actor. 404."""
