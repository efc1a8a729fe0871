"""Protocol documents: safe Markdown, versions with an effective date, the reader's language,
re-acknowledgement after a new version, the administrators' forms, and who may do what."""

from datetime import date
from html.parser import HTMLParser

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.utils import translation

from audit.models import Event
from protocols.documents import protocol_acknowledge, protocol_version_publish
from protocols.models import ProtocolDocument, ProtocolNotice, ProtocolVersion
from protocols.rendering import render_markdown
from tests.conftest import make_member

pytestmark = [pytest.mark.django_db, pytest.mark.sqlite]


@pytest.mark.parametrize("text", [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    '<a href="javascript:alert(1)">click</a>',
    "[click](javascript:alert(1))",
    "[click](JaVaScRiPt:alert(1))",
    "[click](&#106;avascript:alert(1))",
    "[click][x]\n\n[x]: javascript:alert(1)",
    "<javascript:alert(1)>",
    "![x](javascript:alert(1))",
    '![x](https://example.org/a.png "t" onerror=alert(1))',
    "<div onmouseover=alert(1)>hover</div>",
    "[data](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
])
def test_rendered_markdown_cannot_inject_script(text):
    tags = _tags(render_markdown(text))
    assert not {name for name, _ in tags} & {"script", "img", "iframe", "svg", "object", "div", "style"}
    for _name, attrs in tags:
        assert not [key for key, _ in attrs if key.startswith("on")]
        for key, value in attrs:
            if key in ("href", "src"):
                assert not value.strip().lower().startswith(("javascript:", "data:", "vbscript:")), value


def _tags(html: str) -> list[tuple[str, list]]:
    """Every element the browser would build from `html`: (tag, attributes)."""
    found = []

    class Collect(HTMLParser):
        def handle_starttag(self, tag, attrs):
            found.append((tag, attrs))

    Collect().feed(html)
    return found


def test_markdown_keeps_the_documents_own_structure():
    html = render_markdown("# Rules\n\n1. **Separate roles.** [More](https://example.org)\n- item")
    assert "<h1>Rules</h1>" in html
    assert "<strong>Separate roles.</strong>" in html
    assert '<a href="https://example.org" rel="nofollow noopener">More</a>' in html


def test_a_document_page_shows_typed_html_as_text(client, seeded, admin_user):
    document = seeded["rules-of-engagement"]
    protocol_version_publish(actor=admin_user, document=document, language="en", title="Rules",
                             body="Hello <script>alert('x')</script> [x](javascript:alert(1))",
                             effective_on=date(2026, 6, 1))
    client.force_login(admin_user)
    page = client.get(f"/protocols/{document.slug}/").content.decode()
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in page or "&lt;script&gt;" in page
    assert "<script>alert" not in page
    assert 'href="javascript:' not in page


def test_the_seed_has_the_four_documents_in_english_and_spanish(seeded):
    assert set(seeded) == {"common-vision", "notification-protocol", "rules-of-engagement", "communication-guidance"}
    for document in seeded.values():
        assert set(document.versions.filter(number=1).values_list("language", flat=True)) == {"en", "es"}
    vision = seeded["common-vision"].versions.get(language="en").body
    assert "Outreach workers are not informants" in vision


def test_a_new_version_asks_its_signers_to_re_acknowledge(client, seeded, admin_user, commander, worker, cpd_user,
                                                          django_capture_on_commit_callbacks):
    document = seeded["notification-protocol"]
    protocol_acknowledge(actor=commander, document=document, number=1)
    protocol_acknowledge(actor=worker, document=document, number=1)
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        version = protocol_version_publish(actor=admin_user, document=document, language="en",
                                           title="Notification protocol", body="Changed text.\n",
                                           effective_on=date(2026, 7, 1), change_note="Window restated.")
    assert version.number == 2

    notices = ProtocolNotice.objects.filter(document=document, number=2, resolved_at__isnull=True)
    assert set(notices.values_list("user__username", flat=True)) == {commander.username, worker.username}
    assert sorted(m.to[0] for m in mail.outbox) == sorted([commander.email, worker.email])
    assert "version 2" in mail.outbox[0].subject

    client.force_login(commander)
    home = client.get("/").content.decode()
    assert "A protocol you signed has changed" in home
    assert f"/protocols/{document.slug}/" in home
    # Someone who never signed gets no reminder.
    client.force_login(cpd_user)
    assert "A protocol you signed has changed" not in client.get("/").content.decode()

    client.force_login(commander)
    response = client.post(f"/protocols/{document.slug}/acknowledge/", {"version": "2"})
    assert response.status_code == 302
    assert not ProtocolNotice.objects.filter(user=commander, resolved_at__isnull=True).exists()
    assert "A protocol you signed has changed" not in client.get("/").content.decode()
    assert ProtocolNotice.objects.filter(user=worker, resolved_at__isnull=True).exists()


