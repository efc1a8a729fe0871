"""Every role's main pages in Spanish, and a Spanish catalogue with nothing left to translate.

Each member here reads Spanish (Membership.language, the language cookie and the browser's
Accept-Language all say "es"). A page passes when the English headings, buttons and column
headers listed for it are gone and their Spanish translations are there, and when no heading,
button, label or column header reads the same as on the English page (a proper name aside):
a heading added without {% translate %}, or without its Spanish msgstr, fails here.
"""

import re
import subprocess
from datetime import timedelta
from gettext import GNUTranslations
from html import unescape
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.html import escape

from districts.models import CommunityArea, District, Membership, Organization
from notifications.services import incident_create
from tests.conftest import COVERING_ORG

CATALOGUE = Path(settings.BASE_DIR) / "locale" / "es" / "LC_MESSAGES"
# Headings that read the same in both languages.
SAME_IN_SPANISH = {"Hospital", "Legal", "Webhook", "Email", "SMS", "API", "Total"}
# The elements whose text is a heading, a button, a form label or a column header.
HEADING = re.compile(r"<(h1|h2|h3|th|button|legend|summary|label)\b[^>]*>(.*?)</\1>", re.S)


def _incident(w):
    return w["incident"].code


def _notification(w):
    return w["notification"].code


# (member, page, its address, English text that must be translated on it)
PAGES = [
    ("cpd_user", "home", lambda w: reverse("home"),
     ["District desk", "Outreach organisations covering this district", "Full board"]),
    ("cpd_user", "board", lambda w: reverse("notifications:board"),
     ["District board", "Stale contacts", "Status key", "Earlier this week", "+ Enter a shooting", "Reconnecting…",
      "Delivered (confirmed)"]),
    ("cpd_user", "incident form", lambda w: reverse("notifications:incident_new"),
     ["When and where", "Scene and hospital", "Save and notify", "+ Add victim", "What outreach sees",
      "Note for outreach", "Hundred-block address, never a house number.", "Occurred at", "Keyboard",
      "Who will be told", "Paste a point", "Use point", "Looking up the place…",
      "No organisation covers this place: call the CSCC duty desk."]),
    ("cpd_user", "incident detail", lambda w: reverse("notifications:incident_detail", args=[_incident(w)]),
     ["What outreach was told", "Organisations notified", "Timeline", "District board", "First confirmed"]),
    ("cpd_user", "incident correction", lambda w: reverse("notifications:incident_correct", args=[_incident(w)]),
     ["Correct this incident", "Save correction", "Back to the incident"]),
    ("cpd_user", "history", lambda w: reverse("reviews:history"),
     ["Incident history", "RD number or block", "Organisation notified", "Sort by", "Organisations notified"]),
    ("cpd_user", "shooting reviews", lambda w: reverse("reviews:meetings"), ["Shooting reviews"]),
    ("cpd_user", "monthly reports", lambda w: reverse("reviews:reports"),
     ["Reports of this month", "Published versions"]),
    ("cpd_user", "directory", lambda w: reverse("districts:directory_district", args=["007"]),
     ["Another district", "Coverage map", "Organisations covering this district"]),
    ("cpd_user", "protocols", lambda w: reverse("protocols:documents"), ["Protocol documents"]),
    ("cpd_user", "onboarding", lambda w: reverse("protocols:onboarding"), ["Knowledge check", "Check my answers"]),
    ("cpd_user", "account", lambda w: reverse("account"),
     ["Account and security", "Two-factor authentication", "Log out everywhere"]),
    ("commander", "dashboard", lambda w: reverse("reviews:dashboard"),
     ["The last twelve months", "Tables from", "Notification coverage"]),
    ("commander", "team onboarding", lambda w: reverse("protocols:onboarding_team"), ["Who is behind", "Pathway"]),
    ("commander", "board", lambda w: reverse("notifications:board"), ["Stale contacts", "Status key"]),
    ("analyst", "home", lambda w: reverse("home"), ["The protocol across Chicago", "Outreach organisations"]),
    ("analyst", "dashboard", lambda w: reverse("reviews:dashboard"),
     ["The last twelve months", "Tables from", "Notification coverage"]),
    ("analyst", "history", lambda w: reverse("reviews:history"), ["Incident history", "Organisations notified"]),
    ("analyst", "shooting reviews", lambda w: reverse("reviews:meetings"),
     ["Shooting reviews", "New review", "Create the review"]),
    ("analyst", "monthly reports", lambda w: reverse("reviews:reports"), ["Reports of this month", "Publish now"]),
    ("analyst", "board", lambda w: reverse("notifications:board") + "?district=007",
     ["District board", "Stale contacts", "Earlier this week"]),
    ("analyst", "incident detail", lambda w: reverse("notifications:incident_detail", args=[_incident(w)]),
     ["What outreach was told", "Organisations notified", "Timeline"]),
    ("worker", "feed", lambda w: reverse("responses:feed"), ["This phone", "Language"]),
    ("worker", "incident", lambda w: reverse("responses:incident", args=[_notification(w)]),
     ["Your status", "Unable to respond", "What CPD reported"]),
    ("worker", "response form", lambda w: reverse("responses:respond", args=[_notification(w)]),
     ["Log the response", "What we did", "Risk of retaliation", "Private notes", "Save response"]),
    ("worker", "follow-ups", lambda w: reverse("responses:followups"), ["My follow-ups"]),
    ("worker", "onboarding", lambda w: reverse("protocols:onboarding"), ["Knowledge check", "Check my answers"]),
    ("worker", "protocols", lambda w: reverse("protocols:documents"), ["Protocol documents"]),
    ("worker", "account", lambda w: reverse("account"), ["Account and security", "Two-factor authentication"]),
    ("supervisor", "team", lambda w: reverse("responses:team"), ["Who did what", "Open follow-ups"]),
    ("supervisor", "settings", lambda w: reverse("responses:channels"),
     ["Channels and escalation", "Escalation policy", "Where alerts go", "Send a drill to every channel"]),
    ("supervisor", "on-call roster", lambda w: reverse("responses:oncall"), ["On-call roster", "Add to the roster"]),
    ("supervisor", "consent", lambda w: reverse("responses:consent"),
     ["What we share with CPD", "Share our arrival time"]),
    ("supervisor", "transparency", lambda w: reverse("responses:transparency"),
     ["What CPD and analysts see", "Agreed summary", "Who looked"]),
    ("supervisor", "access log", lambda w: reverse("responses:access_log"),
     ["Who viewed your records", "Export your records"]),
    ("supervisor", "dashboard", lambda w: reverse("reviews:dashboard"), ["The last twelve months"]),
    ("admin_user", "home", lambda w: reverse("home"), ["The protocol across Chicago"]),
    ("admin_user", "playbooks", lambda w: reverse("playbooks:list"), ["Scenario playbooks"]),
    ("admin_user", "places", lambda w: reverse("playbooks:places"), ["Load a places file", "Load places"]),
]


