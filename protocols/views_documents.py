"""Protocol documents in the portal: the list, one document (the reader's language, or English
with a note), its history and a diff between versions, acknowledgement, and the administrators'
forms to publish a version or add a document. Readable by every role with a membership."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from districts.access import require_role
from districts.models import Role

from . import documents
from .forms import DocumentForm, VersionForm
from .rendering import render_markdown

READERS = tuple(Role.values)


def _problem(request, message: str, status: int = 404):
    return render(request, "includes/problem.html", {
        "message": message, "back_url": "protocols:documents", "back_label": _("Protocol documents")}, status=status)


def _document_or_none(slug: str):
    return documents.document_by_slug(slug)


def _not_found(request, slug: str):
    return _problem(request, _("There is no protocol document at “%(slug)s”.") % {"slug": slug[:60]})


@login_required
@require_GET
def document_list(request):
    require_role(request.user, *READERS)
    return render(request, "protocols/document_list.html", {
        "readings": documents.documents_for_reader(language=documents.reader_language()),
        "notices": documents.notices_open(request.user), "nav": "protocols"})


@login_required
@require_GET
def document_detail(request, slug, number=None):
    require_role(request.user, *READERS)
    document = _document_or_none(slug)
    if document is None:
        return _not_found(request, slug)
    language = documents.reader_language()
    reading = documents.document_reading(document, language=language, number=number)
    if reading is None:
        return _problem(request, _("“%(slug)s” has no version %(number)s.") % {"slug": slug, "number": number})
    signed = documents.acknowledged_number(request.user, document)
    return render(request, "protocols/document_detail.html", {
        "reading": reading, "version": reading.version, "html": render_markdown(reading.version.body),
        "signed": signed, "is_latest": reading.version.number == reading.latest_number,
        "nav": "protocols"})


@login_required
@require_GET
def document_history(request, slug):
    require_role(request.user, *READERS)
    document = _document_or_none(slug)
    if document is None:
        return _not_found(request, slug)
    reading = documents.document_reading(document, language=documents.reader_language())
    return render(request, "protocols/document_history.html", {
        "reading": reading, "document": document, "history": documents.document_history(document),
        "nav": "protocols"})


def _number(text: str | None) -> int | None:
    return int(text) if text and text.isascii() and text.isdigit() and len(text) < 7 else None


@login_required
@require_GET
def document_diff(request, slug):
    """`?from=1&to=2` (default: the two latest), in the reader's language where both versions have it."""
    require_role(request.user, *READERS)
    document = _document_or_none(slug)
    if document is None:
        return _not_found(request, slug)
    latest = documents.latest_number(document)
    older_n = _number(request.GET.get("from")) if "from" in request.GET else latest - 1
    newer_n = _number(request.GET.get("to")) if "to" in request.GET else latest
    if older_n is None or newer_n is None or not 1 <= older_n < newer_n <= latest:
        return _problem(request, _("Compare two versions of this document by number, the older first "
                                   "(1 to %(latest)s).") % {"latest": latest}, status=400)
    language = documents.reader_language()
    older = documents.document_reading(document, language=language, number=older_n)
    newer = documents.document_reading(document, language=language, number=newer_n)
    if older.version.language != newer.version.language:  # compare like with like
        older = documents.document_reading(document, language="en", number=older_n)
        newer = documents.document_reading(document, language="en", number=newer_n)
    return render(request, "protocols/document_diff.html", {
        "document": document, "older": older.version, "newer": newer.version, "reading": newer,
        "lines": documents.version_diff(older.version, newer.version), "nav": "protocols"})


@login_required
@require_POST
def acknowledge(request, slug):
    require_role(request.user, *READERS)
    document = _document_or_none(slug)
    if document is None:
        return _not_found(request, slug)
    number = _number(request.POST.get("version"))
    try:
        documents.protocol_acknowledge(actor=request.user, document=document, number=number or 0,
                                       language=documents.reader_language())
    except ValidationError as error:
        return _problem(request, " ".join(error.messages), status=400)
    messages.success(request, _("Thank you: you acknowledged version %(number)s.") % {"number": number})
    next_url = request.POST.get("next", "")
    if next_url == "onboarding":
        return redirect("protocols:onboarding")
    return redirect("protocols:document", slug=document.slug)


def _form_errors(form, error: ValidationError) -> None:
    for field, problems in error.message_dict.items():
        form.add_error(field if field in form.fields else None, problems)


@login_required
@require_http_methods(["GET", "POST"])
def version_create(request, slug):
    """Administrators: publish a new version (the form starts from the current text) or a translation."""
    require_role(request.user, Role.ADMIN)
    document = _document_or_none(slug)
    if document is None:
        return _not_found(request, slug)
    current = documents.document_reading(document, language="en")
    if request.method == "POST":
        form = VersionForm(request.POST)
        if form.is_valid():
            try:
                version = documents.protocol_version_publish(actor=request.user, document=document, **form.cleaned_data)
            except ValidationError as error:
                _form_errors(form, error)
            else:
                messages.success(request, _("Version %(number)s (%(language)s) is published.")
                                 % {"number": version.number, "language": version.get_language_display()})
                return redirect("protocols:document_history", slug=document.slug)
    else:
        initial = {"language": "en"}
        if current is not None:
            initial.update(title=current.version.title, body=current.version.body,
                           effective_on=current.version.effective_on)
        form = VersionForm(initial=initial)
    return render(request, "protocols/version_form.html", {
        "form": form, "document": document, "reading": current, "nav": "protocols"},
        status=400 if form.errors else 200)


@login_required
@require_http_methods(["GET", "POST"])
def document_create(request):
    require_role(request.user, Role.ADMIN)
    form = DocumentForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            document = documents.protocol_document_create(actor=request.user, **form.cleaned_data)
        except ValidationError as error:
            _form_errors(form, error)
        else:
            messages.success(request, _("The document is published."))
            return redirect("protocols:document", slug=document.slug)
    return render(request, "protocols/document_form.html", {"form": form, "nav": "protocols"},
                  status=400 if form.errors else 200)
