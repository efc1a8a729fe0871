"""Protocol documents: reads (the reader's version, the history, a diff) and writes (publish a
version, add a document, acknowledge a version), each write with its audit event.

A new version number is published in English, the reference text; a translation attaches to
an existing number. Publishing a new number asks everyone who signed an earlier one to
re-acknowledge: an in-app notice on their home page and an email after the commit.
"""

import difflib
import re
from dataclasses import dataclass
from datetime import date

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage, mailers
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from audit.models import Source
from audit.services import audit_log
from districts.models import Membership

from .models import ProtocolAcknowledgement, ProtocolDocument, ProtocolNotice, ProtocolVersion

REFERENCE_LANGUAGE = "en"
SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


@dataclass(frozen=True)
class Reading:
    """What a reader sees of one document: the version in their language, or the English one
    (`fallback` True) when no translation of that number exists."""

    document: ProtocolDocument
    version: ProtocolVersion
    fallback: bool
    latest_number: int


# --- reads ---------------------------------------------------------------------------------------


def reader_language() -> str:
    return "es" if (translation.get_language() or "en").startswith("es") else "en"


def document_by_slug(slug: str) -> ProtocolDocument | None:
    return ProtocolDocument.objects.filter(slug=slug).first()


def latest_number(document: ProtocolDocument) -> int:
    return document.versions.aggregate(n=Max("number"))["n"] or 0


def document_reading(document: ProtocolDocument, *, language: str, number: int | None = None) -> Reading | None:
    """The version `number` (default: the latest) for a reader of `language`; None when the
    document has no such version."""
    latest = latest_number(document)
    number = latest if number is None else number
    rows = {v.language: v for v in document.versions.filter(number=number)}
    if not rows:
        return None
    version = rows.get(language) or rows.get(REFERENCE_LANGUAGE) or next(iter(rows.values()))
    return Reading(document=document, version=version, fallback=version.language != language, latest_number=latest)


def documents_for_reader(*, language: str) -> list[Reading]:
    """Every document with at least one version, in order, each as `document_reading` gives it."""
    readings = []
    for document in ProtocolDocument.objects.all():
        reading = document_reading(document, language=language)
        if reading is not None:
            readings.append(reading)
    return readings


def document_history(document: ProtocolDocument) -> list[dict]:
    """[{"number", "effective_on", "change_note", "published_at", "languages": [...]}], newest first."""
    history: dict[int, dict] = {}
    for version in document.versions.order_by("-number", "language"):
        entry = history.setdefault(version.number, {
            "number": version.number, "effective_on": version.effective_on, "change_note": version.change_note,
            "published_at": version.published_at, "languages": []})
        entry["languages"].append(version.language)
        if version.language == REFERENCE_LANGUAGE:
            entry["change_note"], entry["effective_on"] = version.change_note, version.effective_on
    return list(history.values())


def version_diff(older: ProtocolVersion, newer: ProtocolVersion) -> list[tuple[str, str]]:
    """The two bodies compared line by line: [(kind, text)] with kind "same", "added",
    "removed" or "gap" (unchanged lines left out between changes)."""
    lines = []
    diff = difflib.unified_diff(older.body.splitlines(), newer.body.splitlines(), lineterm="", n=2)
    for line in list(diff)[2:]:  # the two file header lines
        if line.startswith("@@"):
            lines.append(("gap", "…"))
        elif line.startswith("+"):
            lines.append(("added", line[1:]))
        elif line.startswith("-"):
            lines.append(("removed", line[1:]))
        else:
            lines.append(("same", line[1:]))
    return lines


def acknowledged_number(user, document: ProtocolDocument) -> int | None:
    """The latest version of the document the user acknowledged, or None."""
    return ProtocolAcknowledgement.objects.filter(user=user, document=document).aggregate(n=Max("number"))["n"]


def notices_open(user) -> list[ProtocolNotice]:
    """The user's reminders still to act on, newest first (one per document: the latest number)."""
    if not getattr(user, "is_authenticated", False):
        return []
    seen, notices = set(), []
    for notice in ProtocolNotice.objects.filter(user=user, resolved_at__isnull=True).select_related("document"):
        if notice.document_id not in seen:
            seen.add(notice.document_id)
            notices.append(notice)
    return notices


# --- writes --------------------------------------------------------------------------------------


def _check_text(*, title: str, body: str) -> tuple[str, str]:
    title, body = title.strip(), body.strip()
    errors = {}
    if not title:
        errors["title"] = [_("Give the version a title.")]
    if not body:
        errors["body"] = [_("The document has no text.")]
    if errors:
        raise ValidationError(errors)
    return title, body


