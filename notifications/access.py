"""Role scoping for incidents and notifications, built on `districts.access`.

- CPD staff and commanders: incidents in their district (and the notifications on them).
- Outreach: incidents routed to their organisation, through their organisation's notifications.
- Analysts and admins: everything.
Out-of-scope objects raise Http404, never revealing that they exist.
"""

from django.core.exceptions import ValidationError
from django.http import Http404

from districts.access import scope_of

from .models import Incident, Notification


def incidents_for_user(user):
    scope = scope_of(user)
    # The boundaries are tens of kilobytes of GeoJSON each that no incident page shows.
    incidents = (Incident.objects.select_related("district", "beat", "community_area", "hospital")
                 .defer("district__boundary", "beat__boundary", "community_area__boundary"))
    if scope.citywide:
        return incidents
    if scope.is_cpd:
        return incidents.filter(district_id=scope.district_id)
    if scope.is_outreach:
        return incidents.filter(notifications__organization_id=scope.organization_id).distinct()
    return incidents.none()


def notifications_for_user(user):
    scope = scope_of(user)
    notifications = Notification.objects.select_related("organization", "incident")
    if scope.citywide:
        return notifications
    if scope.is_cpd:
        return notifications.filter(incident__district_id=scope.district_id)
    if scope.is_outreach:
        return notifications.filter(organization_id=scope.organization_id)
    return notifications.none()


def get_incident_for_user(user, code) -> Incident:
    try:
        return incidents_for_user(user).get(code=code)
    except (Incident.DoesNotExist, ValueError, ValidationError):
        raise Http404("No such incident.") from None


def get_notification_for_user(user, code) -> Notification:
    """One notification with its incident's place (names, not boundaries), as its page shows."""
    notifications = notifications_for_user(user).select_related(
        "incident__district", "incident__beat", "incident__community_area", "incident__hospital",
    ).defer("incident__district__boundary", "incident__beat__boundary", "incident__community_area__boundary")
    try:
        return notifications.get(code=code)
    except (Notification.DoesNotExist, ValueError, ValidationError):
        raise Http404("No such notification.") from None
