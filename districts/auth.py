"""Signing in: login throttling (django-axes), two-factor authentication (django-allauth's MFA),
re-authentication before exports, and allauth's adapter.

- **Throttling.** django-axes counts failed sign-ins, web and API, keyed on the real client
  address (`core.client_ip`). A username is locked only together with the address it is
  guessed from (`AXES_LOCKOUT_PARAMETERS`), so an attacker elsewhere cannot lock a real user
  out; an address that fails many times across usernames is locked on its own
  (`AXES_ADDRESS_FAILURE_LIMIT`, higher, because a district station shares one address).
  Both cool off after `AXES_COOLOFF_TIME`. Failures are listed in the admin (axes' models).
- **Two factors.** The login page stays Django's, but hands a correct password to allauth's
  login flow, so a user with an authenticator is asked for it before the session is signed in.
  `MfaRequiredMiddleware` sends a user of a role in `MFA_REQUIRED_ROLES` without an
  authenticator to set one up before anything else, and signs out a session of a user who has
  one but did not pass it (a session made by another way in). `MFA_ENFORCED` turns it on:
  on in production, off in the test settings, where tests sign in with `force_login`.
- **Re-authentication.** `reauthentication_for_export` asks for the password (or a second
  factor) again when the last one is older than `ACCOUNT_REAUTHENTICATION_TIMEOUT`.

allauth's record of how a session authenticated (`allauth.account.internal.flows`) is read and
written here because the login page is Django's, not allauth's: allauth 65 offers no public
call for "this password was just typed". The version is pinned in uv.lock; the tests in
tests/districts/test_login_security.py fail if an upgrade changes it.
"""

from datetime import timedelta

from allauth.account.adapter import DefaultAccountAdapter
from allauth.account.internal.flows.login import get_authentication_records, record_authentication
from allauth.account.internal.flows.reauthentication import did_recently_reauthenticate
from allauth.core.exceptions import ReauthenticationRequired
from allauth.mfa.base.forms import BaseAuthenticateForm
from allauth.mfa.utils import is_mfa_enabled
from axes.backends import AxesStandaloneBackend
from axes.handlers.database import AxesDatabaseHandler
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.db.models import Sum
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from core.client_ip import axes_client_ip, client_ip

from .access import scope_of

MFA_ENROLLING = "cvi_mfa_enrolling"


# --- throttling ----------------------------------------------------------------------------

class AxesBackend(AxesStandaloneBackend):
    """django-axes' lockout check for every sign-in that comes with a request.

    A call without one (the test client's `login()`, a shell) has no address to key on and is
    not a sign-in from the network; it is left to the other backends.
    """

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)


class AxesHandler(AxesDatabaseHandler):
    """axes' database handler, plus a lockout of the address alone at a higher limit."""

    def is_locked(self, request, credentials=None) -> bool:
        if super().is_locked(request, credentials):
            return True
        return address_failures(request) >= settings.AXES_ADDRESS_FAILURE_LIMIT


def address_failures(request) -> int:
    """Failed sign-ins from the request's address within the cool-off, across usernames."""
    since = timezone.now() - settings.AXES_COOLOFF_TIME
    total = (AccessAttempt.objects.filter(ip_address=axes_client_ip(request), attempt_time__gte=since)
             .aggregate(n=Sum("failures_since_start"))["n"])
    return total or 0


def lockout_response(request, original_response=None, credentials=None):
    """`AXES_LOCKOUT_CALLABLE`: the API keeps its JSON 429; the web login page says why."""
    minutes = int(settings.AXES_COOLOFF_TIME / timedelta(minutes=1))
    message = _("Too many failed sign-ins from this address. Try again in %(minutes)s minutes, "
                "or reset your password.") % {"minutes": minutes}
    if request.path.startswith("/api/"):
        if original_response is not None and original_response.status_code == 429:
            return original_response
        return JsonResponse({"detail": message}, status=429)
    return render(request, "registration/locked_out.html", {"message": message}, status=429)


# --- two factors ---------------------------------------------------------------------------

def mfa_required(user) -> bool:
    """Whether the user's role must use a second factor (`MFA_REQUIRED_ROLES`)."""
    return scope_of(user).role in settings.MFA_REQUIRED_ROLES


def passed_mfa(request) -> bool:
    """Whether this session passed a second factor, or was signed in while the user had none
    (and so may set the first one up)."""
    if request.session.get(MFA_ENROLLING):
        return True
    return any(record.get("method") == "mfa" for record in get_authentication_records(request, request.user))


def password_signed_in(request, user) -> None:
    """Record a password just typed at the login page as a fresh authentication (allauth reads
    it for re-authentication: setting up a second factor right after signing in needs no second
    password prompt)."""
    record_authentication(request, user, method="password", reauthenticated=True)


class MfaRequiredMiddleware:
    """After authentication and allauth's middleware. See the module's docstring."""

    # Pages a user who must set up a second factor may still open: the setup itself, the
    # re-authentication it asks for, signing out, the language switch, static files.
    OPEN_PREFIXES = ("/accounts/2fa/", "/accounts/reauthenticate/", "/accounts/logout/", "/i18n/", "/static/",
                     "/healthz", "/readyz")

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if settings.MFA_ENFORCED and user is not None and user.is_authenticated:
            response = self.check(request, user)
            if response is not None:
                return response
        return self.get_response(request)

    def check(self, request, user):
        if is_mfa_enabled(user):
            if passed_mfa(request):
                return None
            logout(request)
            return redirect(settings.LOGIN_URL)
        if not request.session.get(MFA_ENROLLING):
            # Signed in while the user had no second factor: the one they set up in this
            # session must not sign this session out.
            request.session[MFA_ENROLLING] = True
        if not mfa_required(user) or request.path.startswith(self.OPEN_PREFIXES):
            return None
        message = _("Your role needs two-factor authentication: set it up to continue.")
        if request.path.startswith("/api/"):
            return JsonResponse({"detail": message}, status=403)
        messages.warning(request, message)
        return redirect("mfa_index")


def api_second_factor_problem(user, code: str) -> tuple[str, str] | None:
    """For the API's token endpoint: None when `user` may have a token with this `code` (a code
    from the authenticator app or a recovery code), else (field, message); field "" means the
    role must set a second factor up first (a 403)."""
    if is_mfa_enabled(user):
        if not code:
            return "code", _("This account uses two-factor authentication: send `code`, from the "
                             "authenticator app or one of the recovery codes.")
        form = BaseAuthenticateForm(data={"code": code}, user=user)
        if not form.is_valid():
            return "code", " ".join(form.errors.get("code", [])) or _("Incorrect code.")
        return None
    if settings.MFA_ENFORCED and mfa_required(user):
        return "", _("Your role needs two-factor authentication: set it up in the portal "
                     "(Account and security), then ask for a token with its code.")
    return None


# --- re-authentication ---------------------------------------------------------------------

def reauthentication_for_export(request) -> None:
    """Raise allauth's ReauthenticationRequired (its middleware sends the user to confirm their
    password, then back here) unless the user authenticated within the timeout."""
    if settings.EXPORT_REAUTHENTICATION and not did_recently_reauthenticate(request):
        raise ReauthenticationRequired()


# --- allauth ------------------------------------------------------------------------------

class AccountAdapter(DefaultAccountAdapter):
    """Accounts are made by administrators, never by signing up."""

    def is_open_for_signup(self, request) -> bool:
        return False

    def get_client_ip(self, request) -> str:
        return client_ip(request)

    def get_logout_redirect_url(self, request) -> str:
        return reverse(settings.LOGOUT_REDIRECT_URL)
