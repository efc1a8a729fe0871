"""The demo's simulated history: routed like live incidents, marked simulated, the same every run."""

from datetime import datetime, timedelta

import pytest

from core.dates import CHICAGO
from notifications.history import SIMULATED_NOTE, history_simulate
from notifications.models import Incident, Notification
from notifications.services import incidents_import
from tests.conftest import AUSTIN_POINT, ENGLEWOOD_POINT
from tests.workers import incident_notify

pytestmark = [pytest.mark.django_db, pytest.mark.sqlite]


def history(*points):
    records = [{"rd_number": f"JH9{index:05d}", "occurred_at": datetime(2025, 4, 1 + index, 22, 0, tzinfo=CHICAGO),
                "block": "6300 S HALSTED ST", "latitude": point[0], "longitude": point[1],
                "victims": [{"age_band": "unknown", "sex": "M", "fatal": False, "gunshot": True}]}
               for index, point in enumerate(points)]
    assert not incidents_import(actor=None, records=records).errors
    return list(Incident.objects.filter(source=Incident.Source.IMPORT).order_by("occurred_at"))


def clocks(notification):
    return (notification.first_sent_at, notification.acknowledged_at, notification.arrived_at)


def test_each_historical_incident_reaches_its_covering_organisations_with_simulated_clocks(englewood):
    incidents = history(*[ENGLEWOOD_POINT] * 12)
    assert history_simulate() == 12
    for incident in Incident.objects.filter(pk__in=[i.pk for i in incidents]):
        notifications = list(incident.notifications.all())
        assert notifications and all(n.simulated and "(simulated)" in n.reason for n in notifications)
        assert incident.occurred_at < incident.entered_at <= incident.first_sent_at
        for n in notifications:
            assert n.first_sent_at >= incident.entered_at and n.created_at == incident.entered_at
            if n.acknowledged_at:
                assert n.acknowledged_at > n.first_sent_at and n.status != Notification.Status.SENT
            if n.arrived_at:
                assert n.arrived_at > n.acknowledged_at and n.status == Notification.Status.ON_SCENE
        assert incident.timeline.get(kind="incident.simulated").text == SIMULATED_NOTE
        assert incident.acknowledged_at == min((n.acknowledged_at for n in notifications if n.acknowledged_at),
                                               default=None)


def test_the_simulation_is_the_same_every_run_and_runs_once(englewood):
    history(ENGLEWOOD_POINT, AUSTIN_POINT)
    history_simulate()
    first = sorted((n.incident.rd_number, n.organization_id, clocks(n)) for n in Notification.objects.all())
    assert history_simulate() == 0
    Notification.objects.all().delete()
    Incident.objects.update(first_sent_at=None)
    for incident in Incident.objects.all():
        incident.timeline.all().delete()
    history_simulate()
    again = sorted((n.incident.rd_number, n.organization_id, clocks(n)) for n in Notification.objects.all())
    assert again == first


def test_live_incidents_are_never_simulated(englewood, covering_org):
    live = incident_notify(district=englewood, organization=covering_org)
    history(ENGLEWOOD_POINT)
    history_simulate()
    assert not Notification.objects.filter(incident=live.incident, simulated=True).exists()
    assert not live.incident.timeline.filter(kind="incident.simulated").exists()
    assert Notification.objects.filter(simulated=True).exists()  # the historical one was simulated


def test_notification_speed_improves_over_the_span(englewood):
    history(*[ENGLEWOOD_POINT] * 28)
    history_simulate()
    lags = [(i.entered_at - i.occurred_at) / timedelta(minutes=1)
            for i in Incident.objects.filter(source=Incident.Source.IMPORT).order_by("occurred_at")]
    assert sum(lags[-10:]) < sum(lags[:10])
