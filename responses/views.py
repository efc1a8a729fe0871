"""Outreach pages on the phone: the feed, an incident as outreach sees it, one-tap status, the
response log, follow-ups, the offline queue's endpoint, push subscription, the service worker.

Every page is for outreach members only (CPD, analysts and admins get 403) and speaks the
member's language (Membership.language). Objects load through `_get_notification_for_user`,
which 404s anything outside the member's organisation.
"""

from functools import wraps
from pathlib import Path

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.timesince import timesince
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from audit.services import access_record
from core.parsers import MalformedInput, int_or_none, json_loads_safe, uuid_or_none
from core.redirects import next_url
from districts.access import membership_of, scope_of
from districts.selectors import members_for_choice
from districts.services import member_language_set, push_subscription_save
from notifications.access import get_notification_for_user
from notifications.api import NotificationAcknowledgeApi, NotificationStatusApi
from notifications.models import Notification
from notifications.state import notification_status_correct, notification_status_set
from protocols.selectors_playbooks import playbook_cards

from . import labels, selectors
from .api import ResponseCreateApi
from .forms import AssignForm, CorrectionForm, LanguageForm, ResponseForm, StatusForm
from .models import FollowUp
from .services import followup_complete, response_log

SOURCE = "web"


def outreach_view(view=None, *, supervisor: bool = False):
    """Outreach members only (supervisors only when asked); activates the member's language."""

    def decorate(func):
        @login_required
        @wraps(func)
        def wrapper(request, *args, **kwargs):
            scope = scope_of(request.user)
            if not scope.is_outreach or (supervisor and not scope.is_supervisor):
                raise PermissionDenied(_("This page is for outreach organisations."))
            membership = membership_of(request.user)
            language = membership.language if membership and membership.language in ("en", "es") else "en"
            translation.activate(language)
            request.LANGUAGE_CODE = language
            return func(request, *args, **kwargs)

        return wrapper

    return decorate(view) if view is not None else decorate


def _get_notification_for_user(request, code) -> Notification:
    notification = get_notification_for_user(request.user, code)
    if notification.kind != Notification.Kind.INCIDENT or notification.incident_id is None:
        raise Http404("No such incident.")
    return notification


def record_access(request, *, action: str, obj=None, source: str = SOURCE) -> None:
    """Count this view of the organisation's own records in its access log (`/team/access-log/`)."""
    membership = membership_of(request.user)
    if membership is not None and membership.organization_id:
        access_record(actor=request.user, source=source, action=action, obj=obj, role=membership.role,
                      organization_codes=[membership.organization.code])


def _common(request, **context) -> dict:
    return {"due_count": selectors.followups_due_count(request.user),
            "vapid_public_key": settings.VAPID_PUBLIC_KEY, **context}


def _feed_item(notification: Notification) -> dict:
    incident = notification.incident
    known = incident.hospital is not None and incident.hospital.code != "UNKNOWN"
    hospital = incident.hospital.name.split(" (")[0] if known else ""
    limited = notification.relay == Notification.Relay.LIMITED
    # A playbook without rules applies to every shooting: no need for a chip on every item.
    scenarios = [] if limited else [p.title_in(translation.get_language()) for p in incident.scenarios.all()
                                    if p.rules]
    return {"n": notification, "incident": incident, "hospital": hospital, "limited": limited, "scenarios": scenarios,
            "ago": timesince(incident.occurred_at, depth=1),
            "waiting": notification.acknowledged_at is None,
            "status_label": labels.status_label(notification.status),
            "tone": labels.STATUS_TONE.get(notification.status, "new")}


@outreach_view
@require_GET
def feed(request):
    """Incidents routed to my organisation: the ones nobody acknowledged on top, then newest."""
    scope = scope_of(request.user)
    items = [_feed_item(n) for n in selectors.feed_for_organization(scope.organization_id)]
    return render(request, "responses/feed.html", _common(
        request, nav="feed", items=items, waiting_count=sum(1 for i in items if i["waiting"]),
        organization=membership_of(request.user).organization, language_form=LanguageForm(
            initial={"language": translation.get_language()}),
    ))


