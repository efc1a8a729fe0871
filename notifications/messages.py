"""What each delivery says: one function per message kind, rendered from
templates/notifications/messages/<kind>{-subject.txt,.txt,.html} and sms.txt.

The trust boundary: every body carries the district, block, time, victim count and links
(the one-tap acknowledgement and the full incident behind login). Never names, never the
CPD note, never anything from an organisation's own record. Webhook `data` carries the same
facts plus codes.

A follow-up reminder is the one message with no notification: it goes to one worker's own
channels and says only that a follow-up is due, when, and where the list is (behind login).
Never the task text (it may hold names), nothing from the response log.

Language: a message to one person is written in that person's Membership.language (Spanish or
English); a shared channel (an organisation's dispatch list) gets English. Times are Chicago
time in every language. Webhook `data` is language-neutral.
"""

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from django.conf import settings
from django.template import Context
from django.template.loader import get_template, render_to_string
from django.urls import NoReverseMatch, reverse
from django.utils.translation import get_language, gettext_lazy, override, pgettext
from django.utils.translation import gettext as _

from core.dates import CHICAGO

from .acknowledgements import ack_url
from .exceptions import TransportError
from .models import Delivery, Notification

INCIDENT_NOTIFIED = "incident.notified"
INCIDENT_UPDATED = "incident.updated"
NOTIFICATION_ESCALATED = "notification.escalated"
NOTIFICATION_DRILL = "notification.drill"
FOLLOWUP_REMINDER = "followup.reminder"

ESCALATION_ROLES = {1: gettext_lazy("the on-call backup"), 2: gettext_lazy("a supervisor"),
                    3: gettext_lazy("the CSCC duty desk")}


@dataclass(frozen=True)
class Message:
    kind: str
    subject: str
    text: str
    html: str
    short: str  # SMS and push body
    ack_url: str  # the one-tap acknowledgement ("" when there is nothing to acknowledge)
    data: dict = field(default_factory=dict)  # the webhook's "data"
    url: str = ""  # where tapping the message leads (a push notification's click)


def _portal_url(notification: Notification) -> str:
    """The outreach page of this notification (behind login); the home page for a drill."""
    if notification.incident_id is None:
        return settings.SITE_URL + "/"
    try:
        # By name only (no import): the outreach pages live in `responses`, above this app.
        path = reverse("responses:incident", kwargs={"code": notification.code})
    except NoReverseMatch:
        path = "/"
    return settings.SITE_URL + path


def _context(delivery: Delivery, headline: str) -> dict:
    notification = delivery.notification
    incident = notification.incident
    context = {
        "headline": headline,
        "notification": notification,
        "incident": incident,
        "organization": notification.organization,
        "ack_url": ack_url(delivery),
        "portal_url": _portal_url(notification),
    }
    if incident is not None:
        context.update(
            district=_("District %(number)s (%(name)s)") % {"number": int(incident.district.number),
                                                             "name": incident.district.name},
            district_number=int(incident.district.number),
            occurred_local=incident.occurred_at.astimezone(CHICAGO),
            occurred_format=pgettext("date and time in a message", "D N j, g:i A"),
            playbooks=[p.title_in(get_language()) for p in _scenarios(notification)],
        )
    return context


def _scenarios(notification: Notification) -> list:
    """The incident's matched playbooks, unless the notification is a limited relay (victim
    services hear the place and the number of victims only: a "fatal" playbook would say more)."""
    if notification.incident_id is None or notification.relay == Notification.Relay.LIMITED:
        return []
    return list(notification.incident.scenarios.all())


def _data(delivery: Delivery, context: dict) -> dict:
    notification, incident = delivery.notification, delivery.notification.incident
    data = {"notification": str(notification.code), "organization": str(notification.organization.code),
            "purpose": delivery.purpose, "acknowledge_url": context["ack_url"]}
    if incident is not None:
        data["incident"] = {
            "code": str(incident.code),
            "district": incident.district.number,
            "block": incident.block,
            "occurred_at": incident.occurred_at.isoformat(),
            "victim_count": incident.victim_count,
            "scenarios": [p.code for p in _scenarios(notification)],
        }
    return data


def _plain(template_name: str, context: dict) -> str:
    """A subject, text body or SMS rendered as plain text: no HTML escaping, so a name such as
    O'Brien arrives as written, not as `O&#x27;Brien` (only the .html body is escaped)."""
    return get_template(template_name).template.render(Context(context, autoescape=False))


def _render(kind: str, delivery: Delivery, headline: str, **extra) -> Message:
    name = kind.replace(".", "_")
    context = {**_context(delivery, headline), **extra}
    base = f"notifications/messages/{name}"
    return Message(
        kind=kind,
        subject=" ".join(_plain(f"{base}-subject.txt", context).split()),
        text=_plain(f"{base}.txt", context),
        html=render_to_string(f"{base}.html", context),
        short=" ".join(_plain("notifications/messages/sms.txt", context).split()),
        ack_url=context["ack_url"],
        data=_data(delivery, context),
        url=context["ack_url"],
    )


def incident_notified(delivery: Delivery) -> Message:
    return _render(INCIDENT_NOTIFIED, delivery, _("Shooting reported in your area"))


def incident_updated(delivery: Delivery) -> Message:
    return _render(INCIDENT_UPDATED, delivery, _("Correction to a shooting notification"))


