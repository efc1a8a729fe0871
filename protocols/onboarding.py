"""Onboarding: a member's pathway (by role), their progress, the knowledge check, sign-off,
and who is behind.

A read-protocol step is done when the member acknowledged the document's current version; after
a new version it is "to re-read" until they acknowledge again. The other steps are done once
(`StepCompletion`): meeting the organisations when the member says so from the directory, the
review when `reviews` records them present at one (`onboarding_review_attended`), the knowledge
check when every answer is right. Sign-off needs every step done and records the versions.
"""

from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from audit.models import Source
from audit.services import audit_log
from districts.access import scope_of
from districts.models import Membership, Role

from . import documents
from .models import KnowledgeQuestion, OnboardingSignOff, Pathway, PathwayStep, StepCompletion

DONE, TO_DO, TO_REREAD = "done", "to_do", "to_reread"


@dataclass
class StepState:
    step: PathwayStep
    state: str
    version: int | None = None  # read steps: the current version number
    signed_version: int | None = None  # read steps: the version the member acknowledged


@dataclass
class Progress:
    pathway: Pathway
    steps: list[StepState] = field(default_factory=list)
    signoff: OnboardingSignOff | None = None

    @property
    def done_count(self) -> int:
        return sum(1 for s in self.steps if s.state == DONE)

    @property
    def complete(self) -> bool:
        return all(s.state == DONE for s in self.steps)

    @property
    def status(self) -> str:
        """signed (and current), behind (signed, then a protocol changed), ready, in_progress, not_started."""
        if self.signoff is not None:
            return "signed" if self.complete else "behind"
        if self.complete:
            return "ready"
        return "in_progress" if self.done_count or any(s.state == TO_REREAD for s in self.steps) else "not_started"


def pathway_for(user) -> Pathway | None:
    role = scope_of(user).role
    return Pathway.objects.filter(role=role).first() if role else None


def progress_of(user, pathway: Pathway) -> Progress:
    """The member's state on each step of the pathway, and their latest sign-off."""
    steps = list(pathway.steps.select_related("document"))
    completed = set(StepCompletion.objects.filter(user=user, step__in=steps).values_list("step_id", flat=True))
    progress = Progress(pathway=pathway, signoff=OnboardingSignOff.objects.filter(user=user, pathway=pathway).first())
    for step in steps:
        if step.kind == PathwayStep.Kind.READ_PROTOCOL:
            current = documents.latest_number(step.document)
            signed = documents.acknowledged_number(user, step.document)
            state = DONE if signed and signed >= current else (TO_REREAD if signed else TO_DO)
            progress.steps.append(StepState(step, state, version=current, signed_version=signed))
        else:
            progress.steps.append(StepState(step, DONE if step.pk in completed else TO_DO))
    return progress


def step_of(pathway: Pathway, code) -> PathwayStep | None:
    return pathway.steps.filter(code=code).select_related("document").first()


def _complete(*, actor, step: PathwayStep, detail: dict, source: str) -> StepCompletion:
    completion, created = StepCompletion.objects.get_or_create(user=actor, step=step, defaults={"detail": detail})
    if created:
        audit_log(actor=actor, source=source, action="onboarding.step_completed", obj=step.pathway,
                  data={"step": str(step.code), "kind": step.kind, **detail})
    return completion


def onboarding_organizations_met(*, actor, step: PathwayStep, source: str = Source.WEB) -> StepCompletion:
    """The member met the organisations of their district (they say so, from the directory)."""
    if step.kind != PathwayStep.Kind.MEET_ORGANIZATIONS:
        raise ValidationError({"step": [_("This step is not done this way.")]})
    return _complete(actor=actor, step=step, detail={}, source=source)


def onboarding_review_attended(*, user, review_code: str, source: str = Source.SYSTEM) -> StepCompletion | None:
    """Called by `reviews` when `user` is recorded present at a monthly review: completes the
    review step of their pathway, if it has one. Returns the completion or None."""
    pathway = pathway_for(user)
    step = pathway.steps.filter(kind=PathwayStep.Kind.ATTEND_REVIEW).first() if pathway else None
    if step is None:
        return None
    return _complete(actor=user, step=step, detail={"review": str(review_code)}, source=source)


def knowledge_questions(step: PathwayStep) -> list[KnowledgeQuestion]:
    return list(step.questions.all())


def onboarding_knowledge_check(*, actor, step: PathwayStep, answers: dict[int, str],
                               source: str = Source.WEB) -> tuple[bool, list[KnowledgeQuestion]]:
    """Mark the answers (question id → chosen index as posted). Returns (passed, the questions
    answered wrongly or not at all). Passing, every answer right, completes the step.
    ValidationError when nothing was answered."""
    if step.kind != PathwayStep.Kind.KNOWLEDGE_CHECK:
        raise ValidationError({"step": [_("This step is not a knowledge check.")]})
    questions = knowledge_questions(step)
    if not any(answers.get(q.pk) not in (None, "") for q in questions):
        raise ValidationError({"answers": [_("Answer the questions, then check your answers.")]})
    wrong = [q for q in questions if str(answers.get(q.pk, "")) != str(q.answer)]
    if not wrong:
        _complete(actor=actor, step=step, detail={"score": len(questions)}, source=source)
    return not wrong, wrong


def onboarding_sign_off(*, actor, pathway: Pathway, source: str = Source.WEB) -> OnboardingSignOff:
    """Sign the pathway off, recording the version of each protocol signed. ValidationError while
    a step is not done (naming it)."""
    with transaction.atomic():
        progress = progress_of(actor, pathway)
        missing = [s.step.label for s in progress.steps if s.state != DONE]
        if missing:
            raise ValidationError({"steps": [_("Finish these steps first: %(steps)s.")
                                             % {"steps": "; ".join(missing)}]})
        versions = {s.step.document.slug: s.version for s in progress.steps if s.version is not None}
        if progress.signoff is not None and progress.signoff.versions == versions:
            return progress.signoff
        signoff = OnboardingSignOff.objects.create(user=actor, pathway=pathway, versions=versions)
        audit_log(actor=actor, source=source, action="onboarding.signed_off", obj=pathway,
                  data={"versions": versions})
    return signoff


# --- who is behind -------------------------------------------------------------------------------


def team_visible_to(user) -> list[Membership] | None:
    """Members whose onboarding `user` may follow: administrators every member with a pathway,
    a commander the CPD members of their district. None for anyone else."""
    scope = scope_of(user)
    roles = list(Pathway.objects.values_list("role", flat=True))
    members = (Membership.objects.filter(role__in=roles, user__is_active=True)
               .select_related("user", "district", "organization").defer("district__boundary"))
    if scope.is_admin:
        return list(members.order_by("role", "user__username"))
    if scope.role == Role.CPD_COMMANDER:
        return list(members.filter(district_id=scope.district_id).order_by("role", "user__username"))
    return None


STATUS_ORDER = {"behind": 0, "not_started": 1, "in_progress": 2, "ready": 3, "signed": 4}


def team_progress(members: list[Membership]) -> list[tuple[Membership, Progress]]:
    """Each member's progress, those behind first (a protocol changed since they signed, then not
    started, in progress, ready to sign, signed)."""
    pathways = {p.role: p for p in Pathway.objects.all()}
    users = {u.pk: u for u in get_user_model().objects.filter(pk__in=[m.user_id for m in members])}
    rows = [(m, progress_of(users[m.user_id], pathways[m.role])) for m in members if m.role in pathways]
    return sorted(rows, key=lambda row: (STATUS_ORDER[row[1].status], row[0].user.username))
