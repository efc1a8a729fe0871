"""Incidents and notifications for outreach tests, made directly (intake is tested elsewhere)."""

from datetime import timedelta

from django.utils import timezone

from districts.models import Beat, CommunityArea, District, Hospital
from notifications.models import Incident, Notification, Victim


def make_incident(*, district: str = "007", beat: str = "0723", community_area: int = 68,
                  block: str = "6300 S HALSTED ST", minutes_ago: int = 20, victims=(("20-29", "M", False),),
                  hospital: str | None = "UCM", note: str = "") -> Incident:
    incident = Incident.objects.create(
        occurred_at=timezone.now() - timedelta(minutes=minutes_ago), block=block,
        district=District.objects.get(number=district), beat=Beat.objects.get(number=beat),
        community_area=CommunityArea.objects.get(number=community_area),
        hospital=Hospital.objects.filter(code=hospital).first() if hospital else None,
        victim_count=len(victims), fatal_count=sum(1 for v in victims if v[2]), note=note,
    )
    Victim.objects.bulk_create([Victim(incident=incident, age_band=a, sex=s, fatal=f) for a, s, f in victims])
    return incident


def make_notification(organization, *, incident: Incident | None = None, **incident_kwargs) -> Notification:
    incident = incident or make_incident(**incident_kwargs)
    return Notification.objects.create(
        incident=incident, organization=organization, status=Notification.Status.SENT,
        first_sent_at=incident.occurred_at + timedelta(minutes=3), reason="community area 68",
    )
