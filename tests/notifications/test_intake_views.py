"""The CPD incident pages: entry, the live page and its fragment, correction, the locate helper.

Each view as the owner (7th District staff), the other district, an outreach worker, an
anonymous visitor, and with the wrong method.
"""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from audit.models import Event
from notifications.models import Incident, Notification
from notifications.services import incident_create
from tests.conftest import ENGLEWOOD_POINT


@pytest.fixture
def incident(cpd_user) -> Incident:
    incident, _ = incident_create(
        actor=cpd_user, source="web", occurred_at=timezone.now() - timedelta(minutes=5), block="6300 S HALSTED ST",
        latitude=ENGLEWOOD_POINT[0], longitude=ENGLEWOOD_POINT[1], rd_number="JH600001",
        victims=[{"age_band": "20-29", "sex": "M"}], note="Shot near the store.",
    )
    return incident


def form_data(**overrides) -> dict:
    data = {
        "rd_number": "JH600002", "occurred_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
        "block": "6300 S Halsted St", "latitude": "", "longitude": "", "district": "007", "beat": "0723",
        "community_area": "68", "hospital": "UCM", "scene_status": "secured", "note": "",
        "victims-TOTAL_FORMS": "2", "victims-INITIAL_FORMS": "0", "victims-MIN_NUM_FORMS": "1",
        "victims-MAX_NUM_FORMS": "50",
        "victims-0-age_band": "20-29", "victims-0-sex": "M", "victims-0-gunshot": "on",
        "victims-1-age_band": "0-19", "victims-1-sex": "F", "victims-1-fatal": "on", "victims-1-gunshot": "on",
    }
    data.update(overrides)
    return data


def login(client, user):
    client.force_login(user)
    return client


# --- entry ---------------------------------------------------------------------------------


def test_the_entry_form_is_preset_to_the_users_district_and_now(client, cpd_user):
    response = login(client, cpd_user).get(reverse("notifications:incident_new"))
    assert response.status_code == 200
    form = response.context["form"]
    assert form.fields["district"].initial == "007"
    assert [number for number, _ in form.fields["district"].choices] == ["007"]
    assert abs(form.initial["occurred_at"] - timezone.now()) < timedelta(minutes=2)
    assert b"No names" in response.content


