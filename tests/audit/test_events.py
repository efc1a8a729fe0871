"""The audit trail: one event per state change, written once, never changed or deleted."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser
from django.db import DatabaseError, connection, transaction

from audit.models import AppendOnlyError, Event
from audit.selectors import events_for_object
from audit.services import audit_log

pytestmark = pytest.mark.django_db


@pytest.fixture
def event(worker, covering_org):
    return audit_log(actor=worker, source="web", action="organization.channel_added", obj=covering_org,
                     data={"kind": "sms"})


def test_an_event_records_who_from_where_what_and_on_which_object(event, worker, covering_org):
    stored = Event.objects.get(pk=event.pk)
    assert (stored.actor, stored.source, stored.action) == (worker, "web", "organization.channel_added")
    assert (stored.object_type, stored.object_code) == ("districts.organization", str(covering_org.code))
    assert stored.data == {"kind": "sms"}
    assert list(events_for_object(object_type="districts.organization", object_code=str(covering_org.code))) == [stored]


def test_an_object_without_a_code_is_addressed_by_its_primary_key(admin_user, englewood):
    event = audit_log(actor=admin_user, source="web", action="district.pilot_set", obj=englewood)
    assert (event.object_type, event.object_code) == ("districts.district", str(englewood.pk))


def test_the_system_and_an_anonymous_attempt_are_recorded_without_an_actor(reference_data):
    assert audit_log(actor=None, source="system", action="outbox.relayed").actor is None
    assert audit_log(actor=AnonymousUser(), source="api", action="token.rejected").actor is None


def test_an_unknown_source_is_refused_and_nothing_is_written(worker):
    with pytest.raises(ValueError, match="unknown audit source 'fax'"):
        audit_log(actor=worker, source="fax", action="incident.created")
    assert not Event.objects.exists()


def test_an_event_cannot_be_changed_through_the_model(event):
    event.action = "organization.channel_removed"
    with pytest.raises(AppendOnlyError):
        event.save()
    assert Event.objects.get(pk=event.pk).action == "organization.channel_added"


def test_an_event_cannot_be_deleted_through_the_model(event):
    with pytest.raises(AppendOnlyError):
        event.delete()
    assert Event.objects.filter(pk=event.pk).exists()


def test_the_database_refuses_a_bulk_update_or_delete_that_bypasses_the_model(event):
    with pytest.raises(DatabaseError, match="append-only: UPDATE refused"), transaction.atomic():
        Event.objects.filter(pk=event.pk).update(action="rewritten")
    with pytest.raises(DatabaseError, match="append-only: DELETE refused"), transaction.atomic():
        Event.objects.filter(pk=event.pk).delete()
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE audit_event SET data = '{}'::jsonb WHERE id = %s", [event.pk])
    assert Event.objects.get(pk=event.pk).action == "organization.channel_added"
    assert Event.objects.get(pk=event.pk).data == {"kind": "sms"}


def test_deleting_a_user_keeps_their_events_and_forgets_only_who_it_was(event, worker):
    get_user_model().objects.filter(pk=worker.pk).delete()
    stored = Event.objects.get(pk=event.pk)
    assert stored.actor is None
    assert stored.action == "organization.channel_added"


def test_the_trigger_lets_through_only_the_actor_being_cleared(event, analyst):
    """Pointing an event at a different person is a rewrite, not an account deletion."""
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        Event.objects.filter(pk=event.pk).update(actor=analyst)
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        Event.objects.filter(pk=event.pk).update(actor=None, action="rewritten")



@pytest.mark.parametrize("data", [
    {"name": "Jane Doe"},
    {"changes": {"notes": "spoke with the family"}},
    {"people": [{"phone": "+13125550100"}]},
])
def test_personal_details_are_refused_before_anything_is_written(worker, data):
    with pytest.raises(ValueError, match="audit data must not carry personal details"):
        audit_log(actor=worker, source="web", action="response.logged", data=data)
    assert not Event.objects.exists()


def test_codes_counts_and_choices_are_welcome(worker):
    event = audit_log(actor=worker, source="phone", action="notification.acknowledged",
                      data={"via": "sms", "deliveries": 3, "fields": ["status", "arrived_at"]})
    assert Event.objects.get(pk=event.pk).data["deliveries"] == 3
