"""Onboarding: a pathway per role, each step done the way it says, the knowledge check, sign-off
with the versions signed, a new version putting a signed-off member behind, and who sees who."""

from datetime import date

import pytest

from audit.models import Event
from protocols.documents import protocol_version_publish
from protocols.models import OnboardingSignOff, Pathway, PathwayStep, StepCompletion
from protocols.onboarding import progress_of, team_progress, team_visible_to
from reviews.selectors import Month
from reviews.services import review_attendance_add, review_create

pytestmark = [pytest.mark.django_db, pytest.mark.sqlite]


def _step(user, kind):
    return Pathway.objects.get(role=user.membership.role).steps.get(kind=kind)


def _read_everything(client, user):
    for step in Pathway.objects.get(role=user.membership.role).steps.filter(kind="read_protocol"):
        number = step.document.versions.order_by("-number").first().number
        assert client.post(f"/protocols/{step.document.slug}/acknowledge/",
                           {"version": number, "next": "onboarding"}).status_code == 302


def _right_answers(step):
    return {f"q{q.pk}": str(q.answer) for q in step.questions.all()}


def _attend_a_review(analyst, user):
    review = review_create(actor=analyst, month=Month(2026, 3), districts=[user.membership.district])
    review_attendance_add(actor=analyst, review=review, user=user, organization="CPD")
    return review


def test_each_role_has_its_seeded_pathway(seeded):
    kinds = {p.role: [s.kind for s in p.steps.all()] for p in Pathway.objects.all()}
    assert set(kinds) == {"cpd_commander", "cpd_staff", "outreach_worker", "outreach_supervisor"}
    assert kinds["cpd_commander"] == ["read_protocol"] * 4 + ["meet_organizations", "attend_review", "knowledge_check"]
    check = Pathway.objects.get(role="cpd_staff").steps.get(kind="knowledge_check")
    assert check.questions.count() >= 3


def test_a_commander_completes_every_step_and_signs_off_with_the_versions(client, seeded, commander, analyst):
    client.force_login(commander)
    page = client.get("/onboarding/").content.decode()
    assert "New district commander" in page and "0 of 7 steps done" in page
    assert client.post("/onboarding/sign-off/").status_code == 400  # not yet
    assert not OnboardingSignOff.objects.exists()

    _read_everything(client, commander)
    meet = _step(commander, "meet_organizations")
    assert client.post(f"/onboarding/steps/{meet.code}/done/").status_code == 302
    _attend_a_review(analyst, commander)
    check = _step(commander, "knowledge_check")
    assert client.post(f"/onboarding/steps/{check.code}/check/", _right_answers(check)).status_code == 302

    assert "7 of 7 steps done" in client.get("/onboarding/").content.decode()
    assert client.post("/onboarding/sign-off/").status_code == 302
    signoff = OnboardingSignOff.objects.get(user=commander)
    assert signoff.versions == {"common-vision": 1, "notification-protocol": 1, "rules-of-engagement": 1,
                                "communication-guidance": 1}
    assert "You signed off on" in client.get("/onboarding/").content.decode()
    assert Event.objects.filter(action="onboarding.signed_off", actor=commander).exists()


def test_the_review_step_is_done_only_when_recorded_present(seeded, commander, analyst):
    review = review_create(actor=analyst, month=Month(2026, 2), districts=[commander.membership.district])
    review_attendance_add(actor=analyst, review=review, user=commander, present=False)
    assert not StepCompletion.objects.filter(user=commander, step__kind="attend_review").exists()
    other = review_create(actor=analyst, month=Month(2026, 3), districts=[commander.membership.district])
    review_attendance_add(actor=analyst, review=other, user=commander, present=True)
    done = StepCompletion.objects.get(user=commander, step__kind="attend_review")
    assert done.detail == {"review": str(other.code)}


def test_a_wrong_answer_is_marked_and_the_step_stays_open(client, seeded, cpd_user):
    client.force_login(cpd_user)
    check = _step(cpd_user, "knowledge_check")
    answers = _right_answers(check)
    first = check.questions.first()
    answers[f"q{first.pk}"] = str((first.answer + 1) % len(first.choices))
    response = client.post(f"/onboarding/steps/{check.code}/check/", answers)
    assert response.status_code == 400
    page = response.content.decode()
    assert "1 answer(s) are not right yet" in page
    assert page.count('class="question wrong"') == 1
    assert not StepCompletion.objects.filter(user=cpd_user, step=check).exists()
    empty = client.post(f"/onboarding/steps/{check.code}/check/", {})
    assert empty.status_code == 400 and "Answer the questions" in empty.content.decode()


