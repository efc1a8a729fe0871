"""The API kit every app's `api.py` builds on: the base view, strict input, error handling, the
body limit, pagination, output and input times, and the error responses of the schema.

Errors follow API.md: 400 `{"field": ["message"]}` (problems not tied to one field under
`non_field_errors`), 401/403/404/409/413/429 `{"detail": "message"}`. Every rejected request
is handed to the `API_REJECTION_HOOK` named in settings (the audit trail's `api.rejected`)
with the status and the names of the fields at fault (never their values), so probing and
broken integrations are visible.

Who may call what (permissions) and how often (throttles) are wired in settings'
`REST_FRAMEWORK`: they depend on the portal's roles and tokens, which live above this kit.
"""

import datetime
import logging
import re
from collections.abc import Mapping

from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.http import Http404
from django.utils.module_loading import import_string
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, inline_serializer
from rest_framework import exceptions, serializers, status
from rest_framework.pagination import PageNumberPagination
from rest_framework.serializers import as_serializer_error
from rest_framework.views import APIView
from rest_framework.views import exception_handler as drf_exception_handler

from .dates import CHICAGO
from .exceptions import Conflict
from .parsers import SafeJSONParser, printable

logger = logging.getLogger(__name__)

# --- errors -----------------------------------------------------------------------------

