import hashlib

from allauth.account.utils import perform_login
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import forms as auth_forms
from django.contrib.auth import logout
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import AnonymousUser
from django.core.cache import cache
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from core.client_ip import client_ip

from .access import scope_of
from .auth import mfa_required, password_signed_in
from .forms import LanguageForm
from .selectors import citywide_overview, district_desk, user_tokens_live
from .services import member_language_set, user_logout_everywhere


@login_required
def home(request):
    """Each role's home page: CPD the district desk, outreach the feed, analysts the city."""
    scope = scope_of(request.user)
    if scope.is_cpd:
        district, organizations = district_desk(scope.district_id)
        return render(request, "districts/home_cpd.html", {"district": district, "organizations": organizations})
    if scope.is_outreach:
        # The feed lives in `responses/` (above this app): reach it by URL name, not by import.
        return redirect("responses:feed")
    if scope.citywide:
        return render(request, "districts/home_citywide.html", citywide_overview())
    return render(request, "districts/home_nobody.html", status=403)


class LoginView(auth_views.LoginView):
    """Django's login page; a correct password continues in allauth's login flow, which asks
    for the second factor of a user who has one before the session is signed in."""

    redirect_authenticated_user = True

    def form_valid(self, form):
        user = form.get_user()
        password_signed_in(self.request, user)
        return perform_login(self.request, user, redirect_url=self.get_success_url())


def _over_limit(key: str, limit: int, seconds: int) -> bool:
    """Count one more for `key`; True when that makes more than `limit` in the window.
    A cache outage lets the request through (a reset must not depend on Redis)."""
    try:
        cache.add(key, 0, seconds)
        return cache.incr(key) > limit
    except Exception:  # noqa: BLE001 - any cache failure
        return False


class PasswordResetForm(auth_forms.PasswordResetForm):
    """Django's form, plus a message to an address no account uses: a mail goes out either way,
    so neither the page nor the time it takes tells which addresses have accounts."""

    def save(self, *, request=None, from_email=None, **kwargs):
        email = self.cleaned_data["email"]
        if next(iter(self.get_users(email)), None) is None:
            self.send_mail(kwargs.get("subject_template_name", "registration/password_reset_subject.txt"),
                           "registration/password_reset_unknown_email.html", {"user": AnonymousUser()},
                           from_email, email)
            return
        super().save(request=request, from_email=from_email, **kwargs)


class PasswordResetView(auth_views.PasswordResetView):
    """Django's reset page, rate-limited per address and per email address.

    The answer is the same whether or not an account has the address, a mail is sent either
    way (`PasswordResetForm`), and the limits count every request alike, so neither the page,
    the mail nor the limit tells which addresses exist.
    """

    form_class = PasswordResetForm

    def form_valid(self, form):
        email = hashlib.sha256(form.cleaned_data["email"].strip().lower().encode()).hexdigest()
        per_address, per_email, window = settings.PASSWORD_RESET_LIMITS
        limited = _over_limit(f"cvi:reset:ip:{client_ip(self.request)}", per_address, window)
        limited = _over_limit(f"cvi:reset:email:{email}", per_email, window) or limited
        if limited:
            form.add_error(None, _("Too many password reset requests. Try again in an hour."))
            return self.render_to_response(self.get_context_data(form=form), status=429)
        return super().form_valid(form)


@login_required
def account(request):
    """The user's own account page: language, two-factor authentication, password, API tokens,
    sessions."""
    return render(request, "districts/account.html", {
        "mfa_required": mfa_required(request.user),
        "tokens": user_tokens_live(request.user),
        "token_days": settings.USER_TOKEN_LIFETIME_DAYS,
        "language_form": LanguageForm(initial={"language": translation.get_language()}),
    })


@require_POST
@login_required
def account_language(request):
    """Every role's language choice: kept on the membership (every page, every message), and in
    the language cookie too, which is what speaks to someone without a membership."""
    form = LanguageForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose English or Spanish."))
        return redirect("account")
    language = form.cleaned_data["language"]
    member_language_set(actor=request.user, source="web", language=language)
    with translation.override(language):
        messages.success(request, _("The portal now speaks to you in this language."))
    response = redirect("account")
    response.set_cookie(settings.LANGUAGE_COOKIE_NAME, language, max_age=settings.LANGUAGE_COOKIE_AGE,
                        secure=settings.LANGUAGE_COOKIE_SECURE, httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
                        samesite=settings.LANGUAGE_COOKIE_SAMESITE)
    return response


@require_POST
@login_required
def logout_everywhere(request):
    """End every session of the user, this one included, and revoke their API tokens."""
    user = request.user
    ended = user_logout_everywhere(user=user, source="web")
    logout(request)
    messages.success(request, _("You are logged out everywhere: %(sessions)s sessions ended, %(tokens)s API tokens "
                                "revoked.") % ended)
    return redirect(settings.LOGIN_URL)
