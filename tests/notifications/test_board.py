"""The district board: today's and this week's incidents with each organisation's agreed
status, the stale contacts of the covering organisations, and who may see it."""

import ast
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils import timezone

from core.dates import CHICAGO
from districts.models import Channel
from notifications.models import Incident, Notification
from notifications.selectors import board_incidents
from notifications.services import incident_create
from notifications.state import notification_acknowledge, notification_status_set
from tests.conftest import AUSTIN_POINT, ENGLEWOOD_POINT


def enter(actor, point=ENGLEWOOD_POINT, minutes_ago=3, **extra) -> Incident:
    incident, _ = incident_create(
        actor=actor, source="web", occurred_at=timezone.now() - timedelta(minutes=minutes_ago),
        block=extra.pop("block", "6300 S HALSTED ST"), latitude=point[0], longitude=point[1],
        victims=[{"fatal": False}], **extra,
    )
    return incident


def test_the_board_splits_today_from_earlier_this_week_in_chicago_time(cpd_user, englewood):
    now = datetime(2026, 11, 25, 15, 0, tzinfo=CHICAGO)  # a Wednesday afternoon
    placed = {}
    for label, at in [("today", datetime(2026, 11, 25, 0, 30, tzinfo=CHICAGO)),
                      ("monday", datetime(2026, 11, 23, 22, 0, tzinfo=CHICAGO)),
                      ("last sunday", datetime(2026, 11, 22, 23, 0, tzinfo=CHICAGO))]:
        incident = enter(cpd_user, block=f"{label.upper()} BLOCK")
        Incident.objects.filter(pk=incident.pk).update(occurred_at=at)
        placed[label] = incident.pk

    board = board_incidents(district=englewood, now=now)

    assert [i.pk for i in board["today"]] == [placed["today"]]
    assert [i.pk for i in board["week"]] == [placed["monday"]]


def test_on_a_monday_the_board_shows_the_last_seven_days(cpd_user, englewood):
    now = datetime(2026, 11, 23, 9, 0, tzinfo=CHICAGO)  # a Monday morning
    incident = enter(cpd_user)
    Incident.objects.filter(pk=incident.pk).update(occurred_at=datetime(2026, 11, 19, 20, 0, tzinfo=CHICAGO))
    assert [i.pk for i in board_incidents(district=englewood, now=now)["week"]] == [incident.pk]


def test_staff_see_each_organisations_status_change_on_the_board(client, cpd_user, worker):
    incident = enter(cpd_user, rd_number="JH700001")
    public_equity = incident.notifications.get(organization__short_name="Public Equity")
    tadc = incident.notifications.get(organization__short_name="TADC")
    notification_acknowledge(notification=tadc, actor=None, via="link")
    notification_status_set(notification=public_equity, actor=worker, source="phone",
                            status=Notification.Status.ON_SCENE)
    client.force_login(cpd_user)

    html = client.get(reverse("notifications:board_live")).content.decode()

    assert "6300 S HALSTED ST" in html and "JH700001" in html
    assert 'title="Public Equity: On scene"' in html
    assert 'title="Target Area Development Corp (TADC): Acknowledged"' in html
    assert 'title="READI Chicago (Heartland Alliance): Pending"' in html


def test_the_board_shows_only_the_users_district(client, cpd_user, admin_user):
    enter(cpd_user, block="6300 S HALSTED ST")
    enter(admin_user, point=AUSTIN_POINT, block="5900 W CHICAGO AVE")
    client.force_login(cpd_user)
    html = client.get(reverse("notifications:board") + "?district=015").content.decode()
    assert "6300 S HALSTED ST" in html and "5900 W CHICAGO AVE" not in html


def test_analysts_pick_a_district(client, analyst, admin_user):
    enter(admin_user, point=AUSTIN_POINT, block="5900 W CHICAGO AVE")
    client.force_login(analyst)
    response = client.get(reverse("notifications:board"), {"district": "15"})
    assert response.status_code == 200 and b"5900 W CHICAGO AVE" in response.content
    assert client.get(reverse("notifications:board"), {"district": "99"}).status_code == 404


def test_stale_contacts_of_covering_organisations_are_listed(client, cpd_user, covering_org, other_org):
    yesterday = timezone.now() - timedelta(days=1)
    Channel.objects.create(organization=covering_org, kind=Channel.Kind.SMS, target="+13125550199",
                           last_drill_at=yesterday, last_drill_ok=False)
    Channel.objects.create(organization=covering_org, kind=Channel.Kind.EMAIL, target="ok@example.org",
                           last_drill_at=yesterday, last_drill_ok=True)
    Channel.objects.create(organization=other_org, kind=Channel.Kind.SMS, target="+13125550198",
                           last_drill_at=yesterday, last_drill_ok=False)  # covers the north-west side
    client.force_login(cpd_user)
    stale = list(client.get(reverse("notifications:board")).context["stale"])
    assert [(c.organization, c.kind) for c in stale] == [(covering_org, Channel.Kind.SMS)]
    html = client.get(reverse("notifications:board")).content.decode()
    assert "+13125550199" not in html  # the board names the channel, never the number


def test_the_cpd_home_page_embeds_the_live_board(client, cpd_user):
    client.force_login(cpd_user)
    html = client.get(reverse("home")).content.decode()
    assert reverse("notifications:board_live") + "?district=007" in html
    assert reverse("notifications:incident_new") in html


@pytest.mark.parametrize("view", ["board", "board_live"])
def test_outreach_workers_cannot_see_the_board(client, worker, view):
    client.force_login(worker)
    assert client.get(reverse(f"notifications:{view}")).status_code == 403


@pytest.mark.parametrize("view", ["board", "board_live"])
def test_anonymous_visitors_are_sent_to_log_in_from_the_board(client, view):
    response = client.get(reverse(f"notifications:{view}"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("view", ["board", "board_live"])
def test_the_board_refuses_a_post(client, cpd_user, view):
    client.force_login(cpd_user)
    assert client.post(reverse(f"notifications:{view}")).status_code == 405


def test_no_cpd_facing_module_of_the_intake_imports_responses():
    root = Path(__file__).resolve().parents[2] / "notifications"
    for name in ("views.py", "selectors.py", "forms.py", "services.py", "intake.py", "routing.py", "demo.py"):
        tree = ast.parse((root / name).read_text())
        imported = {node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
        imported |= {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
        assert not any(module.split(".")[0] == "responses" for module in imported), name


def test_an_organisation_past_its_window_without_answering_is_flagged_overdue(client, cpd_user):
    incident = enter(cpd_user)
    late = incident.notifications.get(organization__short_name="READI Chicago")
    Notification.objects.filter(pk=late.pk).update(next_escalation_at=timezone.now() - timedelta(minutes=1))
    notification_acknowledge(notification=incident.notifications.get(organization__short_name="TADC"), actor=None,
                             via="link")
    client.force_login(cpd_user)

    response = client.get(reverse("notifications:board_live"))

    assert (response.context["summary"]["waiting"], response.context["summary"]["overdue"]) == (2, 1)
    html = response.content.decode()
    assert html.count("no answer") == 1
    assert 'class="pill s-pending overdue" title="READI Chicago (Heartland Alliance): Pending"' in html
