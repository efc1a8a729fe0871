"""Administrators' pages for scenario playbooks and the places list (no Django admin needed).

Administrators only (every other role gets 403). Every write goes through
`services_playbooks`, which checks everything before saving and writes the audit event; a
refused playbook or places file comes back with its messages (400) and nothing saved.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from districts.access import require_role
from districts.models import Role

from . import rules, selectors_playbooks
from .forms_playbooks import PlacesUploadForm, PlaybookForm, playbook_initial
from .services_playbooks import place_delete, places_import, playbook_save


def _admin(request) -> None:
    require_role(request.user, Role.ADMIN)


def _get_playbook(code: str):
    playbook = selectors_playbooks.playbook_by_code(code)
    if playbook is None:
        raise Http404(_("No such playbook."))
    return playbook


@login_required
@require_http_methods(["GET"])
def playbook_list(request):
    _admin(request)
    return render(request, "protocols/playbook_list.html", {"playbooks": selectors_playbooks.playbooks_for_admin()})


def _form_page(request, form, *, playbook=None, status=200):
    return render(request, "protocols/playbook_form.html", {
        "form": form, "playbook": playbook, "rule_fields": rules.FIELDS,
        "example": '[{"field": "fatal_count", "op": "gte", "value": 1}]',
    }, status=status)


def _save(request, form, playbook=None):
    if not form.is_valid():
        return None
    try:
        return playbook_save(actor=request.user, source="web", playbook=playbook,
                             partners=form.cleaned_data["partners"], **form.service_values())
    except ValidationError as error:
        form.add_service_errors(error)
        return None


@login_required
@require_http_methods(["GET", "POST"])
def playbook_new(request):
    _admin(request)
    if request.method == "GET":
        return _form_page(request, PlaybookForm())
    form = PlaybookForm(request.POST)
    playbook = _save(request, form)
    if playbook is None:
        return _form_page(request, form, status=400)
    messages.success(request, _("Playbook “%(title)s” saved.") % {"title": playbook.title})
    return redirect("playbooks:list")


@login_required
@require_http_methods(["GET", "POST"])
def playbook_edit(request, code):
    _admin(request)
    playbook = _get_playbook(code)
    if request.method == "GET":
        return _form_page(request, PlaybookForm(initial=playbook_initial(playbook)), playbook=playbook)
    form = PlaybookForm(request.POST)
    saved = _save(request, form, playbook)
    if saved is None:
        playbook.refresh_from_db()  # the page shows the stored playbook's name, not the refused edit
        return _form_page(request, form, playbook=playbook, status=400)
    messages.success(request, _("Playbook “%(title)s” saved. It applies to incidents entered or corrected from now on.")
                     % {"title": saved.title})
    return redirect("playbooks:list")


@login_required
@require_http_methods(["GET", "POST"])
def places(request):
    _admin(request)
    form, status = PlacesUploadForm(), 200
    if request.method == "POST":
        form = PlacesUploadForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                result = places_import(actor=request.user, text=form.cleaned_data["file"])
            except ValidationError as error:
                for message in error.messages:
                    form.add_error("file", message)
            else:
                messages.success(request, _("Places loaded: %(created)s new, %(updated)s updated.") % {
                    "created": result.created, "updated": result.updated})
                return redirect("playbooks:places")
        status = 400
    return render(request, "protocols/places.html", {"form": form, "places": selectors_playbooks.places_list()},
                  status=status)


@login_required
@require_POST
def place_remove(request, code):
    _admin(request)
    place = selectors_playbooks.place_by_code(code)
    if place is None:
        raise Http404(_("No such place."))
    place_delete(actor=request.user, place=place)
    messages.success(request, _("Place “%(name)s” removed.") % {"name": place.name})
    return redirect("playbooks:places")
