"""Request limits checked before any view reads the request.

- A body whose declared length is over 1 MB (`core.parsers.MAX_BODY_BYTES`) is refused with 413
  at once. (Django refuses one over DATA_UPLOAD_MAX_MEMORY_SIZE only when a view or the CSRF
  check first reads the body, and then with a bare "Bad Request (400)".) A body sent without a
  length is read as empty by Django.
- A NUL character in the path, the query string or a form field is refused with 400: no view
  has a use for one, PostgreSQL cannot store or even compare one (a query with it fails with
  DataError, a 500), and Django's form fields refuse them anyway.

The API (`/api/`) applies the same rules in its own parser and serializers, which answer in
the API's error format and audit the refusal, so only a body over Django's own limit is
refused here.
The answers are a sentence in the caller's language: JSON for a JSON request, plain text else.
"""

from django.conf import settings
from django.http import HttpResponse, JsonResponse
from django.utils.translation import gettext as _

from .parsers import MAX_BODY_BYTES

FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


class RequestLimitsMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        api = request.path.startswith("/api/")
        # The API's parser refuses (and audits) a body over MAX_BODY_BYTES itself; Django's own
        # limit, above it, is the last line: past it Django would answer a bare 400.
        limit = (settings.DATA_UPLOAD_MAX_MEMORY_SIZE or 0) if api else MAX_BODY_BYTES
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0  # as Django reads it: no body
        if limit and length > limit:
            mb = max(1, round(limit / 1024 / 1024))
            return _refusal(request, _("The request body is larger than %(mb)s MB.") % {"mb": mb}, 413)
        if api:
            return self.get_response(request)
        if _has_nul(request):
            return _refusal(request, _("Null characters are not allowed."), 400)
        if _bad_date_part(request.GET):
            return _refusal(request, _("A year, month or day in the address is not a date."), 400)
        return self.get_response(request)


# The Django admin's date drill-down (`?at__year=2026&at__month=11`): a year past 9999 overflows
# inside Django (a 500), so each part must be a date part before any list reads it.
DATE_PARTS = {"year": (1, 9999), "month": (1, 12), "day": (1, 31)}


def _bad_date_part(query) -> bool:
    for key, values in query.lists():
        part = key.rpartition("__")[2]
        if "__" not in key or part not in DATE_PARTS:
            continue
        low, high = DATE_PARTS[part]
        if any(not (value.isascii() and value.isdigit() and low <= int(value) <= high) for value in values):
            return True
    return False


def _has_nul(request) -> bool:
    if "\x00" in request.path or _nul_in(request.GET):
        return True
    if request.method != "POST" or not request.META.get("CONTENT_TYPE", "").startswith(FORM_TYPES):
        return False
    # Read the body first (its length is checked above): Django then parses a multipart form from
    # the copy, and a view can still read `request.body` (the phone's queue posts JSON there).
    request.body  # noqa: B018
    return _nul_in(request.POST)


def _nul_in(query) -> bool:
    return any("\x00" in key or any("\x00" in value for value in values) for key, values in query.lists())


def _refusal(request, message: str, status: int):
    if "json" in request.META.get("CONTENT_TYPE", "") or "json" in request.META.get("HTTP_ACCEPT", ""):
        return JsonResponse({"detail": message}, status=status)
    return HttpResponse(message, status=status, content_type="text/plain; charset=utf-8")
