"""core.bulk.rows_update: many rows, each its own values, written as they were set."""

from datetime import timedelta

import pytest

from core.bulk import rows_update
from notifications.models import Incident
from tests.responses.factories import make_incident

pytestmark = pytest.mark.django_db


@pytest.mark.sqlite
def test_each_row_gets_its_own_values_and_other_rows_and_columns_keep_theirs(reference_data):
    incidents = [make_incident(block=f"{n}00 S HALSTED ST", minutes_ago=10 + n) for n in range(7)]
    untouched = make_incident(block="6400 S HALSTED ST")
    for n, incident in enumerate(incidents):
        incident.entered_at = incident.occurred_at + timedelta(minutes=n)
        # A column that is NULL in every row of a batch still writes (PostgreSQL types it by cast).
        incident.first_sent_at = None if n < 3 else incident.occurred_at + timedelta(minutes=n, seconds=30)
        incident.note = f"note {n}"
        incident.block = "not written"

    assert rows_update(Incident, incidents, ["entered_at", "first_sent_at", "note"], batch_size=3) == 7

    for n, incident in enumerate(incidents):
        stored = Incident.objects.get(pk=incident.pk)
        assert stored.entered_at == incident.occurred_at + timedelta(minutes=n)
        assert stored.first_sent_at == (None if n < 3 else incident.occurred_at + timedelta(minutes=n, seconds=30))
        assert stored.note == f"note {n}"
        assert stored.block == f"{n}00 S HALSTED ST"
    assert Incident.objects.get(pk=untouched.pk).note == ""
    assert rows_update(Incident, [], ["note"]) == 0


def test_the_change_history_triggers_record_each_row(reference_data):
    incidents = [make_incident(minutes_ago=10 + n) for n in range(3)]
    for incident in incidents:
        incident.note = "corrected"
    before = Incident.pgh_event_model.objects.filter(pgh_label="update").count()
    rows_update(Incident, incidents, ["note"])
    assert Incident.pgh_event_model.objects.filter(pgh_label="update").count() == before + 3
