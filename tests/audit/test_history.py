"""Change history kept by database triggers: a bulk update cannot change a record unseen.

PostgreSQL only (pgtrigger installs no trigger on SQLite); the SQLite test checks that the
embedded default migrates, writes and keeps its service-level audit events there.
"""

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.db import connection
from django.urls import reverse

from audit.models import Event, UserEvent
from audit.services import audit_log
from districts.models import Membership, Role
from notifications.models import Incident, Notification, Victim
from tests.responses.factories import make_notification

pytestmark = pytest.mark.django_db


def _history(model):
    return model.pgh_event_model.objects.order_by("pgh_id")


def test_a_bulk_update_of_an_incident_and_its_summary_leaves_history(covering_org):
    notification = make_notification(covering_org)
    incident = notification.incident
    Incident.objects.filter(pk=incident.pk).update(block="6400 S HALSTED ST")
    Notification.objects.filter(pk=notification.pk).update(status=Notification.Status.ACKNOWLEDGED)
    assert list(_history(Incident).filter(pgh_obj=incident).values_list("pgh_label", "block")) == [
        ("insert", "6300 S HALSTED ST"), ("update", "6400 S HALSTED ST")]
    assert list(_history(Notification).filter(pgh_obj=notification).values_list("pgh_label", "status")) == [
        ("insert", "sent"), ("update", "acknowledged")]


def test_a_victim_changed_or_deleted_behind_the_models_back_leaves_history(covering_org):
    incident = make_notification(covering_org).incident
    victim = incident.victims.get()
    Victim.objects.filter(pk=victim.pk).update(fatal=True)
    Victim.objects.filter(pk=victim.pk).delete()
    assert list(_history(Victim).filter(pgh_obj_id=victim.pk).values_list("pgh_label", "fatal")) == [
        ("insert", False), ("update", True), ("delete", True)]


def test_a_role_or_superuser_flag_set_by_bulk_update_leaves_history(worker):
    Membership.objects.filter(user=worker).update(role=Role.OUTREACH_SUPERVISOR)
    get_user_model().objects.filter(pk=worker.pk).update(is_superuser=True, password="x")
    assert list(_history(Membership).filter(user=worker).values_list("pgh_label", "role")) == [
        ("insert", "outreach_worker"), ("update", "outreach_supervisor")]
    assert list(UserEvent.objects.filter(pgh_obj=worker).order_by("pgh_id").values_list(
        "pgh_label", "is_superuser")) == [("insert", False), ("update", True)]
    # The history copies rights, never the password or contact details.
    assert not {"password", "email", "first_name", "last_name"} & {f.name for f in UserEvent._meta.fields}
    assert "phone" not in {f.name for f in Membership.pgh_event_model._meta.fields}


def test_no_history_table_holds_an_organisations_records():
    tracked = {model.pgh_tracked_model for model in apps.get_models() if hasattr(model, "pgh_tracked_model")}
    assert tracked and not {model for model in tracked if model._meta.app_label == "responses"}


@pytest.mark.sqlite
def test_the_embedded_default_migrates_and_keeps_its_service_audit_events(cpd_user, covering_org):
    """On SQLite the event tables exist and stay empty; the services' audit events are the record."""
    make_notification(covering_org)
    Incident.objects.update(block="6400 S HALSTED ST")
    expected = 2 if connection.vendor == "postgresql" else 0
    assert _history(Incident).count() == expected
    event = audit_log(actor=cpd_user, source="web", action="incident.corrected")
    assert Event.objects.filter(pk=event.pk, actor=cpd_user).exists()


def test_a_change_made_through_the_portal_names_who_made_it_and_where(client, worker, covering_org):
    notification = make_notification(covering_org)
    client.force_login(worker)
    url = reverse("responses:status", kwargs={"code": notification.code})
    assert client.post(url, {"status": "en_route"}).status_code == 302
    event = _history(Notification).filter(pgh_obj=notification, status="en_route").select_related(
        "pgh_context").get()
    assert event.pgh_context.metadata == {"user": worker.pk, "url": url}
