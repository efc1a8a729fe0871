"""What the busiest pages read: none of them loads a geography boundary (tens of kilobytes of
GeoJSON per district, beat or community area that no page shows), and the board's and the
feed's queries do not grow with the number of incidents on them."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from notifications.models import Notification
from tests.notifications.test_board import enter


def boundaries_read(client, url) -> list[str]:
    """The tables whose boundary column the page's queries selected, once warm (the process
    works out which community areas lie in a district from the boundaries once, then caches it)."""
    client.get(url)
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return [table for q in queries.captured_queries
            for table in re.findall(r'"(\w+)"\."boundary"', q["sql"].split(" FROM ")[0])]


def queries_for(client, url) -> int:
    """The page's queries once warm (the first view of a process also fills its caches)."""
    client.get(url)
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries.captured_queries)


@pytest.mark.parametrize("page", ["home", "board", "board live", "incident", "incident live", "incident form"])
def test_cpd_pages_read_no_boundary(client, cpd_user, page):
    incident = enter(cpd_user, rd_number="JH900001")
    url = {"home": reverse("home"), "board": reverse("notifications:board"),
           "board live": reverse("notifications:board_live"), "incident form": reverse("notifications:incident_new"),
           "incident": reverse("notifications:incident_detail", kwargs={"code": incident.code}),
           "incident live": reverse("notifications:incident_live", kwargs={"code": incident.code})}[page]
    client.force_login(cpd_user)
    assert boundaries_read(client, url) == []


@pytest.mark.parametrize("page", ["feed", "incident"])
def test_outreach_pages_read_no_boundary(client, cpd_user, worker, page):
    incident = enter(cpd_user, rd_number="JH900002")
    notification = Notification.objects.get(incident=incident, organization=worker.membership.organization)
    url = reverse("responses:feed") if page == "feed" else reverse("responses:incident",
                                                                    kwargs={"code": notification.code})
    client.force_login(worker)
    assert boundaries_read(client, url) == []


def test_the_board_and_the_feed_read_as_much_for_eight_incidents_as_for_two(client, cpd_user, worker):
    for n in range(2):
        enter(cpd_user, rd_number=f"JH91000{n}", block=f"{6300 + n} S HALSTED ST")
    client.force_login(cpd_user)
    board = [queries_for(client, reverse(name)) for name in ("notifications:board", "notifications:board_live")]
    client.force_login(worker)
    feed = queries_for(client, reverse("responses:feed"))
    for n in range(2, 8):
        enter(cpd_user, rd_number=f"JH91000{n}", block=f"{6300 + n} S HALSTED ST")
    client.force_login(cpd_user)
    assert [queries_for(client, reverse(name)) for name in ("notifications:board", "notifications:board_live")] \
        == board
    client.force_login(worker)
    assert queries_for(client, reverse("responses:feed")) == feed