def test_staff_enter_an_incident_and_land_on_its_live_page(client, cpd_user, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = login(client, cpd_user).post(reverse("notifications:incident_new"), form_data())
    incident = Incident.objects.get(rd_number="JH600002")
    assert response.status_code == 302
    assert response["Location"] == reverse("notifications:incident_detail", kwargs={"code": incident.code})
    assert (incident.victim_count, incident.fatal_count, incident.scene_status) == (2, 1, "secured")
    assert incident.notifications.count() == 3
    page = client.get(response["Location"])
    assert b"Notifying 3 organisations" in page.content


@pytest.mark.parametrize(("overrides", "field", "message"), [
    ({"beat": "1512"}, "beat", "not in the district"),
    ({"occurred_at": (timezone.localtime() + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M")}, "occurred_at",
     "future"),
    ({"latitude": "41.5", "longitude": "-87.6"}, "latitude", "outside Chicago"),
    ({"latitude": str(ENGLEWOOD_POINT[0]), "longitude": str(ENGLEWOOD_POINT[1]), "beat": "0711"}, "beat",
     "not beat 0711"),
    ({"hospital": "NOPE"}, "hospital", "not a known hospital"),
    ({"note": "x" * 501}, "note", "at most 500"),
    ({"block": ""}, "block", "Enter the block"),
])
def test_bad_input_on_the_form_is_shown_on_the_field_and_nothing_is_saved(client, cpd_user, overrides, field,
                                                                         message):
    response = login(client, cpd_user).post(reverse("notifications:incident_new"), form_data(**overrides))
    assert response.status_code == 400
    assert message in " ".join(response.context["form"].errors[field])
    assert b"nothing was saved" in response.content
    assert not Incident.objects.exists()


def test_zero_and_fifty_one_victims_are_refused_on_the_victims_list(client, cpd_user):
    login(client, cpd_user)
    none = client.post(reverse("notifications:incident_new"), form_data(**{"victims-TOTAL_FORMS": "0"}))
    assert "Add at least one victim." in none.context["victims"].non_form_errors()
    many = {f"victims-{i}-age_band": "unknown" for i in range(51)} | {f"victims-{i}-sex": "M" for i in range(51)}
    too_many = client.post(reverse("notifications:incident_new"), form_data(**{"victims-TOTAL_FORMS": "51"}, **many))
    assert "At most 50 victims per incident." in too_many.context["victims"].non_form_errors()
    assert not Incident.objects.exists()


def test_a_victim_left_at_unknown_age_and_sex_still_counts(client, cpd_user):
    data = form_data(**{"victims-TOTAL_FORMS": "1", "victims-0-age_band": "unknown", "victims-0-sex": "unknown"})
    assert login(client, cpd_user).post(reverse("notifications:incident_new"), data).status_code == 302
    assert Incident.objects.get().victims.get().age_band == "unknown"


def test_a_duplicate_rd_number_with_other_details_is_shown_on_the_rd_field(client, cpd_user, incident):
    response = login(client, cpd_user).post(reverse("notifications:incident_new"), form_data(rd_number="JH600001"))
    assert response.status_code == 400
    assert "already entered with different details" in response.context["form"].errors["rd_number"][0]
    assert Incident.objects.count() == 1


def test_outreach_and_analysts_cannot_enter_incidents(client, worker, analyst):
    for user in (worker, analyst):
        login(client, user)
        assert client.get(reverse("notifications:incident_new")).status_code == 403
        assert client.post(reverse("notifications:incident_new"), form_data()).status_code == 403
    assert not Incident.objects.exists()


def test_anonymous_visitors_are_sent_to_log_in(client, incident):
    for url in (reverse("notifications:incident_new"), reverse("notifications:incident_detail", args=[incident.code]),
                reverse("notifications:incident_live", args=[incident.code]),
                reverse("notifications:incident_correct", args=[incident.code]),
                reverse("notifications:locate") + "?lat=41.7&lon=-87.6"):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_a_cpd_user_cannot_post_into_another_district(client, other_district_user):
    response = login(client, other_district_user).post(reverse("notifications:incident_new"), form_data())
    assert response.status_code == 400
    assert "own district" in response.context["form"].errors["district"][0]


# --- the incident page and its live fragment -----------------------------------------------


def test_the_owner_sees_each_organisations_status_clocks_and_timeline(client, cpd_user, incident):
    response = login(client, cpd_user).get(reverse("notifications:incident_detail", args=[incident.code]))
    assert response.status_code == 200
    content = response.content.decode()
    for name in ("Public Equity", "READI Chicago", "TADC", "Pending", "Occurred", "First confirmed",
                 "Entered by CPD; 3 organisations to notify", "Shot near the store."):
        assert name in content
    assert Event.objects.filter(action="summary.viewed", actor=cpd_user).count() == 3


def test_the_live_fragment_shows_an_acknowledgement_as_soon_as_it_is_stored(client, cpd_user, incident):
    from notifications.state import notification_acknowledge

    url = reverse("notifications:incident_live", args=[incident.code])
    login(client, cpd_user)
    assert "Acknowledged" not in [s.strip() for s in _statuses(client.get(url).content.decode())]
    notification = incident.notifications.get(organization__short_name="Public Equity")
    notification_acknowledge(notification=notification, actor=None, via="link")
    response = client.get(url)
    assert response.status_code == 200 and response["Cache-Control"] == "no-store"
    assert "Acknowledged" in _statuses(response.content.decode())


def _statuses(html: str) -> list[str]:
    import re

    return re.findall(r'class="status [^"]*"[^>]*>([^<]+)<', html)


@pytest.mark.parametrize("view", ["incident_detail", "incident_live", "incident_correct"])
def test_another_districts_incident_is_not_found(client, other_district_user, incident, view):
    response = login(client, other_district_user).get(reverse(f"notifications:{view}", args=[incident.code]))
    assert response.status_code == 404


@pytest.mark.parametrize("view", ["incident_detail", "incident_live", "incident_correct"])
def test_outreach_workers_use_their_own_feed_not_the_cpd_page(client, worker, incident, view):
    assert Notification.objects.filter(incident=incident, organization__short_name="Public Equity").exists()
    response = login(client, worker).get(reverse(f"notifications:{view}", args=[incident.code]))
    assert response.status_code == 403


def test_analysts_may_read_the_incident_page_but_not_correct(client, analyst, incident):
    login(client, analyst)
    page = client.get(reverse("notifications:incident_detail", args=[incident.code]))
    assert page.status_code == 200 and b">Correct<" not in page.content
    assert client.get(reverse("notifications:incident_correct", args=[incident.code])).status_code == 403


@pytest.mark.parametrize("view", ["incident_detail", "incident_live"])
def test_the_read_only_pages_refuse_a_post(client, cpd_user, incident, view):
    response = login(client, cpd_user).post(reverse(f"notifications:{view}", args=[incident.code]))
    assert response.status_code == 405


def test_the_entry_form_refuses_other_methods(client, cpd_user):
    assert login(client, cpd_user).put(reverse("notifications:incident_new")).status_code == 405


def test_the_correction_form_and_the_locate_helper_refuse_other_methods(client, cpd_user, incident):
    login(client, cpd_user)
    assert client.delete(reverse("notifications:incident_correct", args=[incident.code])).status_code == 405
    assert client.post(reverse("notifications:locate"), {"lat": 41.7796, "lon": -87.6446}).status_code == 405
    assert Incident.objects.filter(pk=incident.pk).exists()


def test_an_unknown_incident_code_is_not_found(client, cpd_user):
    url = reverse("notifications:incident_detail", args=["00000000-0000-0000-0000-000000000000"])
    assert login(client, cpd_user).get(url).status_code == 404


# --- correction ----------------------------------------------------------------------------


def test_the_correction_form_starts_from_the_stored_incident(client, cpd_user, incident):
    response = login(client, cpd_user).get(reverse("notifications:incident_correct", args=[incident.code]))
    assert response.status_code == 200
    assert response.context["form"].initial["beat"] == "0723"
    assert [v["age_band"] for v in response.context["victims"].initial] == ["20-29"]


def test_staff_correct_a_victims_death_and_the_organisations_are_told(client, cpd_user, incident,
                                                                      django_capture_on_commit_callbacks):
    data = form_data(rd_number="JH600001", beat="0723", hospital="", scene_status="active",
                     note="Shot near the store.", **{"victims-TOTAL_FORMS": "1", "victims-0-fatal": "on"},
                     latitude=str(ENGLEWOOD_POINT[0]), longitude=str(ENGLEWOOD_POINT[1]),
                     occurred_at=timezone.localtime(incident.occurred_at).strftime("%Y-%m-%dT%H:%M"))
    with django_capture_on_commit_callbacks(execute=True):
        response = login(client, cpd_user).post(reverse("notifications:incident_correct", args=[incident.code]), data)
    assert response.status_code == 302
    incident.refresh_from_db()
    assert incident.fatal_count == 1
    assert Event.objects.filter(action="incident.corrected", object_code=str(incident.code)).exists()


def test_a_bad_correction_shows_the_field_and_changes_nothing(client, cpd_user, incident):
    data = form_data(rd_number="JH600001", beat="0711", latitude=str(ENGLEWOOD_POINT[0]),
                     longitude=str(ENGLEWOOD_POINT[1]))
    response = login(client, cpd_user).post(reverse("notifications:incident_correct", args=[incident.code]), data)
    assert response.status_code == 400
    assert "not beat 0711" in response.context["form"].errors["beat"][0]
    incident.refresh_from_db()
    assert incident.beat.number == "0723" and incident.victim_count == 1


# --- the "use point" helper ----------------------------------------------------------------


def test_the_locate_helper_names_the_places_holding_a_point(client, cpd_user):
    login(client, cpd_user)
    response = client.get(reverse("notifications:locate"), {"lat": ENGLEWOOD_POINT[0], "lon": ENGLEWOOD_POINT[1]})
    assert response.json() == {"district": "007", "beat": "0723", "community_area": 68,
                               "organizations": ["Public Equity", "READI Chicago", "TADC"], "partners": []}
    assert client.get(reverse("notifications:locate"), {"lat": 41.5, "lon": -87.6}).status_code == 404
    assert client.get(reverse("notifications:locate"), {"lat": "x"}).status_code == 400


def test_the_form_previews_who_the_chosen_codes_would_notify(client, cpd_user):
    login(client, cpd_user)
    response = client.get(reverse("notifications:locate"), {"district": "007", "beat": "", "community_area": "25"})
    assert response.json() == {"organizations": ["INVC", "READI Chicago", "Together Chicago"], "partners": []}
    assert client.get(reverse("notifications:locate"), {"community_area": "x"}).json() == {"organizations": [],
                                                                                            "partners": []}


def test_the_locate_helper_is_for_incident_writers_only(client, worker):
    response = login(client, worker).get(reverse("notifications:locate"), {"lat": 41.7796, "lon": -87.6446})
    assert response.status_code == 403
