"""CPD's incident pages: entry, the live incident page, correction, and the district board.

Every incident is loaded through `access.get_incident_for_user` (404 outside the user's
scope). Entering and correcting need a CPD role or admin; reading needs CPD, analyst or admin.
The live fragments are polled by small scripts every few seconds; they render the same
partials as the full pages, and answer 304 when nothing they show changed (freshness.py).
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from core.conditional import fingerprint as fingerprint_etag
from core.conditional import not_modified, rendered_for, templates_token
from core.parsers import float_or_none
from districts.access import membership_of, require_role, scope_of
from districts.geo import Place, locate
from districts.models import District, Role
from districts.selectors import beats_by_district, board_district, organizations_covering_place, pilot_districts
from protocols.selectors_playbooks import playbook_cards

from . import freshness, selectors
from .access import get_incident_for_user
from .exceptions import Conflict
from .forms import IncidentForm, VictimFormSet, incident_initial, preview_facts, service_arguments
from .scenarios import partners_preview
from .services import incident_correct, incident_create
from .summary import record_page_access, record_summary_view

WRITERS = (Role.CPD_STAFF, Role.CPD_COMMANDER, Role.ADMIN)
READERS = (Role.CPD_STAFF, Role.CPD_COMMANDER, Role.ANALYST, Role.ADMIN)
POLL_SECONDS = 2.5
# What each polled fragment renders (the first is the fragment itself): part of its ETag.
INCIDENT_LIVE_TEMPLATES = ("notifications/_incident_live.html", "notifications/_status_badge.html")
BOARD_LIVE_TEMPLATES = ("notifications/_board_live.html", "notifications/_board_incident.html")
# The checklists the incident page shows each CPD-side role (analysts and admins see both).
PLAYBOOK_ROLES = {Role.CPD_STAFF: ["cpd_desk"], Role.CPD_COMMANDER: ["commander", "cpd_desk"]}


def _form_page(request, form, victims, *, incident=None, status=200):
    return render(request, "notifications/incident_form.html", {
        "form": form, "victims": victims, "incident": incident,
        "beats_by_district": beats_by_district(number for number, _ in form.fields["district"].choices),
    }, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def incident_new(request):
    require_role(request.user, *WRITERS)
    if request.method == "GET":
        return _form_page(request, IncidentForm(user=request.user), VictimFormSet(prefix="victims"))
    form = IncidentForm(request.POST, user=request.user)
    victims = VictimFormSet(request.POST, prefix="victims")
    if form.is_valid() and victims.is_valid():
        try:
            incident, created = incident_create(actor=request.user, source="web", **service_arguments(form, victims))
        except ValidationError as error:
            form.add_service_errors(error, victims)
        except Conflict as conflict:
            form.add_error("rd_number", _("%(conflict)s Open that incident to correct it.") % {"conflict": conflict})
        else:
            if created:
                count = incident.notifications.count()
                messages.success(request, ngettext("Entered. Notifying %(count)s organisation.",
                                                      "Entered. Notifying %(count)s organisations.", count)
                                 % {"count": count})
            else:
                messages.info(request, _("This RD number was already entered with the same details; here it is."))
            return redirect("notifications:incident_detail", code=incident.code)
    return _form_page(request, form, victims, status=400)


@login_required
@require_http_methods(["GET", "POST"])
def incident_correct_view(request, code):
    require_role(request.user, *WRITERS)
    incident = get_incident_for_user(request.user, code)
    if request.method == "GET":
        initial, victim_rows = incident_initial(incident)
        form = IncidentForm(user=request.user, initial=initial)
        victims = VictimFormSet(prefix="victims", initial=victim_rows)
        return _form_page(request, form, victims, incident=incident)
    form = IncidentForm(request.POST, user=request.user)
    victims = VictimFormSet(request.POST, prefix="victims")
    if form.is_valid() and victims.is_valid():
        try:
            before = incident.updated_at
            incident = incident_correct(incident=incident, actor=request.user, source="web",
                                        **service_arguments(form, victims))
        except ValidationError as error:
            form.add_service_errors(error, victims)
        else:
            if incident.updated_at == before:
                messages.info(request, _("Nothing changed."))
            else:
                messages.success(request, _("Corrected. The notified organisations are being told."))
            return redirect("notifications:incident_detail", code=incident.code)
    return _form_page(request, form, victims, incident=incident, status=400)


def _live_context(request, incident) -> dict:
    exact = not scope_of(request.user).is_analyst  # analysts: no exact point, not who entered it
    incident = selectors.incident_for_page(incident, exact=exact)
    return {
        "incident": incident,
        "exact": exact,
        "rows": selectors.organization_rows(incident),
        "clocks": selectors.incident_clocks(incident),
        "timeline": selectors.incident_timeline(incident),
        "now": timezone.now(),
    }


@login_required
@require_GET
def incident_detail(request, code):
    require_role(request.user, *READERS)
    incident = get_incident_for_user(request.user, code)
    context = _live_context(request, incident)
    record_summary_view(user=request.user, notifications=context["incident"].notifications.all())
    record_page_access(user=request.user, action="incident.viewed", obj=incident,
                       notifications=context["incident"].notifications.all())
    context.update(
        playbooks=playbook_cards(incident.scenarios.all(), roles=PLAYBOOK_ROLES.get(scope_of(request.user).role,
                                                                                   ["cpd_desk", "commander"]),
                                 language=get_language()),
        can_correct=scope_of(request.user).role in WRITERS,
        live_url=reverse("notifications:incident_live", kwargs={"code": incident.code}),
        poll_seconds=POLL_SECONDS,
    )
    return render(request, "notifications/incident_detail.html", context)


def _live_etag(request, fingerprint, *templates: str) -> str:
    """The poll's ETag: what the fragment shows, for whom (scope: two districts never share a
    tag) and in which language, rendered by which templates."""
    scope = scope_of(request.user)
    membership = membership_of(request.user)
    viewer = (scope.role, scope.district_id, scope.organization_id, scope.citywide,
              membership.language if membership is not None else "", get_language())
    return fingerprint_etag(templates_token(*templates), viewer, fingerprint.parts)


def _polled(response, etag: str):
    response["ETag"] = etag
    response["Cache-Control"] = "no-store"  # the page's script revalidates with If-None-Match itself
    return response


@login_required
@require_GET
def incident_live(request, code):
    """The live part of the incident page (statuses, clocks, timeline), polled by the page.
    Answers 304 when nothing it shows changed since the ETag the poll sends."""
    require_role(request.user, *READERS)
    incident = get_incident_for_user(request.user, code)
    fingerprint = freshness.incident_fingerprint(incident)
    etag = _live_etag(request, fingerprint, *INCIDENT_LIVE_TEMPLATES)
    # Each poll counts on the page's hourly row, never a row of its own; an unchanged one too.
    unchanged = not_modified(request, etag)
    if unchanged is not None:
        record_page_access(user=request.user, action="incident.viewed", obj=incident,
                           codes=fingerprint.organization_codes)
        return _polled(unchanged, etag)
    html = rendered_for(etag, lambda: render_to_string(
        INCIDENT_LIVE_TEMPLATES[0], _live_context(request, incident), request))
    record_page_access(user=request.user, action="incident.viewed", obj=incident,
                       codes=fingerprint.organization_codes)
    return _polled(HttpResponse(html), etag)


@login_required
@require_GET
def locate_point(request):
    """Which district, beat and community area hold a point (the form's "use point" helper), and
    who an incident there would notify: the covering organisations, and the partners the
    scenario playbooks would add for the victims, hospital and gathering entered so far."""
    require_role(request.user, *WRITERS)
    if "lat" not in request.GET:
        # No point: who the chosen district, beat and community area would notify.
        place = Place(district=request.GET.get("district") or None, beat=request.GET.get("beat") or None,
                      community_area=request.GET.get("community_area") or None)
        return JsonResponse(_preview(place, request.GET))
    latitude, longitude = float_or_none(request.GET.get("lat")), float_or_none(request.GET.get("lon"))
    if latitude is None or longitude is None:
        return JsonResponse({"error": _("Give lat and lon as decimal degrees.")}, status=400)
    place = locate(latitude, longitude)
    if place is None:
        return JsonResponse({"error": _("The point is outside Chicago.")}, status=404)
    return JsonResponse({"district": place.district, "beat": place.beat, "community_area": place.community_area,
                         **_preview(place, request.GET, point=(latitude, longitude))})


def _preview(place, params, *, point=None) -> dict:
    """Who an incident at this place would notify, before saving: covering organisations by
    name, then the playbooks' partners with the reason each is added (in the reader's language)."""
    covering = organizations_covering_place(district=place.district, beat=place.beat,
                                            community_area=place.community_area)
    facts, hospital = preview_facts(params, point=point)
    partners = partners_preview(facts=facts, hospital=hospital, skip={org.pk for org in covering},
                                language=get_language())
    return {"organizations": [str(org) for org in covering],
            "partners": [{"name": str(p.organization), "reason": p.reason, "limited": p.limited} for p in partners]}


def _board_district(request) -> District:
    scope = require_role(request.user, *READERS)
    district = board_district(district_id=scope.district_id if scope.is_cpd else None,
                              number=request.GET.get("district"))
    if district is None:
        raise Http404("No such district.")
    return district


def _board_context(district: District, *, now=None) -> dict:
    now = now or timezone.now()
    board = selectors.board_incidents(district=district, now=now)
    return {"district": district, "board": board, "summary": selectors.board_summary(board, now=now), "now": now}


def _board_notifications(context: dict) -> list:
    return [n for group in context["board"].values() for incident in group for n in incident.notifications.all()]


@login_required
@require_GET
def board(request):
    district = _board_district(request)
    now = timezone.now()
    context = _board_context(district, now=now)
    shown = _board_notifications(context)
    # The live part as its poll would answer it now: the HTML another desk's poll or reload
    # already rendered for this tag, else rendered here and kept for the next.
    etag = _live_etag(request, freshness.board_fingerprint(district=district, now=now), *BOARD_LIVE_TEMPLATES)
    context["live_html"] = mark_safe(rendered_for(  # noqa: S308  (the portal's own autoescaped template)
        etag, lambda: render_to_string(BOARD_LIVE_TEMPLATES[0], context, request)))
    record_summary_view(user=request.user, notifications=shown)
    record_page_access(user=request.user, action="board.viewed", obj=district, notifications=shown)
    context.update(
        stale=selectors.stale_channels(district=district),
        districts=pilot_districts() if scope_of(request.user).citywide else None,
        live_url=reverse("notifications:board_live") + f"?district={district.number}",
        poll_seconds=POLL_SECONDS,
        can_enter=scope_of(request.user).role in WRITERS,
    )
    return render(request, "notifications/board.html", context)


@login_required
@require_GET
def board_live(request):
    """The board's live part, polled by the page; 304 when nothing it shows changed."""
    district = _board_district(request)
    now = timezone.now()
    fingerprint = freshness.board_fingerprint(district=district, now=now)
    etag = _live_etag(request, fingerprint, *BOARD_LIVE_TEMPLATES)
    unchanged = not_modified(request, etag)
    if unchanged is not None:
        record_page_access(user=request.user, action="board.viewed", obj=district,
                           codes=fingerprint.organization_codes)
        return _polled(unchanged, etag)
    html = rendered_for(etag, lambda: render_to_string(
        BOARD_LIVE_TEMPLATES[0], _board_context(district, now=now), request))
    record_page_access(user=request.user, action="board.viewed", obj=district,
                       codes=fingerprint.organization_codes)
    return _polled(HttpResponse(html), etag)
