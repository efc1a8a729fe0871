"""Supervisors' pages: the team's activity and assignments, the on-call roster, channels and
escalation policy, consent, the transparency page (what CPD and analysts see, and who looked),
the access log (everyone who viewed the organisation's records) and the records export.

Each action has its own URL and view, posted to by its own form; a page's GET view only shows.
A refused action re-renders its page with the form's errors (400), the other forms fresh."""

from itertools import chain

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse, HttpResponseBadRequest, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from audit.services import audit_log
from core.dates import CHICAGO
from core.exports import csv_lines, xlsx_bytes
from core.redirects import next_url
from districts.access import scope_of
from districts.auth import reauthentication_for_export
from districts.models import Organization, Role
from districts.selectors import (
    members_for_choice,
    oncall_entries,
    oncall_entry,
    organization_by_id,
    organization_channel,
    organization_channels,
)
from districts.services import (
    channel_add,
    channel_fallback_set,
    oncall_add,
    oncall_remove,
    organization_consent_set,
    organization_policy_set,
)
from notifications.drills import notification_drill_send
from notifications.summary import summary_fields

from . import labels, selectors
from .forms import AssignForm, ChannelForm, ConsentForm, OnCallForm, PolicyForm
from .services import notification_assign
from .views import SOURCE, _common, _get_notification_for_user, outreach_view, record_access

supervisor_view = outreach_view(supervisor=True)


def _organization(request) -> Organization:
    return organization_by_id(scope_of(request.user).organization_id)


def _role_label(role) -> str:
    """The role recorded on a summary view, as the model labels it (an unknown one as recorded)."""
    return Role(role).label if role in Role.values else (role or "")


def _error_text(error: ValidationError) -> str:
    return " ".join(m for ms in error.message_dict.values() for m in ms)


@supervisor_view
def team(request):
    organization = _organization(request)
    members = members_for_choice(organization)
    rows = [{"n": n, "status_label": labels.status_label(n.status),
             "tone": labels.STATUS_TONE.get(n.status, "new"),
             "form": AssignForm(initial={"assignee": n.assigned_to_id}, members=members, prefix=str(n.code))}
            for n in selectors.recent_notifications(organization)]
    return render(request, "responses/team.html", _common(
        request, nav="team", organization=organization, activity=selectors.team_activity(organization),
        numbers=selectors.organization_numbers(organization), rows=rows))


@supervisor_view
@require_POST
def assign(request, code):
    notification = _get_notification_for_user(request, code)
    members = members_for_choice(notification.organization)
    form = AssignForm(request.POST, members=members, prefix=request.POST.get("prefix") or None)
    if form.is_valid():
        assignee = next((m.user for m in members if m.user_id == form.cleaned_data["assignee"]), None)
        try:
            notification_assign(notification=notification, actor=request.user, source=SOURCE, assignee=assignee)
        except ValidationError as error:
            messages.error(request, _error_text(error))
        else:
            messages.success(request, _("Assigned."))
    else:
        messages.error(request, _("Choose someone in your organisation."))
    return redirect(next_url(request, "responses:team"))


def _add_errors(form, error: ValidationError) -> None:
    """A service's {field: [message]} onto the form: on the field it names, else the whole form."""
    for field, msgs in error.message_dict.items():
        for m in msgs:
            form.add_error(field if field in form.fields else None, m)


# --- the on-call roster: the page, adding, removing ----------------------------------------

def _oncall_page(request, organization: Organization, form: OnCallForm):
    entries = [{"e": e, "tier": e.get_tier_display(), "day": labels.WEEKDAYS[e.weekday] if e.weekday is not None
                else _("Every day")} for e in oncall_entries(organization)]
    return render(request, "responses/oncall.html", _common(
        request, nav="team", organization=organization, entries=entries, form=form),
        status=400 if form.errors else 200)


@supervisor_view
@require_safe
def oncall(request):
    organization = _organization(request)
    return _oncall_page(request, organization, OnCallForm(members=members_for_choice(organization)))


