"""The shooting review meeting: the list of reviews with the "New review" form, and one review's
page with its agenda and the meeting's forms. Each action posts to its own URL and redirects back
to the review with a message; a refused form is shown again with its message beside the field and
everything that was typed, with status 400.

Who: commanders run their own district's reviews, analysts any (RUNNERS); CPD desk staff read
their district's (READERS); outreach users and admins get 403; anonymous visitors the login page;
a review outside the user's scope is 404 (`selectors_meeting.get_review_for_user`).
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from audit.models import Source
from core.exceptions import Conflict, NotAllowed
from districts.access import require_role, scope_of
from districts.models import Role
from notifications.summary import record_page_access, record_summary_view

from . import selectors_meeting as meeting
from .charts import format_value
from .forms import (
    ActionItemForm,
    ActionItemStatusForm,
    AttendanceForm,
    ReviewCreateForm,
    ReviewThemeForm,
    ReviewUpdateForm,
)
from .models import ActionItem
from .services import (
    ReviewExists,
    action_item_add,
    action_item_update,
    review_attendance_add,
    review_close,
    review_create,
    review_theme_add,
    review_update,
)
from .tables_dashboard import percent

READERS = (Role.CPD_STAFF, Role.CPD_COMMANDER, Role.ANALYST)
RUNNERS = (Role.CPD_COMMANDER, Role.ANALYST)


def _put_back(form, error: ValidationError) -> None:
    """A service's ValidationError on the form: beside its field when the form has it."""
    if hasattr(error, "error_dict"):
        for name, errors in error.error_dict.items():
            form.add_error(name if name in form.fields else None, errors)
    else:
        form.add_error(None, error)


# --- the list ------------------------------------------------------------------------------------

def _render_list(request, *, form=None, status=200):
    can_run = scope_of(request.user).role in RUNNERS
    districts = meeting.district_choices(request.user)
    if form is None and can_run:
        form = ReviewCreateForm(districts=districts)
    return render(request, "reviews/meetings.html", {
        "reviews": meeting.reviews_for_user(request.user),
        "form": form, "can_run": can_run, "fixed_district": districts.first() if districts.count() == 1 else None,
    }, status=status)


@login_required
@require_GET
def meetings(request):
    require_role(request.user, *READERS)
    return _render_list(request)


@login_required
@require_POST
def meeting_create(request):
    require_role(request.user, *RUNNERS)
    form = ReviewCreateForm(request.POST, districts=meeting.district_choices(request.user))
    if not form.is_valid():
        return _render_list(request, form=form, status=400)
    try:
        review = review_create(actor=request.user, month=form.cleaned_data["month"],
                               districts=list(form.cleaned_data["districts"]), source=Source.WEB)
    except ReviewExists as exists:
        if exists.review.readable_by(request.user):
            form.add_error(None, format_html('{} <a href="{}">{}</a>', str(exists),
                                             reverse("reviews:meeting", kwargs={"code": exists.review.code}),
                                             _("Open the existing review.")))
        else:  # a joint review of several districts: the analysts' to open
            form.add_error(None, "{} {}".format(exists, _("It is a joint review of several districts; ask the "
                                                            "CSCC analysts.")))
        return _render_list(request, form=form, status=400)
    except ValidationError as error:
        _put_back(form, error)
        return _render_list(request, form=form, status=400)
    except NotAllowed as refused:
        form.add_error("districts", str(refused))
        return _render_list(request, form=form, status=400)
    messages.success(request, _("Review created. Add the themes, action items and attendance as the meeting goes."))
    return redirect("reviews:meeting", code=review.code)


# --- one review ------------------------------------------------------------------------------------

def _render_review(request, review, *, forms=None, status=200):
    """The review page; `forms` replaces the blank forms with the refused one(s)."""
    can_run = review.runnable_by(request.user) and not review.is_closed
    people = meeting.people_choices(review)
    agenda = meeting.agenda(review)
    shown = [n for row in agenda.incidents for n in row.notifications]
    record_summary_view(user=request.user, notifications=shown)
    record_page_access(user=request.user, action="review.viewed", obj=review, notifications=shown)
    blank = {
        "update_form": ReviewUpdateForm(initial={"meeting_at": review.meeting_at, "status": review.status,
                                                 "notes": review.notes}),
        "theme_form": ReviewThemeForm(),
        "item_form": ActionItemForm(people=people),
        "attendance_form": AttendanceForm(people=people),
    }
    blank.update(forms or {})
    return render(request, "reviews/meeting.html", {
        "review": review,
        "districts": meeting.review_districts(review),
        "agenda": agenda,
        "figures": figure_table(agenda),
        "themes": meeting.review_themes(review),
        "items": meeting.review_action_items(review),
        "attendance": meeting.review_attendance(review),
        "item_statuses": ActionItem.Status.choices,
        "can_run": can_run,
        **blank,
    }, status=status)