@pytest.fixture
def world(cpd_user, commander, worker, supervisor, analyst, admin_user):
    incident, _ = incident_create(actor=cpd_user, source="web", occurred_at=timezone.now() - timedelta(minutes=5),
                                  block="6300 S HALSTED ST", district="007", community_area=68,
                                  victims=[{"age_band": "30-39", "sex": "M", "fatal": True, "gunshot": True}])
    return {"incident": incident, "notification": incident.notifications.get(organization__name=COVERING_ORG),
            "cpd_user": cpd_user, "commander": commander, "worker": worker, "supervisor": supervisor,
            "analyst": analyst, "admin_user": admin_user}


def _page(client, user, url: str, language: str) -> str:
    Membership.objects.filter(user=user).update(language=language)
    client.cookies["django_language"] = language
    response = client.get(url, headers={"accept-language": language})
    assert response.status_code == 200, url
    return response.content.decode()


def _headings(body: str) -> list[str]:
    texts = (" ".join(unescape(re.sub(r"<[^>]+>", " ", inner)).split()) for _, inner in HEADING.findall(body))
    return [text for text in texts if re.search(r"[a-z]{3,}", text)]


def _proper_names() -> set[str]:
    """Names that read the same in any language: organisations, places, people, districts."""
    names = set(SAME_IN_SPANISH)
    for org in Organization.objects.all():
        names |= {org.name, str(org)}
    names |= set(CommunityArea.objects.values_list("name", flat=True))
    names |= {f"{d.number} {d.name}" for d in District.objects.defer("boundary")}
    for user in get_user_model().objects.all():
        names |= {user.first_name, user.get_full_name(), user.username}
    return names


@pytest.mark.django_db
@pytest.mark.parametrize(("member", "page", "url", "english"), PAGES, ids=[f"{m}-{p}" for m, p, _, _ in PAGES])
def test_each_main_page_of_each_role_reads_in_spanish(client, world, member, page, url, english):
    user = world[member]
    client.force_login(user)
    address = url(world)
    body = _page(client, user, address, "es")
    with translation.override("es"):
        spanish = {text: translation.gettext(text) for text in english}
    untranslated = [text for text, es in spanish.items() if es == text]
    assert not untranslated, f"no Spanish in the catalogue for {untranslated}"
    assert [text for text in english if escape(text) in body] == [], f"English left on the {page} page"
    assert [es for es in spanish.values() if escape(es) not in body] == [], f"Spanish missing on the {page} page"

    english_headings = set(_headings(_page(client, user, address, "en")))
    same = [text for text in _headings(body) if text in english_headings and text not in _proper_names()]
    assert same == [], f"headings, buttons or labels on the {page} page still in English"


def _entries(po: str) -> list[str]:
    """The catalogue's entries (header and obsolete ones left out), one block of lines each."""
    blocks = [block for block in po.split("\n\n") if "msgid" in block]
    return [block for block in blocks[1:] if not block.lstrip().startswith("#~")]


def test_the_spanish_catalogue_compiles_cleanly_with_nothing_fuzzy_or_empty():
    po = CATALOGUE / "django.po"
    check = subprocess.run(["msgfmt", "--check", "-o", "/dev/null", str(po)], capture_output=True, text=True)
    assert check.returncode == 0 and check.stderr == "", check.stderr

    entries = _entries(po.read_text())
    assert len(entries) > 1000
    fuzzy = [block for block in entries if re.search(r"^#,.*\bfuzzy\b", block, re.M)]
    empty = [block for block in entries if re.search(r'^msgstr(\[\d+\])? ""$(?!\n")', block, re.M)]
    assert fuzzy == [] and empty == []


def test_the_compiled_catalogue_is_the_current_one():
    with (CATALOGUE / "django.mo").open("rb") as mo:
        compiled = GNUTranslations(mo)
    pairs = [re.search(r'^msgid "(.+)"\nmsgstr "(.+)"$', block, re.M) for block in _entries(
        (CATALOGUE / "django.po").read_text()) if "msgctxt" not in block and "msgid_plural" not in block]
    stale = [pair[1] for pair in pairs if pair and "\\" not in pair[0] and compiled.gettext(pair[1]) != pair[2]]
    assert stale == [], "the .mo is older than the .po: compile it with msgfmt"