class ConflictError(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "This conflicts with what is stored."
    default_code = "conflict"


def _translate(exc):
    if isinstance(exc, DjangoValidationError):
        return exceptions.ValidationError(as_serializer_error(exc))
    if isinstance(exc, Conflict):
        return ConflictError(str(exc) or ConflictError.default_detail)
    if isinstance(exc, Http404):
        return exceptions.NotFound(str(exc) or "Not found.")
    if isinstance(exc, DjangoPermissionDenied):
        return exceptions.PermissionDenied(str(exc) or "Your role cannot do this.")
    return exc


def api_exception_handler(exc, context):
    """DRF's handler, plus domain exceptions, 400s keyed by field, and the record of rejections."""
    exc = _translate(exc)
    response = drf_exception_handler(exc, context)
    if response is None:
        return None  # a real bug: let it be a 500 and reach the error log
    if response.status_code == 400 and not isinstance(response.data, dict):
        response.data = {"non_field_errors": response.data if isinstance(response.data, list) else [response.data]}
    elif response.status_code == 400 and set(response.data) == {"detail"}:
        response.data = {"non_field_errors": [response.data["detail"]]}
    if response.status_code != status.HTTP_429_TOO_MANY_REQUESTS:  # floods are counted by the throttle, not logged
        _record_rejection(context.get("request"), context.get("view"), response)
    return response


def _operation_name(view) -> str:
    op = getattr(view, "op", None) if getattr(view, "request", None) is not None else None
    op = op or type(view)
    return getattr(op, "operation", None) or op.__name__


def rejection_data(request, view, response) -> dict:
    """What is recorded of a rejected request: method, path, status, operation, and the names of
    the fields at fault (400) or the reason (otherwise); never a submitted value.

    A credential with a `code` (an integration token) is named by it.
    """
    data = {
        "method": request.method,
        "path": request.path[:200],
        "status": response.status_code,
        "operation": _operation_name(view),
    }
    if response.status_code == 400 and isinstance(response.data, dict):
        # Field names only, and only names that look like ours: an unknown field's name is input.
        data["fields"] = sorted({key if FIELD_NAME.fullmatch(str(key)) else "(unknown field)"
                                 for key in response.data})[:20]
    elif isinstance(response.data, dict) and "detail" in response.data:
        data["reason"] = printable(str(response.data["detail"]))
    data["path"] = printable(data["path"])
    code = getattr(getattr(request, "_auth", None), "code", None)
    if code is not None:
        data["integration_token"] = str(code)
    return data


def _record_rejection(request, view, response) -> None:
    hook = getattr(settings, "API_REJECTION_HOOK", None)
    if request is None or not hook:
        return
    try:
        with transaction.atomic():  # a savepoint: a failed write must not spoil the caller's transaction
            import_string(hook)(actor=getattr(request, "_user", None),
                                data=rejection_data(request, view, response))
    except Exception:  # noqa: BLE001 - a failed audit write must not turn a 4xx into a 500
        logger.exception("could not audit a rejected API request")


FIELD_NAME = re.compile(r"[a-z][a-z0-9_]{0,39}")


# --- pagination -------------------------------------------------------------------------

class ApiPagination(PageNumberPagination):
    """The API's one page size (settings name no other)."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200


class PageSerializer(serializers.Serializer):
    names = ("page", "page_size")
    page = serializers.IntegerField(required=False, min_value=1)
    page_size = serializers.IntegerField(required=False, min_value=1, max_value=ApiPagination.max_page_size)


# --- the base view ----------------------------------------------------------------------

class ApiView(APIView):
    """One operation. Subclasses set `roles` (None: any member) and `operation` (for tokens),
    which the permission classes in settings' `REST_FRAMEWORK` read.

    Where API.md puts two operations on one path (`GET` and `POST /incidents/`), `endpoint()`
    joins their views; `op` is then the view class that handles the request's method, and its
    `roles`, `operation` and serializers apply.
    """

    roles: frozenset | None = None
    operation: str | None = None
    parser_classes = [SafeJSONParser]
    pagination_class = ApiPagination  # read by the schema generator for list responses

    @property
    def op(self) -> type["ApiView"]:
        method = (self.request.method or "get").lower() if getattr(self, "request", None) else "get"
        method = "get" if method in ("head", "options") else method
        for klass in type(self).__mro__:
            if method in vars(klass):
                return klass
        return type(self)

    def paginate(self, queryset, serializer_class, *, shown=None, **context):
        """One page of `queryset`; `page` and `page_size` are checked, not silently ignored.

        `shown(rows)` is called with the page's rows (to record who viewed what).
        """
        PageSerializer(data={k: v for k, v in self.request.query_params.items() if k in PageSerializer.names}
                       ).is_valid(raise_exception=True)
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(queryset, self.request, view=self)
        if shown is not None:
            shown(page)
        return paginator.get_paginated_response(serializer_class(page, many=True, context=context).data)


def query_filters(request) -> dict:
    """The query string for a strict filter serializer (a typo like `?distict=007` is a 400), less
    `format`, which the browsable API adds."""
    return {key: value for key, value in request.query_params.items() if key != "format"}


def endpoint(*operations: type[ApiView]) -> type[ApiView]:
    """One URL serving several operations, each still its own view class (HackSoft style)."""
    name = "".join(op.__name__.removesuffix("Api") for op in operations) + "Endpoint"
    return type(name, operations, {"__doc__": operations[0].__doc__})


# --- input and output fields ------------------------------------------------------------

class StrictCharField(serializers.CharField):
    """A string, and only a string (DRF's CharField would take 7 or true)."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictBooleanField(serializers.BooleanField):
    default_error_messages = {"invalid": "Must be true or false."}

    def to_internal_value(self, data):
        if not isinstance(data, bool):
            self.fail("invalid", input=data)
        return data


class StrictIntegerField(serializers.IntegerField):
    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictFloatField(serializers.FloatField):
    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int | float):
            self.fail("invalid")
        try:
            return super().to_internal_value(data)
        except OverflowError:  # a huge JSON integer
            self.fail("invalid")


class StrictSerializer(serializers.Serializer):
    """Input that names a field the API does not know is refused, not silently dropped."""

    def to_internal_value(self, data):
        if isinstance(data, Mapping):
            known = {name for name, field in self.fields.items() if not field.read_only}
            unknown = sorted(str(key) for key in data if key not in known)
            if unknown:
                raise serializers.ValidationError({key: ["Unknown field."] for key in unknown})
        return super().to_internal_value(data)


class SafeDateTimeField(serializers.DateTimeField):
    """DRF's field, with a time at the edge of the calendar (`9999-12-31T23:59` read as Chicago
    time overflows converting to UTC) a 400 instead of an OverflowError."""

    def to_internal_value(self, value):
        try:
            return super().to_internal_value(value)
        except OverflowError:
            raise serializers.ValidationError("The date is out of range.", code="invalid") from None


def utc_datetime(**kwargs) -> serializers.DateTimeField:
    """An output time, always in UTC with a `Z`."""
    return SafeDateTimeField(default_timezone=datetime.UTC, **kwargs)


def local_datetime(**kwargs) -> serializers.DateTimeField:
    """An input time; one without an offset is read as Chicago local time."""
    return SafeDateTimeField(default_timezone=CHICAGO, **kwargs)


# --- schema helpers ---------------------------------------------------------------------

FieldErrors = inline_serializer(
    "FieldErrors",
    fields={"non_field_errors": serializers.ListField(child=serializers.CharField(), required=False)},
)
Detail = inline_serializer("ErrorDetail", fields={"detail": serializers.CharField()})

ERROR_RESPONSES = {
    400: OpenApiResponse(FieldErrors, description="Bad input: `{\"field\": [\"message\", ...]}`."),
    401: OpenApiResponse(Detail, description="No credentials, or a bad, expired or revoked token."),
    403: OpenApiResponse(Detail, description="Your role (or this integration token) may not do this."),
    404: OpenApiResponse(Detail, description="No such object within your scope."),
    429: OpenApiResponse(Detail, description="Too many requests; retry after the `Retry-After` seconds."),
}
CONFLICT_RESPONSE = {409: OpenApiResponse(Detail, description="Conflicts with what is stored.")}
WRITE_ERRORS = {**ERROR_RESPONSES, 413: OpenApiResponse(Detail, description="The body is over 1 MB.")}


CODE_PARAMETER = OpenApiParameter("code", OpenApiTypes.UUID, OpenApiParameter.PATH,
                                  description="The object's `code`; unknown or out of scope: 404.")


def responses_with_errors(ok: dict, *, write: bool = False, extra: dict | None = None) -> dict:
    return {**ok, **(WRITE_ERRORS if write else ERROR_RESPONSES), **(extra or {})}
