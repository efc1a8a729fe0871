"""Who a notification goes to: unsaved Delivery rows for one notification and one purpose.

- notify / update: the organisation's active shared channels (email list, phone tree, webhook),
  the personal channels of whoever is on call now (tier primary; if nobody's window covers this
  moment, every primary row), and one in-app delivery per member.
- escalation: level 1 the on-call backup, level 2 the on-call supervisor (or every supervisor),
  level 3 the CSCC duty desk; in-app for the people paged.
- drill: every active channel of the organisation.

Nothing here writes: `outbox.deliveries_create` saves what this returns. `Audience` loads the
notify/update recipients of many organisations at once (an incident's fan-out): three queries
(on-call rows, channels, members) whatever the number of organisations and people.
"""

from datetime import datetime

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import F, Q
from django.utils import timezone

from core.dates import local
from districts.models import Channel, OnCall, Organization, Role

from .messages import MESSAGE_BY_PURPOSE
from .models import Delivery, Notification

DRILL_MAX_ATTEMPTS = 3
DUTY_DESK_LEVEL = 3


def _on_call_now(entry: OnCall, moment: datetime) -> bool:
    """Whether a roster row covers a Chicago-local moment. An overnight window (starts > ends)
    belongs to the weekday it starts on, so Friday 22:00–06:00 covers Saturday 02:00."""
    today, yesterday, t = moment.weekday(), (moment.weekday() - 1) % 7, moment.time()
    if entry.starts is None and entry.ends is None:
        return entry.weekday in (None, today)
    starts, ends = entry.starts or datetime.min.time(), entry.ends
    if ends is None or starts < ends:
        return entry.weekday in (None, today) and starts <= t and (ends is None or t < ends)
    return (entry.weekday in (None, today) and t >= starts) or (entry.weekday in (None, yesterday) and t < ends)


def _on_call_chosen(entries: list[OnCall], moment: datetime) -> list:
    """The users of the roster rows covering the local moment; every row's when none does."""
    chosen = [e for e in entries if _on_call_now(e, moment)] or entries
    return list({e.user_id: e.user for e in chosen}.values())


def on_call_users(*, organization: Organization, tier: int, at: datetime | None = None) -> list:
    """Active users on the roster at `tier` at this moment; if no window covers it, every row of
    that tier (an incomplete roster must not silence the organisation)."""
    entries = list(OnCall.objects.filter(organization=organization, tier=tier, user__is_active=True)
                   .select_related("user"))
    return _on_call_chosen(entries, local(at or timezone.now()))


def escalation_users(organization: Organization, level: int, at: datetime) -> list:
    """The people escalation step 1 (backup) or 2 (supervisor) pages; may be empty."""
    if level == 1:
        return on_call_users(organization=organization, tier=OnCall.Tier.BACKUP, at=at)
    users = on_call_users(organization=organization, tier=OnCall.Tier.SUPERVISOR, at=at)
    if not users:
        users = list(get_user_model().objects.filter(
            membership__organization=organization, membership__role=Role.OUTREACH_SUPERVISOR, is_active=True))
    return users


def channel_delivery(channel: Channel, *, notification: Notification | None, purpose: str, payload: dict,
                     **extra) -> Delivery:
    """An unsaved delivery on one channel (shared or personal)."""
    return Delivery(notification=notification, channel=channel, recipient=channel.user, kind=channel.kind,
                    target=channel.target, purpose=purpose, payload=payload, **extra)


def in_app_delivery(user, *, notification: Notification | None, purpose: str, payload: dict,
                    channel: Channel | None = None) -> Delivery:
    """An unsaved in-app delivery to one person: the feed row (written as sent by the outbox)."""
    return Delivery(notification=notification, channel=channel, recipient=user, kind=Channel.Kind.IN_APP,
                    target=channel.target if channel else user.username, purpose=purpose, payload=payload)


def personal_deliveries(users: list, *, organization_id: int, notification: Notification | None, purpose: str,
                        payload: dict, kinds=None, in_app: bool = True) -> list[Delivery]:
    """Each user's own active channels at the organisation (optionally only `kinds`), and one
    in-app row each when `in_app`. Used for the on-call, escalation and follow-up reminders."""
    channels = (Channel.objects.filter(organization_id=organization_id, active=True, user__in=users)
                .exclude(kind=Channel.Kind.IN_APP).select_related("user").order_by("id"))
    if kinds is not None:
        channels = channels.filter(kind__in=kinds)
    rows = [channel_delivery(c, notification=notification, purpose=purpose, payload=payload) for c in channels]
    if in_app:
        rows += [in_app_delivery(user, notification=notification, purpose=purpose, payload=payload)
                 for user in users]
    return rows


