"""Two middlewares: the member's language, and sessions that end when idle.

Language: after AuthenticationMiddleware, a signed-in member's own choice
(Membership.language, once chosen on the account page or by the administrator who invited
them) is the language of every page, whatever their role. Anyone else (a member who never
chose, someone without a membership) keeps LocaleMiddleware's choice: the language cookie,
which the account page also sets, else the browser's.

Sessions end after a time without activity that depends on the user's role.

CPD staff, commanders, analysts and administrators: `SESSION_IDLE_MINUTES` (30 by default) and
at the latest `SESSION_MAX_HOURS` (12) after signing in. Outreach workers and supervisors, whose
phone is their desk: `SESSION_IDLE_MINUTES_OUTREACH` (12 hours) and `SESSION_MAX_HOURS_OUTREACH`
(7 days); the signed acknowledgement link needs no session at all.

The session keeps two stamps (seconds since the epoch): when this sign-in began and when the
user was last active. The last-active stamp is rewritten at most once a minute, so an active
user costs one session write a minute, not one a request. A background poll (the live board
and incident page, which send `X-Requested-With: fetch`) is checked but is not activity: a
board left open on an unattended desk still signs out.
"""

import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import SESSION_KEY, logout
from django.utils import translation
from django.utils.translation import gettext as _

from .access import membership_of, scope_of

SINCE_KEY = "cvi_signed_in_at"
SEEN_KEY = "cvi_active_at"
REFRESH_SECONDS = 60


class MemberLanguageMiddleware:
    """After AuthenticationMiddleware: activates the signed-in member's language."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        membership = membership_of(getattr(request, "user", None))
        if membership is None or not membership.language_chosen or membership.language not in dict(settings.LANGUAGES):
            return self.get_response(request)
        # The response in the member's language; the thread back to LocaleMiddleware's afterwards
        # (so nothing that runs next on this thread, a test's direct call included, inherits it).
        language, previous = membership.language, translation.get_language()
        translation.activate(language)
        request.LANGUAGE_CODE = language
        try:
            response = self.get_response(request)
        finally:
            translation.activate(previous) if previous else translation.deactivate()
        response.headers.setdefault("Content-Language", language)
        return response


def session_limits(user) -> tuple[int, int]:
    """(idle seconds, absolute seconds) for this user's role."""
    if scope_of(user).is_outreach:
        return settings.SESSION_IDLE_MINUTES_OUTREACH * 60, settings.SESSION_MAX_HOURS_OUTREACH * 3600
    return settings.SESSION_IDLE_MINUTES * 60, settings.SESSION_MAX_HOURS * 3600


def _is_background(request) -> bool:
    return request.headers.get("X-Requested-With") == "fetch"


def _stamp(session, now: int) -> None:
    session[SINCE_KEY] = session[SEEN_KEY] = now


class SessionIdleMiddleware:
    """After AuthenticationMiddleware and MessageMiddleware: signs an expired session out
    (the request goes on as anonymous, so a page redirects to the login with a message and an
    API call answers 401/403) and refreshes the idle deadline of an active one."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            self._check(request, user, int(time.time()))
        response = self.get_response(request)
        # Signed in during this request (the login view): start both clocks. A call signed by a
        # token (the API sets request.user) has no session and gets none: no cookie, no row.
        if SESSION_KEY in request.session and SINCE_KEY not in request.session:
            _stamp(request.session, int(time.time()))
        return response

    def _check(self, request, user, now: int) -> None:
        session = request.session
        since, seen = session.get(SINCE_KEY), session.get(SEEN_KEY)
        if not isinstance(since, int) or not isinstance(seen, int):
            _stamp(session, now)  # a session from before this middleware: its clocks start now
            return
        idle, absolute = session_limits(user)
        if now - seen > idle:
            logout(request)
            messages.info(request, _("You were signed out after %(minutes)d minutes without activity. "
                                     "Please sign in again.") % {"minutes": idle // 60})
        elif now - since > absolute:
            logout(request)
            messages.info(request, _("You were signed out: a sign-in lasts at most %(hours)d hours. "
                                     "Please sign in again.") % {"hours": absolute // 3600})
        elif not _is_background(request) and now - seen >= REFRESH_SECONDS:
            session[SEEN_KEY] = now
