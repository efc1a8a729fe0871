"""Retention: the nightly purge of victims' details and organisations' notes past their time.

What goes, and when (days in settings, 0 keeps for ever; see `.env.example`):

- `RETENTION_VICTIM_DAYS`: on incidents that occurred longer ago, each victim's age band and sex
  become "unknown", and the victims' trigger history (`notifications.VictimEvent`) that still
  holds them is deleted. The victim rows, their count, `fatal` and `gunshot` stay, so incidents,
  victims and fatal counts, and every monthly figure, are computed as before.
- `RETENTION_NOTES_DAYS`: on response logs and follow-ups created longer ago, the notes and the
  follow-up text are emptied. Response types, arrival, retaliation risk, referrals and people
  engaged (counts, no names) stay: the figures count them. These tables have no trigger history
  (the organisation-only record is kept out of it), so there is none to clear.
- `RETENTION_ACCESS_DAYS`: access-log and refusal counter rows last touched longer ago.

The audit trail (`audit.Event`) is append-only and carries codes and counts, never these
details, so it is kept whole. CPD's own published record (`reviews.CpdVictim`) is public data
re-imported from the City and is not touched. Safe to run twice: a second run finds nothing.
"""

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from audit.models import Access, Refusal
from audit.services import audit_log
from notifications.models import Incident, Victim

from .models import FollowUp, ResponseLog

UNKNOWN = {"age_band": Victim.AgeBand.UNKNOWN, "sex": Victim.Sex.UNKNOWN}


def _cutoff(days: int, now: datetime) -> datetime | None:
    return now - timedelta(days=days) if days > 0 else None


def retention_purge(*, now: datetime | None = None) -> dict[str, int]:
    """Clear what has passed its retention period; returns the number of rows cleared per kind."""
    now = now or timezone.now()
    cleared = {"victims": 0, "victim_history": 0, "response_notes": 0, "follow_up_texts": 0, "access_rows": 0}
    with transaction.atomic():
        if cutoff := _cutoff(settings.RETENTION_VICTIM_DAYS, now):
            old = Incident.objects.filter(occurred_at__lt=cutoff).values("pk")
            known = ~Q(age_band=Victim.AgeBand.UNKNOWN) | ~Q(sex=Victim.Sex.UNKNOWN)
            cleared["victims"] = Victim.objects.filter(known, incident__in=old).update(**UNKNOWN)
            # The update above wrote its own history rows (with "unknown"); the older ones go.
            cleared["victim_history"], _ = Victim.pgh_event_model.objects.filter(known, incident_id__in=old).delete()
        if cutoff := _cutoff(settings.RETENTION_NOTES_DAYS, now):
            cleared["response_notes"] = ResponseLog.objects.filter(created_at__lt=cutoff).exclude(notes="").update(
                notes="")
            cleared["follow_up_texts"] = FollowUp.objects.filter(created_at__lt=cutoff).exclude(task="").update(
                task="")
        if cutoff := _cutoff(settings.RETENTION_ACCESS_DAYS, now):
            cleared["access_rows"] = (Access.objects.filter(last_at__lt=cutoff).delete()[0]
                                      + Refusal.objects.filter(last_at__lt=cutoff).delete()[0])
        if any(cleared.values()):
            audit_log(actor=None, source="system", action="retention.purged", data=cleared)
    return cleared
