"""The administrator never reads an organisation's records: not in the Django admin, not in the portal.

Plant a canary in every organisation-only text field, then log in as the `admin` role (a
superuser too) and fetch every admin index, changelist (plain and searched for the canary),
add and change page, and every portal page an administrator can reach.
"""

import uuid
from datetime import timedelta

import pytest
from django.contrib import admin
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from responses.models import FollowUp, Referral, ResponseLog
from responses.services import response_log
from tests.responses.factories import make_notification
from tests.responses.test_boundary import concrete, every_route

pytestmark = pytest.mark.django_db
NOTE = "CANARY-NOTE cousin from 64th and May is looking for the shooter"
TASK = "CANARY-TASK bring the grandmother to the trauma counsellor"
CANARIES = ("CANARY-NOTE", "CANARY-TASK")


@pytest.fixture
def private_record(covering_org, worker):
    notification = make_notification(covering_org, minutes_ago=45)
    response, _ = response_log(
        notification=notification, actor=worker, source="web", client_key=uuid.uuid4(),
        arrived_at=timezone.now() - timedelta(minutes=20), response_types=["scene", "mediation"],
        retaliation_risk="high", referrals=[{"kind": "relocation", "count": 3}], people_engaged={"peers": 6},
        follow_up_on=timezone.localdate() + timedelta(days=2), follow_up_task=TASK, notes=NOTE)
    return {"notification": notification, "response": response, "followup": FollowUp.objects.get()}


def _assert_clean(client, url):
    response = client.get(url)
    body = response.content.decode(errors="replace")
    for canary in CANARIES:
        assert canary not in body, url
    return response


def test_the_organisation_only_models_have_no_admin_at_all():
    for model in (ResponseLog, Referral, FollowUp):
        assert not admin.site.is_registered(model)
        with pytest.raises(NoReverseMatch):
            reverse(f"admin:responses_{model._meta.model_name}_changelist")
    for model_admin in admin.site._registry.values():
        inline_models = {inline.model for inline in model_admin.inlines}
        assert not inline_models & {ResponseLog, Referral, FollowUp}, model_admin


def test_no_admin_page_shows_an_organisations_notes_or_follow_up_text(client, admin_user, private_record):
    client.force_login(admin_user)
    index = _assert_clean(client, reverse("admin:index"))
    assert index.status_code == 200
    assert "Response log" not in index.content.decode()
    walked = 0
    for model, model_admin in admin.site._registry.items():
        prefix = f"admin:{model._meta.app_label}_{model._meta.model_name}"
        changelist = reverse(f"{prefix}_changelist")
        assert _assert_clean(client, changelist).status_code == 200, changelist
        _assert_clean(client, changelist + "?q=CANARY")
        _assert_clean(client, reverse(f"{prefix}_add"))
        for obj in model_admin.get_queryset(client.get(changelist).wsgi_request)[:3]:
            change = reverse(f"{prefix}_change", args=[obj.pk])
            assert _assert_clean(client, change).status_code == 200, change  # read, not refused
            walked += 1
    # The walk reached the rows that hang off the private record (its notification, incident, user).
    assert walked >= 5


def test_no_portal_page_shows_the_administrator_an_organisations_notes(client, admin_user, private_record):
    client.force_login(admin_user)
    notification, response = private_record["notification"], private_record["response"]
    values = {"number": "007", "month": timezone.localdate().strftime("%Y-%m"), "pk": response.pk,
              "id": response.pk, "str": "007", "int": 7, "token": "x"}
    fetched = 0
    for route in sorted(set(every_route())):
        if route.startswith("admin/"):
            continue
        for code in (notification.code, notification.incident.code, response.code, private_record["followup"].code):
            url = concrete(route, {**values, "code": code, "uuid": code})
            if url is None:
                break
            # Only pages the administrator was shown count: a refusal's body proves nothing.
            fetched += _assert_clean(client, url).status_code == 200
            if "<uuid:" not in route and "<code>" not in route:
                break
    assert fetched > 20, fetched


def test_the_admin_access_log_leaves_out_what_an_organisation_read_of_its_own_records(
        client, admin_user, worker, cpd_user, private_record):
    notification = private_record["notification"]
    client.force_login(worker)
    assert client.get(reverse("responses:incident", kwargs={"code": notification.code})).status_code == 200
    client.force_login(cpd_user)
    assert client.get(reverse("notifications:incident_detail", kwargs={"code": notification.incident.code})
                      ).status_code == 200
    client.force_login(admin_user)
    body = client.get(reverse("admin:audit_access_changelist")).content.decode()
    assert "incident.viewed" in body and str(notification.incident.code) in body
    assert "responses.viewed" not in body and worker.username not in body