@outreach_view
@require_GET
def incident(request, code):
    notification = _get_notification_for_user(request, code)
    record_access(request, action="responses.viewed", obj=notification)
    return render(request, "responses/incident.html", _common(request, **_incident_context(request, notification)))


def _incident_context(request, notification: Notification) -> dict:
    incident = notification.incident
    taps = selectors.taps_for_notification(notification)
    return {
        "nav": "feed", "n": notification, "incident": incident, "item": _feed_item(notification),
        "victims": selectors.victims_summary(incident),
        "scene_status": labels.SCENE_STATUS.get(incident.scene_status, ""),
        "limited": notification.relay == Notification.Relay.LIMITED,
        "playbooks": _playbooks(notification),
        "taps": [{"entry": t, "status": t.kind.removeprefix("notification."),
                  "label": labels.status_label(t.kind.removeprefix("notification."), t.text)} for t in taps],
        "responses": selectors.responses_for_notification(notification),
        "unable_reasons": Notification.UnableReason.choices,
        "unable_label": notification.get_unable_reason_display(),
        "assign_form": assign_form_for(request, notification),
    }


# What a limited relay (victim services) is asked to do: the same for every shooting, so it
# tells nothing CPD's relay (place, time, number of victims) does not.
LIMITED_RELAY_STEPS = (
    gettext_lazy("Acknowledge, so CPD and the covering organisations know you have it."),
    gettext_lazy("Offer your services through the contacts your organisation uses."),
    gettext_lazy("Log what you did; only the agreed summary leaves your organisation."),
)


def _playbooks(notification: Notification) -> list:
    """The matched playbooks with the checklist for this organisation: street outreach reads the
    outreach steps, a partner organisation (hospital programme, City staff) the partner steps.
    A limited relay (victim services) shows one fixed checklist, whatever matched: a playbook's
    title or steps ("Fatal shooting", "reach the family") say more than CPD relays."""
    if notification.relay == Notification.Relay.LIMITED:
        return [{"title": _("Your checklist"), "steps": [str(step) for step in LIMITED_RELAY_STEPS]}]
    organization = notification.organization
    playbooks = list(notification.incident.scenarios.all())
    language = translation.get_language()
    role = "outreach" if organization.partner_type == organization.PartnerType.STREET_OUTREACH else "partner"
    return [{"title": card.title, "code": card.code, "steps": [s for _label, steps in card.steps for s in steps]}
            for card in playbook_cards(playbooks, roles=[role], language=language)]


def assign_form_for(request, notification: Notification) -> AssignForm | None:
    """Supervisors see who has the incident and can give it to someone else."""
    if not scope_of(request.user).is_supervisor:
        return None
    return AssignForm(initial={"assignee": notification.assigned_to_id},
                      members=members_for_choice(notification.organization))


@outreach_view
@require_POST
def status(request, code):
    """One tap: acknowledge, en route, on scene, at hospital, or unable (with a reason)."""
    notification = _get_notification_for_user(request, code)
    form = StatusForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("That status is not one of the choices."))
        return redirect("responses:incident", code=notification.code)
    try:
        notification_status_set(notification=notification, actor=request.user, source=SOURCE,
                                status=form.cleaned_data["status"], reason=form.cleaned_data["reason"])
    except ValidationError as error:
        messages.error(request, " ".join(m for ms in error.message_dict.values() for m in ms))
    else:
        messages.success(request, _("Saved: %(status)s.") % {"status": labels.status_label(
            form.cleaned_data["status"])})
    return redirect("responses:incident", code=notification.code)


@outreach_view
@require_POST
def correct(request, code):
    """Correct the time of an earlier tap; the audit trail keeps both times."""
    notification = _get_notification_for_user(request, code)
    form = CorrectionForm(request.POST)
    try:
        if not form.is_valid():
            raise ValidationError({"at": [_("Give a date and time.")]})
        notification_status_correct(notification=notification, actor=request.user, source=SOURCE,
                                    status=form.cleaned_data["status"], at=form.cleaned_data["at"])
    except ValidationError as error:
        messages.error(request, " ".join(m for ms in error.message_dict.values() for m in ms))
    else:
        messages.success(request, _("Time corrected."))
    return redirect("responses:incident", code=notification.code)