def protocol_version_publish(*, actor, document: ProtocolDocument, language: str, title: str, body: str,
                             effective_on: date | None, change_note: str = "",
                             source: str = Source.WEB) -> ProtocolVersion:
    """Publish a version. In English: the next number, effective on `effective_on`, which may not be
    before the current version's; its earlier signers get a reminder. In another language: the
    translation of the latest number (its effective date is the English one's). ValidationError
    with the field at fault, and nothing saved, for a bad date, an empty text, a translation with
    no English version to translate or one already published."""
    title, body = _check_text(title=title, body=body)
    if language not in dict(settings.LANGUAGES):
        raise ValidationError({"language": [_("Choose English or Spanish.")]})
    with transaction.atomic():
        ProtocolDocument.objects.select_for_update().get(pk=document.pk)  # one publisher at a time
        current = document.versions.filter(language=REFERENCE_LANGUAGE).order_by("-number").first()
        if language == REFERENCE_LANGUAGE:
            if effective_on is None:
                raise ValidationError({"effective_on": [_("Give the day this version takes effect.")]})
            if current is not None and effective_on < current.effective_on:
                raise ValidationError({"effective_on": [_(
                    "The effective date may not be before the current version's (version %(number)s, "
                    "effective %(date)s).") % {"number": current.number, "date": current.effective_on.isoformat()}]})
            number = (current.number if current else 0) + 1
        else:
            if current is None:
                raise ValidationError({"language": [_("Publish the English version first; a translation "
                                                      "translates an English version.")]})
            number, effective_on = current.number, current.effective_on
            if document.versions.filter(number=number, language=language).exists():
                raise ValidationError({"language": [_(
                    "Version %(number)s already has this translation; publish a new version to change it.")
                    % {"number": number}]})
        try:
            with transaction.atomic():
                version = ProtocolVersion.objects.create(
                    document=document, number=number, language=language, title=title, body=body,
                    effective_on=effective_on, change_note=change_note.strip()[:300], published_by=actor)
        except IntegrityError:
            raise ValidationError({"language": [_("This version was just published by someone else.")]}) from None
        signers = _reminders_create(document, number) if language == REFERENCE_LANGUAGE and number > 1 else []
        audit_log(actor=actor, source=source, action="protocol.version_published", obj=document,
                  data={"version": number, "language": language, "effective_on": effective_on.isoformat(),
                        "reminders": len(signers)})
        if signers:
            transaction.on_commit(lambda: _reminder_emails_send(version, signers), robust=True)
    return version


def protocol_document_create(*, actor, slug: str, kind: str, title: str, body: str, effective_on: date | None,
                             change_note: str = "", position: int = 100,
                             source: str = Source.WEB) -> ProtocolDocument:
    """Add a document with its first version (in English). ValidationError for a slug that is not
    lower-case words joined by hyphens or is taken, an unknown kind, or what
    `protocol_version_publish` refuses; nothing saved then."""
    slug = slug.strip().lower()
    if not SLUG.match(slug) or len(slug) > 60:
        raise ValidationError({"slug": [_("Use lower-case letters, digits and hyphens, e.g. vigil-guidance.")]})
    if kind not in ProtocolDocument.Kind.values:
        raise ValidationError({"kind": [_("Choose a kind of document.")]})
    with transaction.atomic():
        if ProtocolDocument.objects.filter(slug=slug).exists():
            raise ValidationError({"slug": [_("A document already has this address.")]})
        document = ProtocolDocument.objects.create(slug=slug, kind=kind, position=position, created_by=actor)
        audit_log(actor=actor, source=source, action="protocol.document_created", obj=document,
                  data={"slug": slug, "kind": kind})
        protocol_version_publish(actor=actor, document=document, language=REFERENCE_LANGUAGE, title=title,
                                 body=body, effective_on=effective_on, change_note=change_note, source=source)
    return document


def protocol_acknowledge(*, actor, document: ProtocolDocument, number: int, language: str = "en",
                         source: str = Source.WEB) -> ProtocolAcknowledgement:
    """Record that `actor` read and accepts version `number`; idempotent (the first acknowledgement
    stays). Resolves their reminders up to that number. ValidationError for a version that does
    not exist or is not the latest (a reader signs what is in force)."""
    latest = latest_number(document)
    if number != latest or latest == 0:
        raise ValidationError({"version": [_("Only the current version (%(number)s) can be acknowledged.")
                                           % {"number": latest}]})
    with transaction.atomic():
        ack, created = ProtocolAcknowledgement.objects.get_or_create(
            user=actor, document=document, number=number, defaults={"language": language})
        ProtocolNotice.objects.filter(user=actor, document=document, number__lte=number,
                                      resolved_at__isnull=True).update(resolved_at=timezone.now())
        if created:
            audit_log(actor=actor, source=source, action="protocol.acknowledged", obj=document,
                      data={"version": number, "language": language})
    return ack


def _reminders_create(document: ProtocolDocument, number: int) -> list[int]:
    """One notice for each active user who signed an earlier version; their ids."""
    signers = list(ProtocolAcknowledgement.objects.filter(document=document, number__lt=number, user__is_active=True)
                   .values_list("user_id", flat=True).distinct())
    ProtocolNotice.objects.bulk_create([ProtocolNotice(user_id=uid, document=document, number=number)
                                        for uid in signers], ignore_conflicts=True)
    return signers


def _reminder_emails_send(version: ProtocolVersion, user_ids: list[int]) -> None:
    """One email per signer with an address, in their language: the document changed, read it
    again. Sent after the commit; a mail failure leaves the in-app notice standing."""
    url = settings.SITE_URL + reverse("protocols:document", args=[version.document.slug])
    messages = []
    for membership_language, user in _signers(user_ids):
        with translation.override(membership_language):
            reading = document_reading(version.document, language=membership_language, number=version.number)
            values = {"title": reading.version.title if reading else version.title, "number": version.number,
                      "effective_on": version.effective_on, "url": url}
            subject = " ".join(render_to_string("protocols/reminder_email_subject.txt", values).split())
            body = render_to_string("protocols/reminder_email.txt", values)
        messages.append(EmailMessage(subject, body, settings.DEFAULT_FROM_EMAIL, [user.email]))
    if messages:
        mailers.default.send_messages(messages)


def _signers(user_ids: list[int]):
    memberships = {m.user_id: m.language for m in Membership.objects.filter(user_id__in=user_ids)}
    for user in get_user_model().objects.filter(pk__in=user_ids, is_active=True).exclude(email=""):
        yield (memberships.get(user.pk) or "en"), user
