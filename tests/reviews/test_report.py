"""The monthly report: its page and PDF for a hand-built month, published versions and their
email, the beat task, who may see and publish what, and bad input."""

import shutil
import subprocess
import uuid
from datetime import datetime

import pytest
from django.core import mail
from django.urls import reverse

from audit.models import Event
from core.dates import CHICAGO
from districts.models import District
from notifications.models import Notification
from responses.models import ResponseLog
from reviews.models import ActionItem, MonthlyReport, Review, ReviewDistrict, ReviewTheme
from reviews.report import current_month
from reviews.selectors import Month
from reviews.selectors_dashboard import shifted
from reviews.services import monthly_report_publish
from reviews.tasks import monthly_reports_publish
from tests.conftest import PASSWORD, make_member
from tests.reviews.test_metrics import shooting

pytestmark = pytest.mark.django_db

MONTH = Month(2026, 10)
REPORT = reverse("reviews:report", kwargs={"month": MONTH.label})
PDF = reverse("reviews:report_pdf", kwargs={"month": MONTH.label})


def pdf_text(pdf: bytes) -> str:
    """The PDF's text, read back with poppler's pdftotext (scripts/pdf-libs installs it)."""
    assert shutil.which("pdftotext"), "pdftotext is missing: run scripts/pdf-libs"
    done = subprocess.run(["pdftotext", "-layout", "-", "-"], input=pdf, capture_output=True, check=True, timeout=60)
    return done.stdout.decode()


def login(client, user):
    assert client.login(username=user.username, password=PASSWORD)
    return client


@pytest.fixture
def october(englewood, covering_org):
    """October 2026 in the 7th: five shootings (six victims, two fatal), all notified to the
    covering organisation, four acknowledged; September had one."""
    for day in range(1, 6):
        shooting(englewood, datetime(2026, 10, day * 3, 21, 0, tzinfo=CHICAGO), victims=2 if day == 1 else 1,
                 fatal=1 if day <= 2 else 0, entered=6, sent=1, acknowledged=4 if day <= 4 else None,
                 organization=covering_org, responded=day <= 3)
    shooting(englewood, datetime(2026, 9, 12, 22, 0, tzinfo=CHICAGO), organization=covering_org, acknowledged=3)
    return MONTH


def card(html: str, key: str) -> str:
    start = html.index(f'data-figure="{key}"')
    return html[start:html.index("</li>", start)]


