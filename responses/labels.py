"""Presentation for outreach pages: what the models' own (translated) labels cannot say.

Choices are labelled, and marked for translation, on the models: use `get_FOO_display()` or
`.label`. This module keeps only the words outreach pages use instead of, or beside, those
labels: how a notification's status reads to the organisation it reached, the scene as a
phrase, the badge tones, and the days of the week of an on-call row.
"""

from django.utils.translation import gettext_lazy as _

from notifications.models import Notification

# To the organisation a message reached, the delivery detail behind it does not matter yet:
# it is new until someone acknowledges it.
_STATUS_FOR_OUTREACH = {
    Notification.Status.PENDING: _("Not yet sent"),
    Notification.Status.SENT: _("New"),
    Notification.Status.DELIVERED: _("New"),
    Notification.Status.FAILED: _("New"),
}
# Tone of the status badge (colour is never the only cue: the word is always shown).
STATUS_TONE = {"acknowledged": "info", "en_route": "info", "on_scene": "ok", "at_hospital": "ok", "unable": "warn"}

SCENE_STATUS = {"active": _("Scene active"), "secured": _("Scene secured"), "cleared": _("Scene cleared")}

WEEKDAYS = [_("Monday"), _("Tuesday"), _("Wednesday"), _("Thursday"), _("Friday"), _("Saturday"), _("Sunday")]


def status_label(status: str, default: str | None = None) -> str:
    """A notification status as outreach reads it; `default` (else the value) for an unknown one."""
    if status in _STATUS_FOR_OUTREACH:
        return _STATUS_FOR_OUTREACH[status]
    if status in Notification.Status.values:
        return Notification.Status(status).label
    return status if default is None else default

# What each access-log action means, as the organisation reads it (`/team/access-log/`).
ACCESS_ACTIONS = {
    "incident.viewed": _("Opened the incident page"),
    "board.viewed": _("Viewed the district board"),
    "review.viewed": _("Opened the monthly shooting review"),
    "history.exported": _("Exported the incident history"),
    "dashboard.exported": _("Exported dashboard figures"),
    "responses.viewed": _("Opened the incident and your responses"),
    "responses.listed": _("Listed your responses through the API"),
    "records.exported": _("Exported your organisation's records"),
}