def test_an_effective_date_before_the_current_versions_is_refused_and_nothing_is_saved(
        client, seeded, admin_user, commander):
    document = seeded["notification-protocol"]
    protocol_acknowledge(actor=commander, document=document, number=1)
    client.force_login(admin_user)
    events = Event.objects.count()
    response = client.post(f"/protocols/{document.slug}/publish/", {
        "language": "en", "title": "Notification protocol", "body": "New text", "effective_on": "2025-12-31"})
    assert response.status_code == 400
    page = response.content.decode()
    assert "The effective date may not be before the current version" in page
    assert "2026-01-01" in page
    assert "Nothing was published" in page
    assert document.versions.count() == 2  # version 1, English and Spanish
    assert not ProtocolNotice.objects.exists()
    assert Event.objects.count() == events
    assert mail.outbox == []


def test_the_same_effective_date_is_accepted_and_audited(client, seeded, admin_user):
    document = seeded["communication-guidance"]
    client.force_login(admin_user)
    response = client.post(f"/protocols/{document.slug}/publish/", {
        "language": "en", "title": "Communication guidance", "body": "# Guidance\n\nNew.", "effective_on": "2026-01-01",
        "change_note": "Shorter."})
    assert response.status_code == 302
    assert document.versions.filter(number=2, language="en").exists()
    event = Event.objects.get(action="protocol.version_published")
    assert event.actor == admin_user
    assert event.data == {"version": 2, "language": "en", "effective_on": "2026-01-01", "reminders": 0}


