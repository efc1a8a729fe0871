"""The organisation-only response record over the API (API.md "Responses").

Only the organisation's own members (and its own integration tokens) reach these views; this
is the one place the API shows notes, people engaged, referrals and the retaliation risk, and
only to the organisation that wrote them. CPD and analysts get 403 here and read the agreed
summary on the Notification instead.
"""

import re

from django.db.models import Prefetch
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response

from audit.services import access_record
from core.api import (
    ApiView,
    StrictCharField,
    StrictIntegerField,
    StrictSerializer,
    local_datetime,
    query_filters,
    responses_with_errors,
    utc_datetime,
)
from core.dates import month_boundaries
from districts.access import scope_of
from districts.models import OUTREACH_ROLES, IntegrationToken
from districts.selectors import organization_by_id
from notifications.access import notifications_for_user
from notifications.models import Notification

from .models import NOTES_MAX, EngagedRole, FollowUp, Referral, ResponseLog, ResponseType, RetaliationRisk
from .services import MAX_COUNT, response_log

Op = IntegrationToken.Operation
OUTREACH = frozenset(OUTREACH_ROLES)
MONTH = re.compile(r"^(20\d\d)-(0[1-9]|1[0-2])$")


class ResponseOutput(serializers.Serializer):
    """The full record, for the organisation that wrote it only."""

    class ReferralOutput(serializers.Serializer):
        kind = serializers.ChoiceField(choices=Referral.Kind.choices)
        count = serializers.IntegerField()

    code = serializers.UUIDField()
    notification = serializers.UUIDField(source="notification.code")
    incident = serializers.UUIDField(source="notification.incident.code", allow_null=True, default=None)
    client_key = serializers.UUIDField()
    created_at = utc_datetime()
    created_by = serializers.CharField(source="created_by.username", allow_null=True, default=None)
    source = serializers.CharField()
    arrived_at = utc_datetime(allow_null=True)
    response_types = serializers.ListField(child=serializers.ChoiceField(choices=ResponseType.choices))
    retaliation_risk = serializers.ChoiceField(choices=RetaliationRisk.choices)
    referrals = ReferralOutput(many=True)
    people_engaged = serializers.DictField(child=serializers.IntegerField())
    follow_up_on = serializers.SerializerMethodField()
    notes = serializers.CharField(allow_blank=True)

    def get_follow_up_on(self, log) -> str | None:
        follow_ups = sorted(log.follow_ups.all(), key=lambda f: f.due_on)
        return follow_ups[0].due_on.isoformat() if follow_ups else None


def _logs():
    return ResponseLog.objects.select_related("notification__incident", "created_by").prefetch_related(
        "referrals", Prefetch("follow_ups", queryset=FollowUp.objects.order_by("due_on")))


class ResponseCreateApi(ApiView):
    """Log a response. The same `client_key` returns the stored response (200) with the same body."""

    roles = OUTREACH
    operation = Op.RESPONSES_WRITE

    class InputSerializer(StrictSerializer):
        class ReferralInput(StrictSerializer):
            kind = serializers.ChoiceField(choices=Referral.Kind.choices)
            count = StrictIntegerField(min_value=0, max_value=MAX_COUNT, default=1)

        notification = serializers.UUIDField()
        client_key = serializers.UUIDField(help_text="Made by the client before sending; replays are idempotent.")
        arrived_at = local_datetime(required=False, allow_null=True)
        response_types = serializers.ListField(child=serializers.ChoiceField(choices=ResponseType.choices),
                                               required=False, max_length=len(ResponseType.values))
        retaliation_risk = serializers.ChoiceField(choices=RetaliationRisk.choices, required=False)
        referrals = ReferralInput(many=True, required=False, max_length=len(Referral.Kind.values))
        people_engaged = serializers.DictField(child=StrictIntegerField(min_value=0, max_value=MAX_COUNT),
                                               required=False, help_text=f"{{role: count}}; roles: "
                                               f"{', '.join(EngagedRole.values)}.")
        follow_up_on = serializers.DateField(required=False, allow_null=True)
        follow_up_task = StrictCharField(required=False, allow_blank=True, max_length=200)
        notes = StrictCharField(required=False, allow_blank=True, max_length=NOTES_MAX)

    @extend_schema(
        operation_id="responses_create", tags=["responses"], request=InputSerializer,
        responses=responses_with_errors({201: ResponseOutput, 200: ResponseOutput}, write=True),
        examples=[OpenApiExample("On scene, family engaged", request_only=True, value={
            "notification": "5b0f8c1e-3f57-4c4e-9a51-0d7f3c2f9a11",
            "client_key": "0c8d5f0e-7d0b-4e5a-8a8e-2f4f0f9f2b6d",
            "arrived_at": "2026-03-07T21:40:00-06:00", "response_types": ["scene", "family"],
            "retaliation_risk": "medium", "referrals": [{"kind": "trauma", "count": 2}],
            "follow_up_on": "2026-03-09", "notes": "Met the family at the hospital."})],
    )
    def post(self, request):
        data = ResponseCreateApi.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        notification = notifications_for_user(request.user).filter(
            code=values.pop("notification"), kind=Notification.Kind.INCIDENT).select_related("incident").first()
        if notification is None:
            raise serializers.ValidationError({"notification": ["No such notification for your organisation."]})
        values = {key: value for key, value in values.items() if value is not None}
        log, created = response_log(notification=notification, actor=request.user, source="api", **values)
        body = ResponseOutput(_logs().get(pk=log.pk)).data
        return Response(body, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)


class ResponseListApi(ApiView):
    """The caller's organisation's responses, newest first; `?month=2026-03` (Chicago time)."""

    roles = OUTREACH
    operation = Op.RESPONSES_READ

    class FilterSerializer(StrictSerializer):
        month = serializers.RegexField(MONTH, required=False, error_messages={
            "invalid": "A month is YYYY-MM in 2000–2099, e.g. 2026-03."})
        page = serializers.IntegerField(required=False, min_value=1)
        page_size = serializers.IntegerField(required=False, min_value=1, max_value=200)

    @extend_schema(
        operation_id="responses_list", tags=["responses"],
        parameters=[OpenApiParameter("month", str, pattern=MONTH.pattern, description="YYYY-MM, Chicago time.")],
        responses=responses_with_errors({200: ResponseOutput(many=True)}),
    )
    def get(self, request):
        filters = ResponseListApi.FilterSerializer(data=query_filters(request))
        filters.is_valid(raise_exception=True)
        logs = _logs().filter(organization_id=scope_of(request.user).organization_id)
        if "month" in filters.validated_data:
            year, month = MONTH.match(filters.validated_data["month"]).groups()
            start, end = month_boundaries(int(year), int(month))
            logs = logs.filter(created_at__gte=start, created_at__lt=end)
        scope = scope_of(request.user)
        if scope.organization_id:
            access_record(actor=request.user, source="api", action="responses.listed", role=scope.role or "",
                          organization_codes=[organization_by_id(scope.organization_id).code])
        return self.paginate(logs.order_by("-created_at", "-id"), ResponseOutput)