def _figure_lines() -> list[tuple[str, str, str]]:
    """(key, label, kind) of each line of the figures table, in the page's language."""
    median = _("Median minutes, %(from)s → %(to)s")
    return [
        ("incidents", _("Incidents"), "count"),
        ("victims", _("Victims"), "count"),
        ("fatal", _("Fatal"), "count"),
        ("notification_coverage", _("Notification coverage"), "rate"),
        ("minutes_occurred_to_entered", median % {"from": _("occurred"), "to": _("entered")}, "minutes"),
        ("minutes_entered_to_sent", median % {"from": _("entered"), "to": _("sent")}, "minutes"),
        ("minutes_sent_to_acknowledged", median % {"from": _("sent"), "to": _("acknowledged")}, "minutes"),
        ("minutes_acknowledged_to_arrived", median % {"from": _("acknowledged"), "to": _("arrived")}, "minutes"),
        ("acknowledged_rate", _("Acknowledged"), "rate"),
        ("responded_rate", _("Responded"), "rate"),
        ("late", _("Acknowledged late"), "count"),
        ("missed", _("Never acknowledged"), "count"),
        ("escalated", _("Escalated"), "count"),
    ]


def _shown(value, kind: str) -> str:
    if kind == "minutes":
        return format_value(None if value is None else value["median"])
    if kind == "rate":
        return format_value(percent(value), "%")
    return format_value(value)


def figure_table(agenda) -> dict:
    """The month's figures with one column per district (and one for the districts together when
    there are several) and one line per figure. Exact counts: this is the review table."""
    columns = [(entry["name"] or entry["district"], entry) for entry in agenda.figures]
    if len(columns) > 1:
        columns.append((_("Together"), agenda.total))
    return {"columns": [name for name, _entry in columns],
            "lines": [(label, [_shown(entry.get(key), kind) for _name, entry in columns])
                      for key, label, kind in _figure_lines()]}


@login_required
@require_GET
def meeting_detail(request, code):
    require_role(request.user, *READERS)
    return _render_review(request, meeting.get_review_for_user(request.user, code))


def _review_to_run(request, code):
    """The review for a write: a runner's role, in scope (404 otherwise), theirs to run (403)."""
    require_role(request.user, *RUNNERS)
    review = meeting.get_review_for_user(request.user, code)
    if not review.runnable_by(request.user):
        raise PermissionDenied("You may not run this review.")
    return review


def _write(request, review, form_name: str, form, action, success: str):
    """Run a service with a valid form; back to the review with a message, or the page again
    with the refused form (400). A closed review or a refusal is a message, nothing changed."""
    if form.is_valid():
        try:
            action(form.cleaned_data)
        except ValidationError as error:
            _put_back(form, error)
        except (Conflict, NotAllowed) as refused:
            messages.error(request, str(refused))
            return redirect("reviews:meeting", code=review.code)
        else:
            messages.success(request, success)
            return redirect("reviews:meeting", code=review.code)
    if review.is_closed:
        messages.error(request, _("This review is closed: it can no longer be changed."))
        return redirect("reviews:meeting", code=review.code)
    return _render_review(request, review, forms={form_name: form}, status=400)


@login_required
@require_POST
def meeting_update(request, code):
    review = _review_to_run(request, code)
    return _write(request, review, "update_form", ReviewUpdateForm(request.POST),
                  lambda data: review_update(actor=request.user, review=review, meeting_at=data["meeting_at"],
                                             notes=data["notes"], status=data["status"], source=Source.WEB),
                  _("The meeting's details are saved."))


@login_required
@require_POST
def meeting_close(request, code):
    review = _review_to_run(request, code)
    try:
        review_close(actor=request.user, review=review, source=Source.WEB)
    except (Conflict, NotAllowed) as refused:
        messages.error(request, str(refused))
    else:
        messages.success(request, _("The review is closed. Its open action items carry over to the next review."))
    return redirect("reviews:meeting", code=review.code)


@login_required
@require_POST
def theme_add(request, code):
    review = _review_to_run(request, code)
    return _write(request, review, "theme_form", ReviewThemeForm(request.POST),
                  lambda data: review_theme_add(actor=request.user, review=review, tag=data["tag"],
                                                free_tag=data["free_tag"], note=data["note"], source=Source.WEB),
                  _("Theme added."))


@login_required
@require_POST
def item_add(request, code):
    review = _review_to_run(request, code)
    form = ActionItemForm(request.POST, people=meeting.people_choices(review))
    return _write(request, review, "item_form", form,
                  lambda data: action_item_add(actor=request.user, review=review, text=data["text"],
                                               owner_user=data["owner_user"], owner_name=data["owner_name"],
                                               due_date=data["due_date"], source=Source.WEB),
                  _("Action item added."))


@login_required
@require_POST
def item_status(request, code, item_code):
    review = _review_to_run(request, code)
    item = get_object_or_404(ActionItem.objects.select_related("review"), code=item_code)
    form = ActionItemStatusForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose a status from the list."))
        return redirect("reviews:meeting", code=review.code)
    try:
        action_item_update(actor=request.user, review=review, item=item, status=form.cleaned_data["status"],
                           source=Source.WEB)
    except NotAllowed:
        raise Http404("That action item is not on this review.") from None
    except (Conflict, ValidationError) as refused:
        messages.error(request, " ".join(refused.messages) if isinstance(refused, ValidationError) else str(refused))
    else:
        messages.success(request, _("Action item updated."))
    return redirect(f"{reverse('reviews:meeting', kwargs={'code': review.code})}#items")


@login_required
@require_POST
def attendee_add(request, code):
    review = _review_to_run(request, code)
    form = AttendanceForm(request.POST, people=meeting.people_choices(review))
    return _write(request, review, "attendance_form", form,
                  lambda data: review_attendance_add(actor=request.user, review=review, user=data["user"],
                                                     name=data["name"], organization=data["organization"],
                                                     present=data["present"] == "present", source=Source.WEB),
                  _("Attendance recorded."))

