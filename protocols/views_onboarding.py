"""Onboarding pages: a member's own pathway with one POST per step (meet the organisations, the
knowledge check, sign-off), and who is behind, for administrators (everyone) and commanders
(their district's CPD members)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from districts.access import require_role, scope_of
from districts.models import Role

from . import documents, onboarding
from .models import PathwayStep

MEMBERS = (Role.CPD_STAFF, Role.CPD_COMMANDER, Role.OUTREACH_WORKER, Role.OUTREACH_SUPERVISOR)


def _problem(request, message: str, status: int):
    return render(request, "includes/problem.html", {
        "message": message, "back_url": "protocols:onboarding", "back_label": _("Onboarding")}, status=status)


def _pathway_or_problem(request):
    require_role(request.user, *MEMBERS)
    pathway = onboarding.pathway_for(request.user)
    if pathway is None:
        return None, _problem(request, _("There is no onboarding pathway for your role yet."), 404)
    return pathway, None


def _page(request, pathway, *, wrong=(), answers=None, status=200):
    progress = onboarding.progress_of(request.user, pathway)
    wrong_ids, answers = {q.pk for q in wrong}, answers or {}
    for state in progress.steps:
        if state.step.kind == PathwayStep.Kind.KNOWLEDGE_CHECK and state.state != onboarding.DONE:
            state.questions = [
                {"question": q, "wrong": q.pk in wrong_ids,
                 "choices": [(str(i), label, answers.get(q.pk) == str(i)) for i, label in enumerate(q.choice_labels())]}
                for q in onboarding.knowledge_questions(state.step)]
    scope = scope_of(request.user)
    return render(request, "protocols/onboarding.html", {
        "progress": progress,
        "district_number": request.user.membership.district.number if scope.is_cpd else None,
        "notices": documents.notices_open(request.user), "nav": "onboarding"}, status=status)


@login_required
@require_GET
def mine(request):
    pathway, problem = _pathway_or_problem(request)
    return problem or _page(request, pathway)


def _step(request, pathway, code):
    step = onboarding.step_of(pathway, code)
    if step is None:
        return None, _problem(request, _("That step is not part of your pathway."), 404)
    return step, None


@login_required
@require_POST
def step_done(request, code):
    """The member met the district's organisations (the directory step)."""
    pathway, problem = _pathway_or_problem(request)
    if problem:
        return problem
    step, problem = _step(request, pathway, code)
    if problem:
        return problem
    try:
        onboarding.onboarding_organizations_met(actor=request.user, step=step)
    except ValidationError as error:
        return _problem(request, " ".join(error.messages), 400)
    messages.success(request, _("Step done: %(step)s.") % {"step": step.label})
    return redirect("protocols:onboarding")


@login_required
@require_POST
def knowledge_check(request, code):
    pathway, problem = _pathway_or_problem(request)
    if problem:
        return problem
    step, problem = _step(request, pathway, code)
    if problem:
        return problem
    answers = {}
    for question in onboarding.knowledge_questions(step):
        answers[question.pk] = request.POST.get(f"q{question.pk}", "")
    try:
        passed, wrong = onboarding.onboarding_knowledge_check(actor=request.user, step=step, answers=answers)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return _page(request, pathway, answers=answers, status=400)
    if passed:
        messages.success(request, _("All answers right: the knowledge check is done."))
        return redirect("protocols:onboarding")
    messages.error(request, _("%(count)s answer(s) are not right yet; read the marked questions again.")
                   % {"count": len(wrong)})
    return _page(request, pathway, wrong=wrong, answers=answers, status=400)


@login_required
@require_POST
def sign_off(request):
    pathway, problem = _pathway_or_problem(request)
    if problem:
        return problem
    try:
        onboarding.onboarding_sign_off(actor=request.user, pathway=pathway)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return _page(request, pathway, status=400)
    messages.success(request, _("You signed off your onboarding. Welcome to the protocol."))
    return redirect("protocols:onboarding")


@login_required
@require_GET
def team(request):
    """Who is behind: administrators see every member with a pathway, commanders their district's."""
    require_role(request.user, Role.ADMIN, Role.CPD_COMMANDER)
    members = onboarding.team_visible_to(request.user) or []
    return render(request, "protocols/onboarding_team.html", {
        "rows": onboarding.team_progress(members), "nav": "onboarding_team"})