@supervisor_view
@require_POST
def oncall_add_view(request):
    organization = _organization(request)
    members = members_for_choice(organization)
    form = OnCallForm(request.POST, members=members)
    if form.is_valid():
        user = next(m.user for m in members if m.user_id == form.cleaned_data["user"])
        try:
            oncall_add(organization=organization, actor=request.user, source=SOURCE, user=user,
                       **{k: form.cleaned_data[k] for k in ("tier", "weekday", "starts", "ends")})
        except ValidationError as error:
            _add_errors(form, error)
        else:
            messages.success(request, _("Added to the roster."))
            return redirect("responses:oncall")
    return _oncall_page(request, organization, form)


@supervisor_view
@require_POST
def oncall_remove_view(request):
    organization = _organization(request)
    entry = oncall_entry(organization, request.POST.get("entry"))
    if entry is None:
        raise Http404("No such roster entry.")
    oncall_remove(entry=entry, actor=request.user, source=SOURCE)
    messages.success(request, _("Removed from the roster."))
    return redirect("responses:oncall")


# --- channels and escalation: the page, the policy, a drill, adding and switching channels ----

def _channels_page(request, organization: Organization, *, policy: PolicyForm | None = None,
                   add: ChannelForm | None = None):
    policy = policy or PolicyForm(initial={"ack_window_minutes": organization.ack_window_minutes})
    add = add or ChannelForm()
    rows = [{"c": c, "kind": c.get_kind_display()} for c in organization_channels(organization)]
    return render(request, "responses/channels.html", _common(
        request, nav="team", organization=organization, policy=policy, rows=rows, add=add),
        status=400 if policy.errors or add.errors else 200)


@supervisor_view
@require_safe
def channels(request):
    return _channels_page(request, _organization(request))


@supervisor_view
@require_POST
def policy_set(request):
    organization = _organization(request)
    policy = PolicyForm(request.POST, initial={"ack_window_minutes": organization.ack_window_minutes})
    if policy.is_valid():
        try:
            organization_policy_set(organization=organization, actor=request.user, source=SOURCE,
                                    ack_window_minutes=policy.cleaned_data["ack_window_minutes"])
        except ValidationError as error:
            policy.add_error("ack_window_minutes", _error_text(error))
        else:
            messages.success(request, _("Escalation policy saved."))
            return redirect("responses:channels")
    return _channels_page(request, organization, policy=policy)


@supervisor_view
@require_POST
def drill(request):
    notification_drill_send(organization=_organization(request), actor=request.user)
    messages.success(request, _("Drill sent to every channel. Acknowledge it to mark the channels as working."))
    return redirect("responses:channels")


@supervisor_view
@require_POST
def channel_add_view(request):
    organization = _organization(request)
    add = ChannelForm(request.POST)
    if add.is_valid():
        try:
            channel_add(organization=organization, actor=request.user, source=SOURCE, **add.cleaned_data)
        except ValidationError as error:
            _add_errors(add, error)
        else:
            messages.success(request, _("Channel added."))
            return redirect("responses:channels")
    return _channels_page(request, organization, add=add)


@supervisor_view
@require_POST
def channel_update(request, code):
    channel = organization_channel(_organization(request), code)
    if channel is None:
        raise Http404("No such channel.")
    channel_fallback_set(channel=channel, actor=request.user, source=SOURCE,
                         is_fallback=request.POST.get("is_fallback") == "on",
                         active=request.POST.get("active") == "on")
    messages.success(request, _("Channel updated."))
    return redirect("responses:channels")


# --- consent ------------------------------------------------------------------------------

@supervisor_view
def consent(request):
    organization = _organization(request)
    form = ConsentForm(request.POST or None, initial={
        "share_arrival": organization.share_arrival, "share_response_category": organization.share_response_category})
    if request.method == "POST" and form.is_valid():
        organization_consent_set(organization=organization, actor=request.user, source=SOURCE, **form.cleaned_data)
        messages.success(request, _("Consent settings saved."))
        return redirect("responses:consent")
    return render(request, "responses/consent.html", _common(
        request, nav="team", organization=organization, form=form))