def test_the_report_shows_the_months_figures_with_small_counts_as_at_most_three(client, analyst, october):
    response = login(client, analyst).get(REPORT, {"district": "007"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "Monthly report: October 2026" in html and "District 7 (Englewood)" in html
    assert '<span class="report-card-value">5</span>' in card(html, "incidents")
    assert '<span class="report-card-value">6</span>' in card(html, "victims")
    assert '<span class="report-card-value">≤3</span>' in card(html, "fatal")  # two fatal
    assert '<span class="report-card-value">≤3</span>' in card(html, "missed")  # one never acknowledged
    assert '<span class="report-card-value">100%</span>' in card(html, "notification_coverage")
    # September had one incident: the change is not computed, September is shown suppressed.
    assert "September 2026: ≤3" in card(html, "incidents")
    assert html.count("<svg") >= 6 and 'id="report-incidents-title"' in html
    assert "Public Equity" in html  # the organisations' table
    assert ">2<" not in card(html, "fatal")


def test_the_pdf_is_a_letter_pdf_naming_the_district_and_the_month(client, commander, october):
    response = login(client, commander).get(PDF)
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    text = pdf_text(response.content)
    assert "Monthly report: October 2026" in text and "District 7 (Englewood)" in text
    assert "Page 1 of" in text and "≤3" in text


def test_the_report_carries_the_reviews_themes_and_action_items_never_an_organisations_notes(
        client, analyst, commander, englewood, october):
    review = Review.objects.create(month=datetime(2026, 10, 1).date(), created_by=commander)
    ReviewDistrict.objects.create(review=review, district=englewood, month=review.month)
    ReviewTheme.objects.create(review=review, tag=ReviewTheme.Tag.HOSPITAL, note="Trauma bay handoffs were slow")
    ActionItem.objects.create(review=review, text="Call the hospital VIP lead", owner_name="CSCC")
    notification = Notification.objects.filter(incident__district=englewood).first()
    ResponseLog.objects.create(notification=notification, organization=notification.organization,
                               client_key=uuid.uuid4(), notes="Private: spoke with the cousin")
    html = login(client, analyst).get(REPORT, {"district": "007"}).content.decode()
    assert "Hospital response" in html and "Trauma bay handoffs were slow" in html
    assert "Call the hospital VIP lead" in html and "CSCC" in html
    assert "spoke with the cousin" not in html


def test_a_month_with_simulated_history_says_so(client, analyst, october):
    Notification.objects.filter(incident__district__number="007").update(simulated=True)
    html = login(client, analyst).get(REPORT, {"district": "007"}).content.decode()
    assert "simulated, not recorded" in html


def test_the_report_is_in_spanish_when_the_page_is(client, analyst, october):
    client.cookies["django_language"] = "es"
    response = login(client, analyst).get(REPORT, {"district": "007"})
    assert "Informe mensual: octubre de 2026" in response.content.decode()
    text = pdf_text(client.get(PDF, {"district": "007"}).content)
    assert "Informe mensual" in text and "Página 1 de" in text


def test_publishing_twice_keeps_two_versions_and_emails_the_participants(
        commander, analyst, supervisor, cpd_user, worker, other_worker, october):
    no_email = make_member("noemail_analyst", "analyst")
    no_email.email = ""
    no_email.save()
    first = monthly_report_publish(month=MONTH, districts=[commander.membership.district], actor=commander)
    second = monthly_report_publish(month=MONTH, districts=[commander.membership.district], actor=analyst)
    assert (first.version, second.version) == (1, 2)
    assert MonthlyReport.objects.filter(scope="district:007", month=first.month).count() == 2
    assert bytes(first.pdf).startswith(b"%PDF") and "Monthly report: October 2026" in first.html
    expected = sorted([commander.email, analyst.email, supervisor.email])
    assert sorted(address for message in mail.outbox for address in message.to) == sorted(expected * 2)
    message = mail.outbox[-1]
    assert "October 2026" in message.subject and "version 2" in message.subject
    (name, content, mimetype), = message.attachments
    assert name.endswith("-v2.pdf") and mimetype == "application/pdf" and content.startswith(b"%PDF")
    events = Event.objects.filter(action="report.published").order_by("id")
    assert [e.data for e in events] == [
        {"month": "2026-10", "scope": "district:007", "version": v, "recipients": 3} for v in (1, 2)]


def test_publish_now_is_for_the_commander_of_the_district_and_analysts(client, commander, cpd_user, analyst,
                                                                      other_district_user, october):
    url = reverse("reviews:report_publish")
    response = login(client, commander).post(url, {"month": MONTH.label, "district": "007"})
    assert response.status_code == 302
    version = MonthlyReport.objects.get()
    assert version.published_by == commander and version.scope == "district:007"
    listing = client.get(reverse("reviews:reports"), {"month": MONTH.label}).content.decode()
    assert reverse("reviews:report_version", kwargs={"code": version.code}) in listing
    assert login(client, commander).post(url, {"month": MONTH.label, "district": "011"}).status_code == 403
    assert login(client, cpd_user).post(url, {"month": MONTH.label, "district": "007"}).status_code == 403
    assert login(client, analyst).post(url, {"month": MONTH.label}).status_code == 302  # citywide
    assert set(MonthlyReport.objects.values_list("scope", flat=True)) == {"district:007", "all"}
    assert client.get(url).status_code == 405


def test_a_published_version_is_downloaded_as_it_was_by_those_who_may_read_it(client, commander, cpd_user,
                                                                             other_district_user, october):
    version = monthly_report_publish(month=MONTH, districts=[commander.membership.district], actor=commander)
    url = reverse("reviews:report_version", kwargs={"code": version.code})
    response = login(client, cpd_user).get(url)
    assert response.status_code == 200 and response.content == bytes(version.pdf)
    assert login(client, other_district_user).get(url).status_code == 404
    missing = reverse("reviews:report_version", kwargs={"code": uuid.uuid4()})
    assert login(client, cpd_user).get(missing).status_code == 404
    listing = login(client, other_district_user).get(reverse("reviews:reports"), {"month": MONTH.label})
    assert url not in listing.content.decode()


def test_the_beat_task_publishes_last_month_for_each_pilot_district_and_the_city(commander, analyst, englewood):
    District.objects.update(is_pilot=False)
    District.objects.filter(number__in=["007", "011"]).update(is_pilot=True)
    last = shifted(current_month(), -1)
    shooting(englewood, datetime(last.year, last.month, 2, 20, 0, tzinfo=CHICAGO))
    codes = monthly_reports_publish()
    versions = MonthlyReport.objects.filter(code__in=codes)
    assert sorted(versions.values_list("scope", flat=True)) == ["all", "district:007", "district:011"]
    assert {(v.month.year, v.month.month, v.version, v.published_by, v.language) for v in versions} == {
        (last.year, last.month, 1, None, "en")}
    assert commander.email in {address for message in mail.outbox for address in message.to}
    assert monthly_reports_publish() == []  # a second run (a retried beat) publishes nothing more
    assert MonthlyReport.objects.count() == 3


def test_who_may_read_the_report(client, analyst, commander, cpd_user, other_district_user, worker, supervisor,
                                 admin_user, october):
    assert client.get(REPORT).status_code == 302  # anonymous: the login page
    assert login(client, cpd_user).get(REPORT).status_code == 200  # their own district by default
    assert login(client, cpd_user).get(REPORT, {"district": "011"}).status_code == 403
    refused = login(client, other_district_user).get(REPORT, {"district": "007"})
    assert refused.status_code == 403 and "District 15" in refused.content.decode()
    assert login(client, other_district_user).get(PDF, {"district": "007"}).status_code == 403
    for user in (worker, supervisor, admin_user):
        assert login(client, user).get(REPORT).status_code == 403
        assert login(client, user).get(reverse("reviews:reports")).status_code == 403
    citywide = login(client, analyst).get(REPORT)
    assert citywide.status_code == 200 and "Every district" in citywide.content.decode()
    assert login(client, analyst).get(REPORT, {"district": ["007", "011"]}).status_code == 200
    page = login(client, cpd_user).get(REPORT).content.decode()
    assert "Publish now" not in page  # desk staff read only


@pytest.mark.parametrize("month, status, words", [
    ("2026-13", 400, "is not a month"), ("garbage", 400, "is not a month"), ("2099-01", 400, "in the future")])
def test_a_bad_month_is_a_clear_message(client, analyst, month, status, words):
    for name in ("reviews:report", "reviews:report_pdf"):
        response = login(client, analyst).get(reverse(name, kwargs={"month": month}))
        assert response.status_code == status and words in response.content.decode()
    assert login(client, analyst).get(reverse("reviews:reports"), {"month": month}).status_code == status


def test_a_district_that_does_not_exist_is_404(client, analyst):
    response = login(client, analyst).get(REPORT, {"district": "999"})
    assert response.status_code == 404 and "There is no district 999" in response.content.decode()