def notification_escalated(delivery: Delivery) -> Message:
    level = int(delivery.payload.get("level", 1))
    created = delivery.notification.created_at
    minutes = max(0, int((delivery.created_at - created).total_seconds() // 60)) if delivery.created_at else 0
    return _render(NOTIFICATION_ESCALATED, delivery, _("Shooting notification not yet acknowledged"),
                   escalation_role=ESCALATION_ROLES.get(level, ESCALATION_ROLES[2]), minutes_waiting=minutes)


def notification_drill(delivery: Delivery) -> Message:
    return _render(NOTIFICATION_DRILL, delivery, _("Drill: please acknowledge"))


def followup_reminder(delivery: Delivery) -> Message:
    """A follow-up of this worker's is due. Built from the delivery's payload (codes and the due
    date) only: the follow-up's task text is never read here, so it cannot leak into a text."""
    try:
        due_on = date.fromisoformat(delivery.payload.get("due_on", ""))
    except (TypeError, ValueError):
        raise TransportError("the follow-up reminder has no due date", permanent=True) from None
    try:
        # By name only (no import): the follow-up pages live in `responses`, above this app.
        path = reverse("responses:followups")
    except NoReverseMatch:
        path = "/"
    context = {"headline": _("A follow-up is due"), "due_on": due_on, "followups_url": settings.SITE_URL + path,
               "short_date_format": pgettext("short date in a message", "D, M j"),
               "long_date_format": pgettext("long date in a message", "l, F j, Y")}
    base = "notifications/messages/followup_reminder"
    return Message(
        kind=FOLLOWUP_REMINDER,
        subject=" ".join(_plain(f"{base}-subject.txt", context).split()),
        text=_plain(f"{base}.txt", context),
        html=render_to_string(f"{base}.html", context),
        short=" ".join(_plain(f"{base}-sms.txt", context).split()),
        ack_url="",
        data={"followup": delivery.payload.get("followup"), "due_on": due_on.isoformat()},
        url=context["followups_url"],
    )


BUILDERS = {
    INCIDENT_NOTIFIED: incident_notified,
    INCIDENT_UPDATED: incident_updated,
    NOTIFICATION_ESCALATED: notification_escalated,
    NOTIFICATION_DRILL: notification_drill,
    FOLLOWUP_REMINDER: followup_reminder,
}

# Kinds whose message is about no notification (every other kind needs one).
WITHOUT_NOTIFICATION = {FOLLOWUP_REMINDER}

# The one map from a delivery's purpose to the message it carries (a fallback keeps the kind
# of the delivery it stands in for, in its payload).
MESSAGE_BY_PURPOSE = {
    Delivery.Purpose.NOTIFY: INCIDENT_NOTIFIED,
    Delivery.Purpose.UPDATE: INCIDENT_UPDATED,
    Delivery.Purpose.ESCALATION: NOTIFICATION_ESCALATED,
    Delivery.Purpose.DRILL: NOTIFICATION_DRILL,
    Delivery.Purpose.REMINDER: FOLLOWUP_REMINDER,
}


def webhook_body(delivery: Delivery) -> tuple[str, dict]:
    """The webhook's type and data, without rendering any template (a receiver parses, not reads).
    Only a notification goes to an organisation's webhook: a reminder is personal."""
    kind = delivery.payload.get("message") or MESSAGE_BY_PURPOSE.get(delivery.purpose, INCIDENT_NOTIFIED)
    if kind not in BUILDERS or kind in WITHOUT_NOTIFICATION or delivery.notification_id is None:
        raise TransportError(f"no {kind} message to send on this channel", permanent=True)
    return kind, _data(delivery, {"ack_url": ack_url(delivery)})


def message_language(delivery: Delivery) -> str:
    """The language a delivery is written in: its recipient's own (Membership.language) when it
    goes to one person, English when it goes to a shared channel (an organisation's list)."""
    recipient = delivery.recipient
    membership = getattr(recipient, "membership", None) if recipient is not None else None
    language = membership.language if membership is not None else ""
    return language if language in dict(settings.LANGUAGES) else "en"


def message_for(delivery: Delivery) -> Message:
    """The message a delivery carries, chosen by the kind stored in its payload and written in
    the recipient's language (times stay in Chicago time). A kind with no builder here (or an
    incident message on a delivery with no notification) cannot be sent: a permanent
    TransportError."""
    kind = delivery.payload.get("message") or MESSAGE_BY_PURPOSE.get(delivery.purpose, INCIDENT_NOTIFIED)
    if kind not in BUILDERS or (kind not in WITHOUT_NOTIFICATION and delivery.notification_id is None):
        raise TransportError(f"no {kind} message to send on this channel", permanent=True)
    with override(message_language(delivery)):
        return BUILDERS[kind](delivery)


# One of each link a message carries (messages, acknowledgements.py, the SMS transport).
_LINKS = (("responses:incident", {"code": "00000000-0000-0000-0000-000000000000"}), ("responses:followups", {}),
          ("notifications:ack_link", {"token": "warm"}), ("notifications:sms_status", {}))


def messages_warm() -> None:
    """Compile every message template (the cached loader keeps them), load each language's
    catalogue and build the URL resolver's reverse tables for each language, so the first
    notification a process sends does not pay for it (about 0.4 s). A Celery worker calls this
    before its pool forks (tasks.py): built after the fork, each table was built by every
    sending thread of every child at once, each thread on its own (the resolver guards its
    build per thread), on the first shooting after a deploy."""
    from django.template import engines

    for engine in engines.all():
        for directory in getattr(engine, "template_dirs", ()):
            for path in sorted((Path(directory) / "notifications" / "messages").glob("*.*")):
                get_template(f"notifications/messages/{path.name}")
    for code, _name in settings.LANGUAGES:
        with override(code):  # activating a language loads its catalogue
            get_language()
            for name, kwargs in _LINKS:  # the resolver builds a language's tables on its first reverse
                reverse(name, kwargs=kwargs)