@supervisor_view
def transparency(request):
    """Exactly the agreed summary CPD and analysts read for each notification, and who read it."""
    organization = _organization(request)
    rows = [{"n": n, "s": summary_fields(n), "status_label": labels.status_label(n.status),
             "category": n.get_response_category_display() or "—", "reason": n.get_unable_reason_display()}
            for n in selectors.recent_notifications(organization)]
    # A board shows many summaries at once: one line per person and minute, with the count.
    views: list[dict] = []
    for event in selectors.summary_views(organization, limit=500):
        minute = event.at.replace(second=0, microsecond=0)
        if views and views[-1]["e"].actor_id == event.actor_id and views[-1]["minute"] == minute:
            views[-1]["count"] += 1
            continue
        views.append({"e": event, "minute": minute, "count": 1,
                      "role": _role_label(event.data.get("role"))})
    return render(request, "responses/transparency.html", _common(
        request, nav="team", organization=organization, rows=rows, views=views))


@supervisor_view
@require_safe
def access_log(request):
    """Everyone who viewed the organisation's records: CPD, analysts and its own members."""
    organization = _organization(request)
    entries = [{**entry, "role": _role_label(entry["access"].role),
                "what": labels.ACCESS_ACTIONS.get(entry["access"].action, entry["access"].action)}
               for entry in selectors.access_log(organization)]
    return render(request, "responses/access_log.html", _common(
        request, nav="team", organization=organization, entries=entries))


EXPORT_HEADER = ["notification", "occurred_at", "block", "district", "community_area", "notified_at",
                 "status", "acknowledged_at", "acknowledged_by", "arrived_at", "responded", "response_category",
                 "response", "logged_at", "logged_by", "response_types", "people_engaged", "retaliation_risk",
                 "referrals", "follow_up_on", "notes"]


def _export_row(notification, log) -> list:
    incident = notification.incident
    row = [notification.code, incident.occurred_at, incident.block, incident.district.number,
           incident.community_area.number if incident.community_area else None, notification.created_at,
           notification.status, notification.acknowledged_at,
           notification.acknowledged_by.username if notification.acknowledged_by else None,
           notification.arrived_at, notification.responded, notification.response_category]
    if log is None:
        return row + [None] * 9
    return row + [log.code, log.created_at, log.created_by.username if log.created_by else None,
                  " ".join(log.response_types),
                  " ".join(f"{role}:{count}" for role, count in sorted(log.people_engaged.items())),
                  log.retaliation_risk, " ".join(f"{r.kind}:{r.count}" for r in log.referrals.all()),
                  log.follow_up_on, log.notes]


@supervisor_view
@require_safe
def records_export(request):
    """The organisation's own records (every notification and response, notes included) as CSV
    (streamed) or XLSX. The organisation's to take: nobody outside it can reach this."""
    export_format = request.GET.get("format", "csv")
    if export_format not in ("csv", "xlsx"):
        return HttpResponseBadRequest(_("Export as CSV or XLSX."), content_type="text/plain; charset=utf-8")
    organization = _organization(request)
    reauthentication_for_export(request)  # raises: allauth confirms the password, then comes back
    record_access(request, action="records.exported")
    audit_log(actor=request.user, source=SOURCE, action="records.exported", obj=organization,
              data={"format": export_format})
    rows = ([EXPORT_HEADER], (_export_row(n, log) for n, log in selectors.organization_records(organization)))
    filename = f"records-{organization.short_name or organization.pk}-{timezone.localdate():%Y-%m-%d}"
    filename = "".join(c if c.isalnum() or c in "-_" else "-" for c in filename)
    if export_format == "xlsx":
        body = xlsx_bytes(chain(*rows), zone=CHICAGO, title="Records")
        response = HttpResponse(body, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    else:
        response = StreamingHttpResponse(csv_lines(chain(*rows), zone=CHICAGO), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}.{export_format}"'
    response["Cache-Control"] = "no-store"
    return response
