"""Supervisors' pages: the team's activity and assignments, the on-call roster, channels and
escalation policy, consent, and the transparency page (what CPD and analysts see, and who looked)."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from districts.access import scope_of
from districts.models import Channel, OnCall, Organization
from districts.services import (
    channel_add,
    channel_fallback_set,
    oncall_add,
    oncall_remove,
    organization_consent_set,
    organization_policy_set,
)
from notifications.summary import summary_fields

from . import labels, selectors
from .forms import AssignForm, ChannelForm, ConsentForm, OnCallForm, PolicyForm
from .services import notification_assign
from .views import SOURCE, _common, _get_notification_for_user, outreach_view

supervisor_view = outreach_view(supervisor=True)


def _organization(request) -> Organization:
    return Organization.objects.get(pk=scope_of(request.user).organization_id)


def _error_text(error: ValidationError) -> str:
    return " ".join(m for ms in error.message_dict.values() for m in ms)


@supervisor_view
def team(request):
    organization = _organization(request)
    members = selectors.members_for_choice(organization)
    rows = [{"n": n, "status_label": labels.STATUS.get(n.status, n.status),
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
    members = selectors.members_for_choice(notification.organization)
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
    next_url = request.POST.get("next", "")
    return redirect(next_url if next_url.startswith("/") else "responses:team")


@supervisor_view
def oncall(request):
    organization = _organization(request)
    members = selectors.members_for_choice(organization)
    form = OnCallForm(request.POST or None, members=members)
    if request.method == "POST" and "remove" in request.POST:
        entry = get_object_or_404(OnCall, pk=request.POST["remove"], organization=organization)
        oncall_remove(entry=entry, actor=request.user, source=SOURCE)
        messages.success(request, _("Removed from the roster."))
        return redirect("responses:oncall")
    if request.method == "POST" and form.is_valid():
        user = next(m.user for m in members if m.user_id == form.cleaned_data["user"])
        try:
            oncall_add(organization=organization, actor=request.user, source=SOURCE, user=user,
                       **{k: form.cleaned_data[k] for k in ("tier", "weekday", "starts", "ends")})
        except ValidationError as error:
            for field, msgs in error.message_dict.items():
                for m in msgs:
                    form.add_error(field if field in form.fields else None, m)
        else:
            messages.success(request, _("Added to the roster."))
            return redirect("responses:oncall")
    entries = [{"e": e, "tier": labels.TIER.get(e.tier), "day": labels.WEEKDAYS[e.weekday] if e.weekday is not None
                else _("Every day")} for e in organization.on_call.select_related("user")]
    return render(request, "responses/oncall.html", _common(
        request, nav="team", organization=organization, entries=entries, form=form),
        status=400 if form.errors else 200)


@supervisor_view
def channels(request):
    organization = _organization(request)
    policy = PolicyForm(request.POST if "ack_window_minutes" in request.POST else None,
                        initial={"ack_window_minutes": organization.ack_window_minutes})
    if request.method == "POST" and "drill" in request.POST:
        from notifications.drills import notification_drill_send

        notification_drill_send(organization=organization, actor=request.user)
        messages.success(request, _("Drill sent to every channel. Acknowledge it to mark the channels as working."))
        return redirect("responses:channels")
    if request.method == "POST" and "channel" in request.POST:
        channel = get_object_or_404(Channel, code=request.POST["channel"], organization=organization)
        channel_fallback_set(channel=channel, actor=request.user, source=SOURCE,
                             is_fallback=request.POST.get("is_fallback") == "on",
                             active=request.POST.get("active") == "on")
        messages.success(request, _("Channel updated."))
        return redirect("responses:channels")
    add = ChannelForm(request.POST if "target" in request.POST else None)
    if add.is_bound and add.is_valid():
        try:
            channel_add(organization=organization, actor=request.user, source=SOURCE, **add.cleaned_data)
        except ValidationError as error:
            for field, msgs in error.message_dict.items():
                for m in msgs:
                    add.add_error(field if field in add.fields else None, m)
        else:
            messages.success(request, _("Channel added."))
            return redirect("responses:channels")
    if request.method == "POST" and policy.is_valid():
        try:
            organization_policy_set(organization=organization, actor=request.user, source=SOURCE,
                                    ack_window_minutes=policy.cleaned_data["ack_window_minutes"])
        except ValidationError as error:
            policy.add_error("ack_window_minutes", _error_text(error))
        else:
            messages.success(request, _("Escalation policy saved."))
            return redirect("responses:channels")
    rows = [{"c": c, "kind": labels.CHANNEL_KIND.get(c.kind, c.kind)}
            for c in organization.channels.select_related("user").order_by("user__first_name", "kind")]
    return render(request, "responses/channels.html", _common(
        request, nav="team", organization=organization, policy=policy, rows=rows, add=add),
        status=400 if policy.errors or add.errors else 200)


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
    rows = [{"n": n, "s": summary_fields(n), "status_label": labels.STATUS.get(n.status, n.status),
             "category": labels.RESPONSE_CATEGORY.get(n.response_category, n.response_category),
             "reason": labels.UNABLE_REASON.get(n.unable_reason, "")}
            for n in selectors.recent_notifications(organization)]
    # A board shows many summaries at once: one line per person and minute, with the count.
    views: list[dict] = []
    for event in selectors.summary_views(organization, limit=500):
        minute = event.at.replace(second=0, microsecond=0)
        if views and views[-1]["e"].actor_id == event.actor_id and views[-1]["minute"] == minute:
            views[-1]["count"] += 1
            continue
        views.append({"e": event, "minute": minute, "count": 1,
                      "role": labels.ROLE.get(event.data.get("role"), event.data.get("role", ""))})
    return render(request, "responses/transparency.html", _common(
        request, nav="team", organization=organization, rows=rows, views=views))
