"""Matched playbooks where the figures are read: the API's `scenarios`, the incident history's
scenario filter, the monthly figures counted by scenario and the dashboard's scenario filter."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from core.dates import local
from notifications.services import incident_create
from protocols.services_playbooks import load_playbooks
from reviews.selectors import Month, monthly_review


def _v(age_band="20-29", fatal=False):
    return {"age_band": age_band, "sex": "M", "fatal": fatal, "gunshot": True}


@pytest.fixture
def incidents(cpd_user):
    """Three shootings in the 7th District half an hour ago (no map point, so none is a repeat of
    another): one fatal, one of a young person, one neither."""
    load_playbooks()
    made = {}
    for block, victims in [("6300 S HALSTED ST", [_v(fatal=True)]), ("6400 S HALSTED ST", [_v("0-19")]),
                           ("6500 S HALSTED ST", [_v()])]:
        made[block], _ = incident_create(actor=cpd_user, source="web", block=block, victims=victims,
                                         occurred_at=timezone.now() - timedelta(minutes=30), district="007")
    return made


def this_month() -> Month:
    now = local(timezone.now() - timedelta(minutes=30))
    return Month(now.year, now.month)


def test_the_api_gives_the_matched_playbook_codes(client, cpd_user, incidents):
    client.force_login(cpd_user)
    fatal = incidents["6300 S HALSTED ST"]
    body = client.get(f"/api/v1/incidents/{fatal.code}/").json()
    assert body["scenarios"] == ["fatal", "standard"]


def test_the_history_filters_by_scenario(client, cpd_user, incidents):
    client.force_login(cpd_user)
    response = client.get(reverse("reviews:history"), {"scenario": "youth"})
    assert [row.record.block for row in response.context["table"].paginated_rows] == ["6400 S HALSTED ST"]
    response = client.get(reverse("reviews:history"), {"scenario": "standard"})
    assert len(response.context["table"].paginated_rows) == 3


def test_the_history_refuses_an_unknown_scenario(client, cpd_user, incidents):
    client.force_login(cpd_user)
    response = client.get(reverse("reviews:history"), {"scenario": "weather"})
    # As every bad filter value on this page: a message beside the field, and nothing listed.
    assert "There is no scenario playbook “weather”." in response.content.decode()
    assert list(response.context["table"].paginated_rows) == []


def test_the_monthly_figures_count_incidents_by_scenario(incidents, englewood):
    figures = monthly_review(month=this_month(), districts=[englewood])
    assert figures["districts"][0]["incidents_by_scenario"] == {"fatal": 1, "standard": 3, "youth": 1}
    assert figures["pilot"]["incidents_by_scenario"]["standard"] == 3


def test_the_dashboard_scenario_filter_narrows_the_figures(client, analyst, incidents):
    client.force_login(analyst)
    month = this_month().label
    everything = client.get(reverse("reviews:dashboard"), {"month": month, "district": "007"})
    assert "There is no scenario filter yet" not in everything.content.decode()
    assert [r["code"] for r in everything.context["scenario_rows"]] == ["fatal", "youth", "standard"]
    fatal = client.get(reverse("reviews:dashboard"), {"month": month, "district": "007", "scenario": "fatal"})
    assert fatal.status_code == 200
    assert fatal.context["headline"][0]["value"] == "1"  # incidents
    assert [r["code"] for r in fatal.context["scenario_rows"]] == ["fatal", "standard"]
    assert "scenario=fatal" in fatal.context["scenario_rows"][0]["query"]


def test_the_dashboard_refuses_an_unknown_scenario(client, analyst, incidents):
    client.force_login(analyst)
    response = client.get(reverse("reviews:dashboard"), {"scenario": "weather"})
    assert response.status_code == 400
    assert "There is no scenario playbook “weather”." in response.content.decode()