def test_a_reader_sees_their_language_or_english_with_a_note(client, seeded, admin_user, worker):
    document = seeded["rules-of-engagement"]
    worker.membership.language = "es"
    worker.membership.save()
    client.force_login(worker)
    spanish = client.get(f"/protocols/{document.slug}/", HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert "Reglas de actuación" in spanish
    protocol_version_publish(actor=admin_user, document=document, language="en", title="Rules of engagement",
                             body="Rule one, restated.", effective_on=date(2026, 3, 1))
    fallback = client.get(f"/protocols/{document.slug}/", HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert "Rule one, restated." in fallback
    assert "todavía no está traducida" in fallback  # the note, in Spanish
    protocol_version_publish(actor=admin_user, document=document, language="es", title="Reglas de actuación",
                             body="Regla uno, de nuevo.", effective_on=None)
    translated = client.get(f"/protocols/{document.slug}/", HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert "Regla uno, de nuevo." in translated
    assert document.versions.get(number=2, language="es").effective_on == date(2026, 3, 1)


@translation.override("en")
def test_a_translation_needs_an_english_version_and_is_published_once(seeded, admin_user):
    document = seeded["common-vision"]
    with pytest.raises(ValidationError) as refused:
        protocol_version_publish(actor=admin_user, document=document, language="es", title="Visión",
                                 body="Otra vez", effective_on=None)
    assert "already has this translation" in str(refused.value)
    empty = ProtocolDocument.objects.create(slug="empty")
    with pytest.raises(ValidationError) as refused:
        protocol_version_publish(actor=admin_user, document=empty, language="es", title="Vacío", body="x",
                                 effective_on=None)
    assert "Publish the English version first" in str(refused.value)


def test_the_history_and_the_diff_show_what_changed(client, seeded, admin_user, analyst):
    document = seeded["communication-guidance"]
    old = document.versions.get(number=1, language="en").body
    protocol_version_publish(actor=admin_user, document=document, language="en", title="Communication guidance",
                             body=old.replace("Never put a name", "Never write a name"), effective_on=date(2026, 5, 1))
    client.force_login(analyst)
    history = client.get(f"/protocols/{document.slug}/history/").content.decode()
    assert "Compare with the previous version" in history
    diff = client.get(f"/protocols/{document.slug}/diff/?from=1&to=2").content.decode()
    assert 'class="diff-removed"' in diff and "Never put a name" in diff
    assert 'class="diff-added"' in diff and "Never write a name" in diff
    old_page = client.get(f"/protocols/{document.slug}/v1/").content.decode()
    assert "This is an earlier version" in old_page


@pytest.mark.parametrize("query", ["?from=2&to=1", "?from=x&to=2", "?from=0&to=2", "?from=1&to=99", "?from=1"])
def test_a_bad_diff_request_is_a_400_with_a_message(client, seeded, analyst, query):
    client.force_login(analyst)
    response = client.get(f"/protocols/common-vision/diff/{query}")
    assert response.status_code == 400
    assert "Compare two versions of this document by number" in response.content.decode()


def test_an_unknown_document_or_version_is_a_404_with_a_message(client, seeded, cpd_user):
    client.force_login(cpd_user)
    response = client.get("/protocols/no-such-thing/")
    assert response.status_code == 404
    assert "There is no protocol document" in response.content.decode()
    response = client.get("/protocols/common-vision/v9/")
    assert response.status_code == 404
    assert "has no version 9" in response.content.decode()


def test_only_the_current_version_can_be_acknowledged(client, seeded, worker):
    client.force_login(worker)
    for bad in ("7", "", "abc"):
        response = client.post("/protocols/common-vision/acknowledge/", {"version": bad})
        assert response.status_code == 400
        assert "Only the current version (1) can be acknowledged" in response.content.decode()
    assert not worker.protocol_acks.exists()
    assert client.post("/protocols/common-vision/acknowledge/", {"version": "1"}).status_code == 302
    assert client.post("/protocols/common-vision/acknowledge/", {"version": "1"}).status_code == 302
    assert worker.protocol_acks.count() == 1
    assert Event.objects.filter(action="protocol.acknowledged", actor=worker).count() == 1


@pytest.mark.parametrize("user_fixture", ["cpd_user", "commander", "worker", "supervisor", "analyst", "admin_user"])
def test_every_role_reads_the_documents_and_finds_them_in_its_navigation(client, seeded, request, user_fixture):
    client.force_login(request.getfixturevalue(user_fixture))
    page = client.get("/protocols/")
    assert page.status_code == 200
    assert "Rules of engagement" in page.content.decode()
    assert 'href="/protocols/"' in page.content.decode()
    document = client.get("/protocols/rules-of-engagement/").content.decode()
    assert "Outreach workers identify themselves" in document
    assert "data-print" in document and "protocols.js" in document


def test_anonymous_readers_are_sent_to_log_in(client, seeded):
    response = client.get("/protocols/common-vision/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


@pytest.mark.parametrize("user_fixture", ["cpd_user", "commander", "worker", "analyst"])
def test_only_administrators_publish(client, seeded, request, user_fixture):
    client.force_login(request.getfixturevalue(user_fixture))
    assert client.get("/protocols/common-vision/publish/").status_code == 403
    response = client.post("/protocols/common-vision/publish/", {
        "language": "en", "title": "x", "body": "x", "effective_on": "2027-01-01"})
    assert response.status_code == 403
    assert client.post("/protocols/new/", {"slug": "x", "kind": "other", "title": "x", "body": "x",
                                           "effective_on": "2027-01-01"}).status_code == 403
    assert ProtocolVersion.objects.filter(title="x").count() == 0


def test_an_administrator_adds_a_document_and_bad_input_saves_nothing(client, seeded, admin_user):
    client.force_login(admin_user)
    form = client.get("/protocols/new/")
    assert form.status_code == 200
    for bad, message in [({"slug": "Vigil Guidance!"}, "Enter a valid"), ({"slug": "common-vision"},
                         "A document already has this address"), ({"effective_on": ""},
                         "Give the day this version takes effect"), ({"body": "   "}, "This field is required")]:
        data = {"slug": "vigil-guidance", "kind": "other", "title": "Vigils and funerals",
                "body": "Officers keep a respectful distance.", "effective_on": "2026-02-01", **bad}
        response = client.post("/protocols/new/", data)
        assert response.status_code == 400, bad
        assert message in response.content.decode(), bad
    assert not ProtocolDocument.objects.filter(slug="vigil-guidance").exists()
    response = client.post("/protocols/new/", {
        "slug": "vigil-guidance", "kind": "other", "title": "Vigils and funerals",
        "body": "Officers keep a respectful distance.", "effective_on": "2026-02-01"})
    assert response.status_code == 302
    document = ProtocolDocument.objects.get(slug="vigil-guidance")
    assert document.versions.get().title == "Vigils and funerals"
    assert Event.objects.filter(action="protocol.document_created", actor=admin_user).exists()


def test_wrong_method_is_refused(client, seeded, worker):
    client.force_login(worker)
    assert client.post("/protocols/").status_code == 405
    assert client.get("/protocols/common-vision/acknowledge/").status_code == 405


def test_spanish_pages_are_in_spanish(client, seeded, worker):
    client.force_login(worker)
    page = client.get("/protocols/", HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert "Documentos del protocolo" in page
    assert "Visión común" in page


def test_a_user_without_a_membership_is_refused(client, seeded):
    nobody = make_member("nobody_x", "analyst")
    nobody.membership.delete()
    client.force_login(nobody)
    assert client.get("/protocols/").status_code == 403


def test_the_reminder_email_is_in_the_signers_language(seeded, admin_user, worker, django_capture_on_commit_callbacks):
    worker.membership.language = "es"
    worker.membership.save()
    document = seeded["common-vision"]
    protocol_acknowledge(actor=worker, document=document, number=1, language="es")
    with django_capture_on_commit_callbacks(execute=True):
        protocol_version_publish(actor=admin_user, document=document, language="en", title="Common vision",
                                 body="Restated.", effective_on=date(2026, 4, 1))
    (message,) = mail.outbox
    assert message.to == [worker.email]
    # Version 2 exists in English only so far: its title is the English one, the message Spanish.
    assert message.subject == "Cambió un protocolo: «Common vision», versión 2"
    assert "Léala y acéptela de nuevo en el portal" in message.body
    assert "/protocols/common-vision/" in message.body


def test_a_published_version_is_never_edited(seeded):
    version = seeded["common-vision"].versions.get(number=1, language="en")
    version.body = "Rewritten behind the signers' backs."
    with pytest.raises(ValueError, match="never changed"):
        version.save()
    version.refresh_from_db()
    assert "Outreach workers are not informants" in version.body