@outreach_view
def respond(request, code):
    """The response log form. Saving twice (a double tap, a replay) stores one response."""
    notification = _get_notification_for_user(request, code)
    form = ResponseForm(request.POST or None, initial={"arrived_at": _arrival_guess(notification)})
    if request.method == "POST" and form.is_valid():
        try:
            log, created = response_log(notification=notification, actor=request.user, source=SOURCE,
                                      **form.service_kwargs())
        except ValidationError as error:
            form.add_service_errors(error)
        else:
            messages.success(request, _("Response saved.") if created else _("This response was already saved."))
            return redirect("responses:incident", code=notification.code)
    status_code = 400 if form.errors else 200
    return render(request, "responses/respond.html", _common(
        request, nav="feed", n=notification, incident=notification.incident, form=form,
        item=_feed_item(notification)), status=status_code)


def _arrival_guess(notification: Notification):
    """Prefill arrival with the organisation's on-scene tap, in local time for the input."""
    if notification.arrived_at:
        return timezone.localtime(notification.arrived_at).replace(second=0, microsecond=0)
    return None


@outreach_view
def followups(request):
    """My follow-ups: open tasks by due date; POST marks one done."""
    if request.method == "POST":
        code = uuid_or_none(request.POST.get("followup"))
        if code is None:
            raise Http404(_("No such follow-up."))
        followup = get_object_or_404(FollowUp, code=code, assigned_to=request.user)
        followup_complete(followup=followup, actor=request.user, source=SOURCE)
        messages.success(request, _("Marked done."))
        return redirect("responses:followups")
    today = timezone.localdate()
    tasks = [{"f": f, "overdue": f.due_on < today, "today": f.due_on == today}
             for f in selectors.followups_for_user(request.user)]
    return render(request, "responses/followups.html", _common(request, nav="followups", tasks=tasks))


@outreach_view
@require_POST
def language(request):
    form = LanguageForm(request.POST)
    if form.is_valid():
        member_language_set(actor=request.user, source=SOURCE, language=form.cleaned_data["language"])
    return redirect(next_url(request, "responses:feed"))


@outreach_view
@never_cache
@require_GET
def offline(request):
    """Shown by the service worker for a page that was never opened while online."""
    return render(request, "responses/offline.html", _common(request))


# --- JSON endpoints for the phone's offline queue and push -------------------------------

def _json_errors(error: ValidationError | dict) -> dict:
    if isinstance(error, ValidationError):
        return error.message_dict
    return {field: [e["message"] for e in errors] for field, errors in error.items()}


def _response_payload(code: str, fields: dict) -> dict:
    """The queued response form's fields in API v1's shape (ResponseCreateApi.InputSerializer).

    Empty fields are left out, as the form leaves them unset; counts of zero say nothing.
    """
    data = {"notification": code}
    for name in ("client_key", "arrived_at", "retaliation_risk", "follow_up_on", "follow_up_task", "notes"):
        if fields.get(name) not in (None, ""):
            data[name] = fields[name]
    types = fields.get("response_types") or []
    data["response_types"] = types if isinstance(types, list) else [types]
    referrals, engaged = [], {}
    for name, value in fields.items():
        number = int_or_none(value, low=0, high=10_000) if isinstance(value, str) else None
        count = number if number is not None else value
        if value in (None, "") or count == 0:
            continue
        if name.startswith("referral_"):
            referrals.append({"kind": name.removeprefix("referral_"), "count": count})
        elif name.startswith("engaged_"):
            engaged[name.removeprefix("engaged_")] = count
    if referrals:
        data["referrals"] = referrals
    if engaged:
        data["people_engaged"] = engaged
    return data