def test_a_new_version_puts_a_signed_off_member_behind_until_they_re_acknowledge(
        client, seeded, cpd_user, commander, admin_user):
    client.force_login(cpd_user)
    _read_everything(client, cpd_user)
    client.post(f"/onboarding/steps/{_step(cpd_user, 'meet_organizations').code}/done/")
    check = _step(cpd_user, "knowledge_check")
    client.post(f"/onboarding/steps/{check.code}/check/", _right_answers(check))
    client.post("/onboarding/sign-off/")
    pathway = Pathway.objects.get(role="cpd_staff")
    assert progress_of(cpd_user, pathway).status == "signed"

    protocol_version_publish(actor=admin_user, document=seeded["rules-of-engagement"], language="en",
                             title="Rules of engagement", body="Restated.", effective_on=date(2026, 9, 1))
    progress = progress_of(cpd_user, pathway)
    assert progress.status == "behind"
    assert [s.state for s in progress.steps if s.step.document_id == seeded["rules-of-engagement"].pk] == ["to_reread"]

    client.force_login(commander)
    team = client.get("/onboarding/team/").content.decode()
    assert "Protocol changed: to re-acknowledge" in team

    client.force_login(cpd_user)
    client.post("/protocols/rules-of-engagement/acknowledge/", {"version": "2"})
    client.post("/onboarding/sign-off/")
    assert OnboardingSignOff.objects.filter(user=cpd_user).first().versions["rules-of-engagement"] == 2
    assert progress_of(cpd_user, pathway).status == "signed"


def test_administrators_see_everyone_and_commanders_their_districts_cpd_members(
        seeded, admin_user, commander, cpd_user, other_district_user, worker):
    everyone = {m.user.username for m in team_visible_to(admin_user)}
    assert {commander.username, cpd_user.username, other_district_user.username, worker.username} <= everyone
    district = {m.user.username for m in team_visible_to(commander)}
    assert district == {commander.username, cpd_user.username}
    assert team_visible_to(cpd_user) is None
    rows = team_progress(team_visible_to(commander))
    assert [row[1].status for row in rows] == ["not_started", "not_started"]


@pytest.mark.parametrize(("user_fixture", "status"), [
    ("cpd_user", 403), ("worker", 403), ("analyst", 403), ("commander", 200), ("admin_user", 200)])
def test_who_may_see_who_is_behind(client, seeded, request, user_fixture, status):
    client.force_login(request.getfixturevalue(user_fixture))
    assert client.get("/onboarding/team/").status_code == status


@pytest.mark.parametrize("user_fixture", ["analyst", "admin_user"])
def test_roles_without_a_pathway_are_refused(client, seeded, request, user_fixture):
    client.force_login(request.getfixturevalue(user_fixture))
    assert client.get("/onboarding/").status_code == 403


def test_a_step_of_another_pathway_or_unknown_is_a_404(client, seeded, worker, commander):
    client.force_login(worker)
    commanders_step = _step(commander, "meet_organizations")
    response = client.post(f"/onboarding/steps/{commanders_step.code}/done/")
    assert response.status_code == 404
    assert "not part of your pathway" in response.content.decode()
    assert client.post("/onboarding/steps/00000000-0000-0000-0000-000000000000/check/").status_code == 404
    reading = Pathway.objects.get(role="outreach_worker").steps.filter(kind="read_protocol").first()
    response = client.post(f"/onboarding/steps/{reading.code}/done/")
    assert response.status_code == 400
    assert not StepCompletion.objects.exists()


def test_onboarding_is_linked_in_navigation_and_in_spanish(client, seeded, worker, commander):
    client.force_login(worker)
    feed = client.get("/feed/").content.decode()
    assert 'href="/onboarding/"' in feed and 'href="/protocols/"' in feed and 'href="/directory/"' in feed
    page = client.get("/onboarding/", HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert "Nuevo trabajador de alcance" in page and "Prueba de conocimientos" in page
    client.force_login(commander)
    home = client.get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'href="/onboarding/team/"' in home


def test_wrong_methods(client, seeded, worker):
    client.force_login(worker)
    assert client.get("/onboarding/sign-off/").status_code == 405
    assert client.post("/onboarding/").status_code == 405


def test_a_supervisor_with_no_pathway_row_gets_a_clear_message(client, seeded, supervisor):
    PathwayStep.objects.filter(pathway__role="outreach_supervisor").delete()
    Pathway.objects.filter(role="outreach_supervisor").delete()
    client.force_login(supervisor)
    response = client.get("/onboarding/")
    assert response.status_code == 404
    assert "no onboarding pathway for your role" in response.content.decode()
