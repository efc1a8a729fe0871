"""The board's and the incident page's polls answer 304 when nothing they show changed, and the
full fragment with a new ETag as soon as something did; the tag belongs to one viewer's scope
and language, and an unchanged poll still counts in the access log."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from audit.models import Access
from districts.models import Role
from districts.services import member_language_set
from notifications.delivery import delivery_sent_record
from notifications.models import Delivery, Notification
from notifications.services import incident_correct
from notifications.state import notification_acknowledge, notification_status_set
from tests.conftest import AUSTIN_POINT, make_member
from tests.notifications.test_board import enter

# Also on the embedded default: the fingerprints are plain value reads, SQLite runs them too.
pytestmark = pytest.mark.sqlite

BOARD = reverse("notifications:board_live")


def live(incident) -> str:
    return reverse("notifications:incident_live", kwargs={"code": incident.code})


def poll(client, url, etag=None):
    headers = {"HTTP_X_REQUESTED_WITH": "fetch"} | ({"HTTP_IF_NONE_MATCH": etag} if etag else {})
    return client.get(url, **headers)


@pytest.mark.parametrize("page", ["board", "incident"])
def test_an_unchanged_poll_is_304_with_no_body_and_renders_nothing(client, cpd_user, page):
    incident = enter(cpd_user, rd_number="JH710001")
    url = BOARD if page == "board" else live(incident)
    client.force_login(cpd_user)
    first = poll(client, url)
    assert first.status_code == 200 and first.content

    again = poll(client, url, first["ETag"])

    assert again.status_code == 304
    assert again.content == b""
    assert again["ETag"] == first["ETag"]
    assert again.templates == []  # nothing rendered
    assert again["Cache-Control"] == "no-store"


def test_an_unchanged_poll_costs_a_few_queries(client, cpd_user, django_assert_max_num_queries):
    for n in range(5):
        enter(cpd_user, rd_number=f"JH72000{n}", block=f"{6300 + n} S HALSTED ST")
    client.force_login(cpd_user)
    etag = poll(client, BOARD)["ETag"]
    # Session, user, membership, the board's district, the fingerprint and the access counter's
    # UPDATE: none per incident or organisation.
    with django_assert_max_num_queries(6):
        assert poll(client, BOARD, etag).status_code == 304


def test_a_new_incident_in_the_district_changes_the_board(client, cpd_user):
    enter(cpd_user, rd_number="JH730001")
    client.force_login(cpd_user)
    etag = poll(client, BOARD)["ETag"]
    enter(cpd_user, rd_number="JH730002", block="6400 S HALSTED ST")

    answer = poll(client, BOARD, etag)

    assert answer.status_code == 200
    assert "6400 S HALSTED ST" in answer.content.decode()
    assert answer["ETag"] != etag


def test_an_acknowledgement_and_a_status_change_each_change_the_board_and_the_incident_page(
        client, cpd_user, worker):
    incident = enter(cpd_user, rd_number="JH740001")
    public_equity = incident.notifications.get(organization__short_name="Public Equity")
    client.force_login(cpd_user)
    tags = {url: poll(client, url)["ETag"] for url in (BOARD, live(incident))}

    notification_acknowledge(notification=public_equity, actor=worker, via="app")
    for url, etag in tags.items():
        answer = poll(client, url, etag)
        assert answer.status_code == 200, url
        assert "Acknowledged" in answer.content.decode()
        tags[url] = answer["ETag"]

    notification_status_set(notification=public_equity, actor=worker, source="phone",
                            status=Notification.Status.ON_SCENE)
    for url, etag in tags.items():
        answer = poll(client, url, etag)
        assert answer.status_code == 200, url
        assert "On scene" in answer.content.decode()


def test_a_delivery_recorded_sent_changes_the_incident_page(client, cpd_user, worker):
    incident = enter(cpd_user, rd_number="JH750001")
    delivery = Delivery.objects.filter(notification__incident=incident, recipient=worker).first()
    client.force_login(cpd_user)
    etag = poll(client, live(incident))["ETag"]
    Delivery.objects.filter(pk=delivery.pk).update(status=Delivery.Status.SENDING)  # as the task's claim
    delivery.refresh_from_db()
    delivery_sent_record(delivery=delivery, provider_id="SM-test", confirmed=True)

    answer = poll(client, live(incident), etag)

    assert answer.status_code == 200
    assert "delivered" in answer.content.decode().lower()


def test_a_correction_changes_the_incident_page(client, cpd_user):
    incident = enter(cpd_user, rd_number="JH760001")
    client.force_login(cpd_user)
    etag = poll(client, live(incident))["ETag"]
    incident_correct(incident=incident, actor=cpd_user, source="web", scene_status="secured")

    answer = poll(client, live(incident), etag)

    assert answer.status_code == 200
    assert "corrected" in answer.content.decode().lower()


def test_a_timer_falling_due_changes_the_board_without_any_write(client, cpd_user):
    incident = enter(cpd_user, rd_number="JH770001")
    Notification.objects.filter(incident=incident).update(next_escalation_at=timezone.now() + timedelta(seconds=1))
    client.force_login(cpd_user)
    etag = poll(client, BOARD)["ETag"]
    Notification.objects.filter(incident=incident).update(next_escalation_at=timezone.now() - timedelta(seconds=1))

    answer = poll(client, BOARD, etag)

    assert answer.status_code == 200
    assert "overdue" in answer.content.decode()


def test_two_districts_never_share_a_tag_and_a_tag_leaks_nothing(client, cpd_user, other_district_user, admin_user):
    enter(cpd_user, rd_number="JH780001")
    enter(admin_user, point=AUSTIN_POINT, rd_number="JH780002", block="5900 W CHICAGO AVE")
    client.force_login(cpd_user)
    englewood = poll(client, BOARD)
    client.force_login(other_district_user)

    austin = poll(client, BOARD, englewood["ETag"])

    assert austin.status_code == 200
    assert austin["ETag"] != englewood["ETag"]
    assert "5900 W CHICAGO AVE" in austin.content.decode()
    assert "6300 S HALSTED ST" not in austin.content.decode()


def test_another_districts_incident_is_not_reachable_with_any_tag(client, cpd_user, other_district_user):
    incident = enter(cpd_user, rd_number="JH790001")
    client.force_login(cpd_user)
    etag = poll(client, live(incident))["ETag"]
    client.force_login(other_district_user)
    assert poll(client, live(incident), etag).status_code == 404
    assert poll(client, live(incident)).status_code == 404


def test_another_districts_new_incident_does_not_show_on_the_board(client, cpd_user, admin_user):
    enter(cpd_user, rd_number="JH800001")
    client.force_login(cpd_user)
    etag = poll(client, BOARD)["ETag"]
    enter(admin_user, point=AUSTIN_POINT, rd_number="JH800002", block="5900 W CHICAGO AVE")

    answer = poll(client, BOARD, etag)

    assert answer.status_code == 304  # nothing the 7th District's board shows changed


def test_a_members_language_change_changes_the_tag(client, cpd_user):
    incident = enter(cpd_user, rd_number="JH810001")
    client.force_login(cpd_user)
    tags = {url: poll(client, url)["ETag"] for url in (BOARD, live(incident))}
    member_language_set(actor=cpd_user, source="web", language="es")

    for url, etag in tags.items():
        answer = poll(client, url, etag)
        assert answer.status_code == 200, url
        assert answer["ETag"] != etag


def test_an_unchanged_poll_still_counts_in_the_access_log(client, cpd_user):
    incident = enter(cpd_user, rd_number="JH820001")
    client.force_login(cpd_user)
    etag = poll(client, live(incident))["ETag"]
    assert poll(client, live(incident), etag).status_code == 304

    rows = Access.objects.filter(actor=cpd_user, action="incident.viewed", object_code=str(incident.code))
    shown = {str(code) for code in incident.notifications.values_list("organization__code", flat=True)}
    assert set(rows.values_list("organization_code", flat=True)) == shown
    assert all(row.count == 2 for row in rows)


@pytest.mark.parametrize("page", ["board", "incident"])
def test_the_other_desks_of_a_district_get_the_fragment_the_first_rendered(client, cpd_user, worker, page):
    incident = enter(cpd_user, rd_number="JH830001")
    url = BOARD if page == "board" else live(incident)
    second_desk = make_member("ines_cpd", Role.CPD_STAFF, district="007")
    client.force_login(cpd_user)
    first = poll(client, url)
    client.force_login(second_desk)

    shared = poll(client, url)

    assert shared.status_code == 200 and shared["ETag"] == first["ETag"]
    assert shared.content == first.content
    assert shared.templates == []  # not rendered again
    # It still counts as the second desk's view of every organisation's record it shows.
    rows = Access.objects.filter(actor=second_desk, action=f"{page}.viewed")
    shown = {str(code) for code in incident.notifications.values_list("organization__code", flat=True)}
    assert set(rows.values_list("organization_code", flat=True)) == shown

    # A change reaches every desk: nobody is served the fragment from before it.
    notification_acknowledge(notification=incident.notifications.get(organization__short_name="Public Equity"),
                             actor=worker, via="web")
    for desk in (cpd_user, second_desk):
        client.force_login(desk)
        answer = poll(client, url, first["ETag"])
        assert answer.status_code == 200
        assert "Acknowledged" in answer.content.decode()


def test_a_desk_reading_spanish_never_gets_the_english_fragment(client, cpd_user):
    incident = enter(cpd_user, rd_number="JH840001")
    spanish_desk = make_member("ines_cpd", Role.CPD_STAFF, district="007")
    member_language_set(actor=spanish_desk, source="web", language="es")
    for url in (BOARD, live(incident)):
        client.force_login(cpd_user)
        english = poll(client, url)
        client.force_login(spanish_desk)
        spanish = poll(client, url)
        assert spanish["ETag"] != english["ETag"], url
        assert spanish.templates != []  # rendered for this language, not served from the cache
        assert spanish["Content-Language"] == "es" and english["Content-Language"] == "en"


def test_the_board_page_shows_the_live_part_its_poll_answers_and_renders_it_once(client, cpd_user):
    enter(cpd_user, rd_number="JH850001")
    second_desk = make_member("ines_cpd", Role.CPD_STAFF, district="007")
    client.force_login(cpd_user)
    page = client.get(reverse("notifications:board"))
    assert "notifications/_board_live.html" in [t.name for t in page.templates]

    client.force_login(second_desk)
    again = client.get(reverse("notifications:board"))
    polled = poll(client, BOARD)

    assert "notifications/_board_live.html" not in [t.name for t in again.templates]
    assert polled.content.decode() in again.content.decode()
    assert "JH850001" in polled.content.decode()


def test_the_polls_and_the_board_still_answer_when_the_cache_is_unreachable(client, cpd_user, settings, caplog):
    incident = enter(cpd_user, rd_number="JH860001")
    client.force_login(cpd_user)
    # Nothing listens on port 1: every cache call fails at once.
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                                   "LOCATION": "redis://127.0.0.1:1/0"}}
    for url in (BOARD, live(incident), reverse("notifications:board")):
        answer = client.get(url, HTTP_X_REQUESTED_WITH="fetch")
        assert answer.status_code == 200, url
        assert "Public Equity" in answer.content.decode(), url  # each shows the organisations' statuses
    assert "fragment cache unavailable" in caplog.text