@outreach_view
@require_POST
def sync(request):
    """Replay one queued action from the phone: {"type": "response"|"status", "notification", "fields", "at"}.

    A thin dispatcher over API v1's contract: the input is checked by the same serializers as
    `POST /api/v1/responses/` and `POST /api/v1/notifications/{code}/status/` (or `/acknowledge/`)
    and goes to the same services; only the source (web) and the session login differ.
    A response is idempotent by its client_key (200 with "created": false on a replay); a status
    tap repeated is a no-op. 400 {field: [...]} for bad input, 404 for a notification outside
    the organisation.
    """
    try:
        body = json_loads_safe(request.body)
    except MalformedInput as error:
        return JsonResponse({error.field or "body": [str(error.message)]}, status=400)
    try:
        kind, code, fields = body["type"], body["notification"], body.get("fields") or {}
        if not isinstance(fields, dict) or not isinstance(kind, str):
            raise TypeError
    except (KeyError, TypeError, AttributeError):
        return JsonResponse({"body": [_("Expected a JSON object with type, notification and fields.")]}, status=400)
    notification = _get_notification_for_user(request, code)
    if kind == "status":
        return _sync_status(request, notification, fields, body.get("at"))
    if kind != "response":
        return JsonResponse({"type": [_("Unknown type.")]}, status=400)
    data = ResponseCreateApi.InputSerializer(data=_response_payload(str(notification.code), fields))
    if not data.is_valid():
        return JsonResponse(data.errors, status=400)
    values = {key: value for key, value in data.validated_data.items() if value is not None and key != "notification"}
    try:
        log, created = response_log(notification=notification, actor=request.user, source=SOURCE, **values)
    except ValidationError as error:
        return JsonResponse(_json_errors(error), status=400)
    return JsonResponse({"code": str(log.code), "created": created,
                         "url": reverse("responses:incident", args=[notification.code])},
                        status=201 if created else 200)


def _sync_status(request, notification: Notification, fields: dict, at: str | None) -> JsonResponse:
    """A status tap through API v1's serializers: acknowledging has its own, as in the API."""
    status = fields.get("status")
    if status == Notification.Status.ACKNOWLEDGED:
        data = NotificationAcknowledgeApi.InputSerializer(data={"at": at} if at else {})
    else:
        payload = {"status": status, **({"reason": fields["reason"]} if fields.get("reason") else {})}
        data = NotificationStatusApi.InputSerializer(data={**payload, **({"at": at} if at else {})})
    if not data.is_valid():
        return JsonResponse(data.errors, status=400)
    values = {"status": Notification.Status.ACKNOWLEDGED, **data.validated_data}
    try:
        notification = notification_status_set(notification=notification, actor=request.user, source=SOURCE,
                                               **values)
    except ValidationError as error:
        return JsonResponse(_json_errors(error), status=400)
    return JsonResponse({"status": notification.status,
                         "url": reverse("responses:incident", args=[notification.code])}, status=200)


@outreach_view
@require_POST
def push_subscribe(request):
    """Store this browser's push subscription ({endpoint, keys: {p256dh, auth}}) as a push channel."""
    try:
        body = json_loads_safe(request.body)
        endpoint, keys = body["endpoint"], body.get("keys") or {}
        p256dh, auth = keys.get("p256dh", ""), keys.get("auth", "")
        if not all(isinstance(value, str) for value in (endpoint, p256dh, auth)):
            raise TypeError
    except MalformedInput as error:
        return JsonResponse({error.field or "endpoint": [str(error.message)]}, status=400)
    except (KeyError, TypeError, AttributeError):
        return JsonResponse({"endpoint": [_("Expected a push subscription.")]}, status=400)
    try:
        channel = push_subscription_save(actor=request.user, source=SOURCE, endpoint=endpoint, p256dh=p256dh,
                                         auth=auth)
    except ValidationError as error:
        return JsonResponse(_json_errors(error), status=400)
    return JsonResponse({"channel": str(channel.code)}, status=201)


_SW_PATH = Path(settings.BASE_DIR) / "static" / "sw.js"


@require_GET
def service_worker(request):
    """The service worker, served from the root so its scope covers every outreach page."""
    response = HttpResponse(_SW_PATH.read_bytes(), content_type="text/javascript; charset=utf-8")
    response["Service-Worker-Allowed"] = "/"
    # Browsers re-check a service worker at most daily anyway; never let a proxy hold an old one.
    response["Cache-Control"] = "no-cache"
    return response
