"""GET /api/v1/reviews/monthly/<YYYY-MM>/: analysts every district, commanders their own."""

from datetime import datetime

import pytest
from rest_framework.test import APIClient

from core.dates import CHICAGO
from reviews.selectors import Month, monthly_review
from tests.reviews.test_metrics import shooting

pytestmark = pytest.mark.django_db
URL = "/api/v1/reviews/monthly/{}/"


def signed_in(user) -> APIClient:
    client = APIClient()
    client.force_login(user)
    return client


@pytest.fixture
def march(englewood, covering_org):
    for day in (3, 9, 17, 25):
        shooting(englewood, datetime(2026, 3, day, 21, 0, tzinfo=CHICAGO), victims=1, acknowledged=4,
                 organization=covering_org)


def test_the_api_figures_equal_the_review_tables(analyst, englewood, march):
    body = signed_in(analyst).get(URL.format("2026-03"), {"district": "7"}).json()
    assert body == monthly_review(month=Month(2026, 3), districts=[englewood]) | {"month": "2026-03"}
    seventh = body["districts"][0]
    assert (seventh["district"], seventh["incidents"], seventh["notification_coverage"]) == ("007", 4, 1.0)
    assert set(seventh["minutes_sent_to_acknowledged"]) == {"median", "p90"}


def test_a_commander_reads_their_district_with_small_counts_suppressed(commander, englewood, march):
    body = signed_in(commander).get(URL.format("2026-03")).json()
    assert [d["district"] for d in body["districts"]] == ["007"]
    seventh = body["districts"][0]
    assert seventh["incidents"] == 4 and seventh["fatal"] == 0 and seventh["missed"] == 0
    shooting(englewood, datetime(2026, 4, 2, 1, 0, tzinfo=CHICAGO), victims=2)
    april = signed_in(commander).get(URL.format("2026-04")).json()["districts"][0]
    assert (april["incidents"], april["victims"], april["fatal"]) == ("≤3", "≤3", 0)


def test_a_commander_cannot_read_another_district(commander, march):
    response = signed_in(commander).get(URL.format("2026-03"), {"district": "011"})
    assert response.status_code == 403


def test_outreach_cpd_staff_and_anonymous_callers_are_refused(worker, cpd_user, march):
    assert signed_in(worker).get(URL.format("2026-03")).status_code == 403
    assert signed_in(cpd_user).get(URL.format("2026-03")).status_code == 403
    assert APIClient().get(URL.format("2026-03")).status_code in (401, 403)


@pytest.mark.parametrize(("month", "query", "field"), [
    ("2026-13", {}, "month"), ("march", {}, "month"), ("2026-03", {"district": "abc"}, "district"),
    ("2026-03", {"district": "099"}, "district"), ("2026-03", {"distict": "007"}, "distict"),
])
def test_bad_input_is_a_400_naming_the_field(analyst, month, query, field):
    response = signed_in(analyst).get(URL.format(month), query)
    assert response.status_code == 400 and field in response.json()