def _duty_desk(notification: Notification, payload: dict) -> list[Delivery]:
    """The last escalation step: the CSCC duty desk address, or every analyst with an email."""
    purpose = Delivery.Purpose.ESCALATION
    if settings.DUTY_DESK_EMAIL:
        return [Delivery(notification=notification, kind=Channel.Kind.EMAIL, target=settings.DUTY_DESK_EMAIL,
                         purpose=purpose, payload=payload)]
    analysts = get_user_model().objects.filter(membership__role=Role.ANALYST, is_active=True).exclude(email="")
    return [Delivery(notification=notification, kind=Channel.Kind.EMAIL, target=user.email, recipient=user,
                     purpose=purpose, payload=payload) for user in analysts]


def message_payload(notification: Notification, purpose: str) -> dict:
    """What every delivery of a notification carries: the message kind and codes, never content."""
    return {"message": MESSAGE_BY_PURPOSE[purpose], "notification": str(notification.code),
            "incident": str(notification.incident.code) if notification.incident_id else None}


def recipients(notification: Notification, purpose: str, now: datetime) -> list[Delivery]:
    """The unsaved deliveries of one notification for one purpose (see the module docstring)."""
    organization = notification.organization
    payload = message_payload(notification, purpose)
    if purpose == Delivery.Purpose.ESCALATION:
        level = payload["level"] = notification.escalation_level
        if level >= DUTY_DESK_LEVEL:
            return _duty_desk(notification, payload)
        return personal_deliveries(escalation_users(organization, level, now), organization_id=organization.pk,
                                   notification=notification, purpose=purpose, payload=payload)
    if purpose == Delivery.Purpose.DRILL:
        channels = Channel.objects.filter(organization=organization, active=True).select_related("user")
        return [channel_delivery(c, notification=notification, purpose=purpose, payload=payload,
                                 max_attempts=DRILL_MAX_ATTEMPTS) for c in channels]
    return Audience([organization.pk], now).deliveries(notification, purpose)


class Audience:
    """Who hears a notify or update of organisations `organization_ids` at `now`: each one's
    active shared channels, the personal channels of its primary on-call people (as
    `on_call_users` chooses them), and its active members for the feed.

    Three queries in all, however many organisations, members and channels.
    """

    def __init__(self, organization_ids, now: datetime):
        ids = sorted(set(organization_ids))
        moment = local(now)
        entries: dict[int, list[OnCall]] = {}
        for entry in OnCall.objects.filter(organization_id__in=ids, tier=OnCall.Tier.PRIMARY,
                                           user__is_active=True).select_related("user"):
            entries.setdefault(entry.organization_id, []).append(entry)
        self.on_call = {org: _on_call_chosen(rows, moment) for org, rows in entries.items()}
        on_call_ids = {(org, user.pk) for org, users in self.on_call.items() for user in users}
        self.shared: dict[int, list[Channel]] = {}
        self.personal: dict[int, list[Channel]] = {}
        # Shared channels and the on-call people's own, in the orders the single-organisation
        # queries used (kind then id for shared ones, id for personal ones).
        channels = (Channel.objects.filter(organization_id__in=ids, active=True)
                    .filter(Q(user__isnull=True) | Q(user_id__in={user for _, user in on_call_ids}))
                    .exclude(kind=Channel.Kind.IN_APP).select_related("user").order_by("id"))
        for channel in channels:
            if channel.user_id is None:
                self.shared.setdefault(channel.organization_id, []).append(channel)
            elif (channel.organization_id, channel.user_id) in on_call_ids:
                self.personal.setdefault(channel.organization_id, []).append(channel)
        for rows in self.shared.values():
            rows.sort(key=lambda channel: (channel.kind, channel.pk))
        self.members: dict[int, list] = {}
        for user in (get_user_model().objects.filter(membership__organization_id__in=ids, is_active=True)
                     .annotate(organization_id=F("membership__organization_id"))):
            self.members.setdefault(user.organization_id, []).append(user)

    def deliveries(self, notification: Notification, purpose: str) -> list[Delivery]:
        """The unsaved notify or update deliveries of one of the organisations' notifications."""
        org = notification.organization_id
        payload = message_payload(notification, purpose)
        channels = self.shared.get(org, []) + self.personal.get(org, [])
        rows = [channel_delivery(c, notification=notification, purpose=purpose, payload=payload) for c in channels]
        return rows + [in_app_delivery(user, notification=notification, purpose=purpose, payload=payload)
                       for user in self.members.get(org, [])]
