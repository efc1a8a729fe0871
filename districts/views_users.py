"""The administrator's people pages (not the Django admin): the Users table, inviting someone,
a person's page (role and scope, deactivate or reactivate, resend or cancel the invitation),
and the public page where an invited person sets their password.

Administrators only, except the invitation page, which needs no login but a valid link. Each
person loads through `_get_membership_for_admin`, which refuses other roles and 404s an unknown
code. The services decide and audit; a refusal comes back as a message beside the field.
"""

from allauth.account.utils import perform_login
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import SetPasswordForm
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST
from django_filters.views import FilterView
from django_tables2 import SingleTableMixin

from .access import require_role
from .auth import password_signed_in
from .filters import PeopleFilter
from .forms import InviteForm, MembershipForm
from .models import Membership, Role
from .selectors import invitation_for_token, membership_by_code, people_all
from .services import (
    invitation_accept,
    invitation_cancel,
    invitation_resend,
    membership_change,
    user_deactivate,
    user_invite,
    user_reactivate,
)
from .tables import PeopleTable

SOURCE = "web"
PAGE_SIZE = 50


def _get_membership_for_admin(request, code) -> Membership:
    require_role(request.user, Role.ADMIN)
    membership = membership_by_code(code)
    if membership is None:
        raise Http404("No such person.")
    return membership


def _errors_to_form(form, exc: ValidationError) -> None:
    """A service's refusal onto the form: each message beside its field (the form's own if the
    field is not on it)."""
    for field, errors in exc.message_dict.items():
        form.add_error(field if field in form.fields else None, errors)


class PeopleView(LoginRequiredMixin, SingleTableMixin, FilterView):
    template_name = "districts/users.html"
    table_class = PeopleTable
    filterset_class = PeopleFilter
    table_pagination = {"per_page": PAGE_SIZE}

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            require_role(request.user, Role.ADMIN)
        return super().dispatch(request, *args, **kwargs)

    def get_queryset(self):
        return people_all()

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["filter_invalid"] = self.filterset.is_bound and not self.filterset.is_valid()
        return context


@login_required
def user_invite_view(request):
    require_role(request.user, Role.ADMIN)
    form = InviteForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            invitation, _raw = user_invite(
                actor=request.user, source=SOURCE, email=data["email"], first_name=data["first_name"],
                last_name=data["last_name"], role=data["role"], district=data["district"],
                organization=data["organization"], language=data["language"])
        except ValidationError as exc:
            _errors_to_form(form, exc)
        else:
            messages.success(request, _("Invitation sent to %(email)s.") % {"email": invitation.user.email})
            return redirect("districts:user", code=invitation.user.membership.code)
    return render(request, "districts/user_invite.html", {"form": form, "days": settings.INVITATION_DAYS},
                  status=400 if form.errors else 200)


@login_required
def user_detail(request, code):
    """A person's page; a POST changes their role and scope."""
    membership = _get_membership_for_admin(request, code)
    initial = {"role": membership.role, "district": membership.district, "organization": membership.organization}
    form = MembershipForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            membership_change(membership=membership, actor=request.user, source=SOURCE, role=data["role"],
                              district=data["district"], organization=data["organization"])
        except ValidationError as exc:
            _errors_to_form(form, exc)
            membership.refresh_from_db()
        else:
            messages.success(request, _("The role and scope are saved; they apply from the next page opened."))
            return redirect("districts:user", code=membership.code)
    invitation = getattr(membership.user, "invitation", None)
    return render(request, "districts/user_detail.html", {
        "person": membership.user, "member": membership, "form": form,
        "invitation": invitation if invitation is not None and invitation.is_pending else None,
        "is_self": membership.user_id == request.user.pk,
    }, status=400 if form.errors else 200)


def _act(request, code, act, done: str, *, then: str = ""):
    """Run `act(membership)` for a person's page's button; back to their page (or `then`) with
    a message saying what happened or why not."""
    membership = _get_membership_for_admin(request, code)
    try:
        act(membership)
    except ValidationError as exc:
        for error in exc.messages:
            messages.error(request, error)
        return redirect("districts:user", code=membership.code)
    messages.success(request, done)
    return redirect(then or reverse("districts:user", args=[membership.code]))


def _invitation_of(membership: Membership):
    invitation = getattr(membership.user, "invitation", None)
    if invitation is None:
        raise ValidationError({"invitation": [_("This person has no invitation.")]})
    return invitation


@require_POST
@login_required
def user_deactivate_view(request, code):
    return _act(request, code, lambda m: user_deactivate(user=m.user, actor=request.user, source=SOURCE),
                _("The account is deactivated: its sessions and API tokens have ended."))


@require_POST
@login_required
def user_reactivate_view(request, code):
    return _act(request, code, lambda m: user_reactivate(user=m.user, actor=request.user, source=SOURCE),
                _("The account is active again."))


@require_POST
@login_required
def invitation_resend_view(request, code):
    return _act(request, code, lambda m: invitation_resend(invitation=_invitation_of(m), actor=request.user,
                                                           source=SOURCE),
                _("A new invitation is sent; the previous link no longer works."))


@require_POST
@login_required
def invitation_cancel_view(request, code):
    return _act(request, code, lambda m: invitation_cancel(invitation=_invitation_of(m), actor=request.user,
                                                           source=SOURCE),
                _("The invitation is cancelled and the account removed."), then=reverse("districts:users"))


@never_cache
def invitation_accept_view(request, token):
    """Public: the invited person sets a password, then is signed in and sent home. Any link
    that does not open a pending invitation gets one plain page (404), the same for all."""
    invitation = invitation_for_token(token)
    if invitation is None:
        return render(request, "districts/invitation_invalid.html", status=404)
    with translation.override(invitation.user.membership.language):  # the one the administrator chose
        return _invitation_accept(request, invitation)


def _invitation_accept(request, invitation):
    user = invitation.user
    form = SetPasswordForm(user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = invitation_accept(invitation=invitation, password=form.cleaned_data["new_password1"])
        except ValidationError:
            return render(request, "districts/invitation_invalid.html", status=404)
        password_signed_in(request, user)
        return perform_login(request, user, redirect_url=reverse("home"))
    return render(request, "districts/invitation_accept.html", {"form": form, "person": user},
                  status=400 if form.errors else 200)
