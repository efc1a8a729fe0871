"""Incidents (CPD) and notifications (outreach) over the API (API.md).

CPD-facing serializers here read `notifications/` only: the agreed summary on each
Notification (`summary.summary_fields`), never the organisation-only record in `responses/`.
Outreach sees an incident as a notification carries it: no RD number, no exact point, victims
as age bands and sex only.
"""

from django.db.models import Prefetch
from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response

from core.api import (
    CODE_PARAMETER,
    CONFLICT_RESPONSE,
    ApiView,
    StrictBooleanField,
    StrictCharField,
    StrictFloatField,
    StrictIntegerField,
    StrictSerializer,
    local_datetime,
    query_filters,
    responses_with_errors,
    utc_datetime,
)
from core.prefetched import has_prefetched
from districts.access import scope_of
from districts.api_fields import DistrictField
from districts.models import CPD_ROLES, OUTREACH_ROLES, Channel, IntegrationToken, Organization, Role
from districts.selectors import organization_by_code

from .access import get_incident_for_user, get_notification_for_user, incidents_for_user, notifications_for_user
from .drills import notification_drill_send
from .models import Delivery, Incident, Notification, Victim
from .services import incident_correct, incident_create
from .state import TAP_STATUSES as _TAPS
from .state import notification_acknowledge, notification_status_set
from .summary import record_page_access, record_summary_view, summary_fields

Op = IntegrationToken.Operation
INCIDENT_READERS = frozenset({*CPD_ROLES, Role.ANALYST, Role.ADMIN})
INCIDENT_WRITERS = frozenset({*CPD_ROLES, Role.ADMIN})
OUTREACH = frozenset(OUTREACH_ROLES)
# The taps API.md lets outreach set through /status/ (acknowledging has its own operation).
TAP_STATUSES = [status for status in _TAPS if status != Notification.Status.ACKNOWLEDGED]

INCIDENT_EXAMPLE = {
    "rd_number": "JH411616", "occurred_at": "2026-03-07T21:14:00-06:00", "block": "7800 S OGLESBY AVE",
    "latitude": 41.7528, "longitude": -87.5683, "victims": [
        {"age_band": "20-29", "sex": "M", "fatal": False, "gunshot": True}],
    "hospital": "UCM", "scene_status": "active", "note": "Victim transported; crowd gathering.",
}


# --- shared output shapes ---------------------------------------------------------------

class OrganizationRef(serializers.Serializer):
    code = serializers.UUIDField()
    name = serializers.CharField()


class SummaryOutput(serializers.Serializer):
    """The agreed response summary: all CPD and analysts ever see of a response."""

    acknowledged = serializers.BooleanField()
    acknowledged_at = utc_datetime(allow_null=True)
    status = serializers.ChoiceField(choices=Notification.Status.choices)
    status_at = utc_datetime(allow_null=True)
    unable_reason = serializers.CharField(allow_blank=True)
    responded = serializers.BooleanField()
    arrived_at = utc_datetime(allow_null=True)
    response_category = serializers.CharField(allow_blank=True)

    def to_representation(self, instance):
        # Exactly `summary_fields`: one definition of the summary for every CPD-facing reader.
        return super().to_representation(summary_fields(instance) if isinstance(instance, Notification) else instance)


class IncidentNotificationOutput(serializers.Serializer):
    code = serializers.UUIDField()
    organization = OrganizationRef()
    status = serializers.ChoiceField(choices=Notification.Status.choices)
    first_sent_at = utc_datetime(allow_null=True)
    acknowledged_at = utc_datetime(allow_null=True)
    arrived_at = utc_datetime(allow_null=True)
    summary = SummaryOutput(source="*")


class VictimInput(StrictSerializer):
    age_band = serializers.ChoiceField(choices=Victim.AgeBand.choices, default=Victim.AgeBand.UNKNOWN)
    sex = serializers.ChoiceField(choices=Victim.Sex.choices, default=Victim.Sex.UNKNOWN)
    fatal = StrictBooleanField(default=False)
    gunshot = StrictBooleanField(default=True)


class IncidentOutput(serializers.Serializer):
    """An incident as CPD, analysts and administrators see it."""

    class VictimOutput(serializers.Serializer):
        age_band = serializers.CharField()
        sex = serializers.CharField()
        fatal = serializers.BooleanField()
        gunshot = serializers.BooleanField()

    code = serializers.UUIDField()
    rd_number = serializers.CharField(allow_null=True)
    occurred_at = utc_datetime()
    block = serializers.CharField()
    # Not required: absent for analysts, who see an incident as a notification carries it.
    latitude = serializers.FloatField(allow_null=True, required=False, help_text="Absent for analysts.")
    longitude = serializers.FloatField(allow_null=True, required=False, help_text="Absent for analysts.")
    district = serializers.CharField(source="district.number")
    beat = serializers.CharField(source="beat.number", allow_null=True, default=None)
    community_area = serializers.IntegerField(source="community_area.number", allow_null=True, default=None)
    victims = VictimOutput(many=True)
    victim_count = serializers.IntegerField()
    fatal_count = serializers.IntegerField()
    hospital = serializers.CharField(source="hospital.code", allow_null=True, default=None)
    scene_status = serializers.ChoiceField(choices=Incident.SceneStatus.choices)
    note = serializers.CharField(allow_blank=True)
    source = serializers.CharField()
    entered_at = utc_datetime()
    entered_by = serializers.CharField(source="entered_by.username", allow_null=True, default=None, required=False,
                                       help_text="Absent for analysts.")
    updated_at = utc_datetime()
    gathering = serializers.CharField(allow_blank=True)
    scenarios = serializers.ListField(
        child=serializers.CharField(), source="scenario_codes", read_only=True,
        help_text="Matched scenario playbook codes (e.g. fatal, youth), matched when entered or corrected.")
    notifications = IncidentNotificationOutput(many=True)


class AnalystIncidentOutput(IncidentOutput):
    """An incident as analysts see it (ARCHITECTURE.md): as a notification carries it, with the
    RD number and CPD's note, but no exact point and not who entered it."""

    latitude = None
    longitude = None
    entered_by = None


def incident_output_for(user) -> type[IncidentOutput]:
    """The incident shape the user's role may read: analysts get `AnalystIncidentOutput`."""
    return AnalystIncidentOutput if scope_of(user).is_analyst else IncidentOutput


def _incidents_with_details(queryset):
    return queryset.select_related("entered_by").prefetch_related(
        "victims", "scenarios",
        Prefetch("notifications", queryset=Notification.objects.select_related("organization").order_by(
            "organization__name")),
    )


# What an incident's answer shows of its relations (the geography is selected with it).
_DETAILS = ("victims", "scenarios", "notifications")


def _incident_response(request, incident: Incident, *, code: int = status.HTTP_200_OK) -> Response:
    if not has_prefetched(incident, *_DETAILS):  # an incident just entered comes with them
        incident = _incidents_with_details(Incident.objects.filter(pk=incident.pk)).select_related(
            "district", "beat", "community_area", "hospital").defer(
            "district__boundary", "beat__boundary", "community_area__boundary").get()
    record_summary_view(user=request.user, notifications=incident.notifications.all(), source="api")
    if request.method == "GET":
        record_page_access(user=request.user, action="incident.viewed", obj=incident,
                           notifications=incident.notifications.all(), source="api")
    return Response(incident_output_for(request.user)(incident).data, status=code)


# --- incidents ------------------------------------------------------------------------

class IncidentCreateApi(ApiView):
    """Enter a shooting. The same RD number with the same content returns the stored incident (200)."""

    roles = INCIDENT_WRITERS
    operation = Op.INCIDENTS_WRITE

    class InputSerializer(StrictSerializer):
        rd_number = StrictCharField(required=False, allow_null=True, allow_blank=True, max_length=12)
        occurred_at = local_datetime()
        block = StrictCharField(max_length=120)
        latitude = StrictFloatField(required=False, allow_null=True, min_value=-90, max_value=90)
        longitude = StrictFloatField(required=False, allow_null=True, min_value=-180, max_value=180)
        district = DistrictField(required=False, allow_null=True)
        beat = StrictCharField(required=False, allow_null=True, allow_blank=True, max_length=4)
        community_area = StrictIntegerField(required=False, allow_null=True, min_value=1, max_value=77)
        victims = VictimInput(many=True, min_length=1, max_length=50)
        hospital = StrictCharField(required=False, allow_null=True, allow_blank=True, max_length=16)
        scene_status = serializers.ChoiceField(choices=Incident.SceneStatus.choices, required=False)
        note = StrictCharField(required=False, allow_blank=True, max_length=500)
        gathering = serializers.ChoiceField(choices=Incident.Gathering.choices, required=False, allow_blank=True,
                                            help_text="`vigil` or `funeral` when the shooting was at one.")

    @extend_schema(
        operation_id="incidents_create", tags=["incidents"], request=InputSerializer,
        responses=responses_with_errors(
            {201: IncidentOutput, 200: IncidentOutput}, write=True, extra=CONFLICT_RESPONSE),
        examples=[OpenApiExample("A shooting in Englewood", request_only=True, value=INCIDENT_EXAMPLE)],
    )
    def post(self, request):
        data = IncidentCreateApi.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        incident, created = incident_create(actor=request.user, source=Incident.Source.API, **data.validated_data)
        return _incident_response(request, incident, code=status.HTTP_201_CREATED if created else status.HTTP_200_OK)


class IncidentListApi(ApiView):
    """Incidents in the caller's scope, newest first; filter by district and a time window."""

    roles = INCIDENT_READERS
    operation = Op.INCIDENTS_READ

    class FilterSerializer(StrictSerializer):
        district = DistrictField(required=False)
        since = local_datetime(required=False)
        until = local_datetime(required=False)
        page = serializers.IntegerField(required=False, min_value=1)
        page_size = serializers.IntegerField(required=False, min_value=1, max_value=200)

    @extend_schema(
        operation_id="incidents_list", tags=["incidents"],
        parameters=[
            OpenApiParameter("district", str, description="Three digits (`007`); `7` is accepted."),
            OpenApiParameter("since", OpenApiTypes.DATETIME, description="Occurred at or after."),
            OpenApiParameter("until", OpenApiTypes.DATETIME, description="Occurred before."),
            OpenApiParameter("page_size", int, description="Up to 200 (default 50)."),
        ],
        responses=responses_with_errors({200: IncidentOutput(many=True)}),
    )
    def get(self, request):
        filters = IncidentListApi.FilterSerializer(data=query_filters(request))
        filters.is_valid(raise_exception=True)
        incidents = _incidents_with_details(incidents_for_user(request.user))
        if "district" in filters.validated_data:
            incidents = incidents.filter(district=filters.validated_data["district"])
        if "since" in filters.validated_data:
            incidents = incidents.filter(occurred_at__gte=filters.validated_data["since"])
        if "until" in filters.validated_data:
            incidents = incidents.filter(occurred_at__lt=filters.validated_data["until"])
        return self.paginate(
            incidents.order_by("-occurred_at", "-id"), incident_output_for(request.user), shown=lambda page: (
                record_summary_view(user=request.user, notifications=[n for i in page for n in i.notifications.all()],
                                    source="api")))


class IncidentDetailApi(ApiView):
    """One incident in the caller's scope, with each organisation's agreed response summary."""

    roles = INCIDENT_READERS
    operation = Op.INCIDENTS_READ

    @extend_schema(operation_id="incidents_retrieve", parameters=[CODE_PARAMETER], tags=["incidents"],
                   responses=responses_with_errors({200: IncidentOutput}))
    def get(self, request, code):
        return _incident_response(request, get_incident_for_user(request.user, code))


class IncidentCorrectApi(ApiView):
    """Correct an incident. Organisations already notified get an update; organisations newly
    covering a corrected location are notified."""

    roles = INCIDENT_WRITERS
    operation = Op.INCIDENTS_WRITE

    class InputSerializer(IncidentCreateApi.InputSerializer):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, partial=True, **kwargs)

        def validate(self, attrs):
            if not attrs:
                raise serializers.ValidationError({"non_field_errors": ["Send at least one field to correct."]})
            return attrs

    @extend_schema(
        operation_id="incidents_correct", parameters=[CODE_PARAMETER], tags=["incidents"], request=InputSerializer,
        responses=responses_with_errors({200: IncidentOutput}, write=True),
        examples=[OpenApiExample("The victim died", request_only=True, value={
            "victims": [{"age_band": "20-29", "sex": "M", "fatal": True, "gunshot": True}]})],
    )
    def patch(self, request, code):
        incident = get_incident_for_user(request.user, code)
        data = IncidentCorrectApi.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        incident = incident_correct(incident=incident, actor=request.user, source=Incident.Source.API,
                                    **data.validated_data)
        return _incident_response(request, incident)


# --- notifications (outreach) ------------------------------------------------------------

class OutreachIncidentOutput(serializers.Serializer):
    """The incident as a notification carries it to outreach: block-level, no RD number, no names."""

    class VictimOutput(serializers.Serializer):
        age_band = serializers.CharField()
        sex = serializers.CharField()

    code = serializers.UUIDField()
    occurred_at = utc_datetime()
    block = serializers.CharField()
    district = serializers.CharField(source="district.number")
    beat = serializers.CharField(source="beat.number", allow_null=True, default=None)
    community_area = serializers.IntegerField(source="community_area.number", allow_null=True, default=None)
    victim_count = serializers.IntegerField()
    fatal_count = serializers.IntegerField(allow_null=True)
    victims = VictimOutput(many=True)
    hospital = serializers.CharField(source="hospital.name", allow_null=True, default=None)
    scene_status = serializers.ChoiceField(choices=Incident.SceneStatus.choices, allow_null=True)
    note = serializers.CharField(allow_blank=True, allow_null=True)
    scenarios = serializers.ListField(child=serializers.CharField(), source="scenario_codes", read_only=True,
                                      help_text="Matched scenario playbook codes; empty for a limited relay.")
    updated_at = utc_datetime()

    # A limited relay (victim services) carries the place and the number of victims only.
    LIMITED_KEEP = frozenset({"code", "occurred_at", "block", "district", "beat", "community_area", "victim_count",
                              "updated_at"})

    def limited(self, data: dict) -> dict:
        empty = {"victims": [], "scenarios": []}
        return {key: value if key in self.LIMITED_KEEP else empty.get(key) for key, value in data.items()}


class NotificationOutput(serializers.Serializer):
    code = serializers.UUIDField()
    kind = serializers.ChoiceField(choices=Notification.Kind.choices)
    organization = OrganizationRef()
    created_at = utc_datetime()
    reason = serializers.CharField(allow_blank=True)
    status = serializers.ChoiceField(choices=Notification.Status.choices)
    status_at = utc_datetime(allow_null=True)
    unable_reason = serializers.CharField(allow_blank=True)
    first_sent_at = utc_datetime(allow_null=True)
    acknowledged_at = utc_datetime(allow_null=True)
    acknowledged_by = serializers.CharField(source="acknowledged_by.username", allow_null=True, default=None)
    acknowledged_via = serializers.CharField(allow_blank=True)
    arrived_at = utc_datetime(allow_null=True)
    responded = serializers.BooleanField()
    response_category = serializers.CharField(allow_blank=True)
    incident = OutreachIncidentOutput(allow_null=True)

    def to_representation(self, instance):
        data = super().to_representation(instance)
        if data.get("incident") and instance.relay == Notification.Relay.LIMITED:
            data["incident"] = self.fields["incident"].limited(data["incident"])
        return data


def _notification_response(notification: Notification, *, code: int = status.HTTP_200_OK) -> Response:
    notification = _notifications_with_details(Notification.objects.filter(pk=notification.pk)).get()
    return Response(NotificationOutput(notification).data, status=code)


def _notifications_with_details(queryset):
    return queryset.select_related(
        "organization", "acknowledged_by", "incident__district", "incident__beat", "incident__community_area",
        "incident__hospital",
    ).prefetch_related("incident__victims", "incident__scenarios")


class NotificationListApi(ApiView):
    """The caller's organisation's notifications, newest first."""

    roles = OUTREACH
    operation = Op.NOTIFICATIONS_READ

    class FilterSerializer(StrictSerializer):
        status = serializers.ChoiceField(choices=["unacknowledged", *Notification.Status.values], required=False)
        page = serializers.IntegerField(required=False, min_value=1)
        page_size = serializers.IntegerField(required=False, min_value=1, max_value=200)

    @extend_schema(
        operation_id="notifications_list", tags=["notifications"],
        parameters=[OpenApiParameter(
            "status", str, enum=["unacknowledged", *Notification.Status.values],
            description="`unacknowledged`: not yet acknowledged by anyone; or one status.")],
        responses=responses_with_errors({200: NotificationOutput(many=True)}),
    )
    def get(self, request):
        filters = NotificationListApi.FilterSerializer(data=query_filters(request))
        filters.is_valid(raise_exception=True)
        notifications = _notifications_with_details(notifications_for_user(request.user))
        wanted = filters.validated_data.get("status")
        if wanted == "unacknowledged":
            notifications = notifications.filter(acknowledged_at__isnull=True)
        elif wanted:
            notifications = notifications.filter(status=wanted)
        return self.paginate(notifications.order_by("-created_at", "-id"), NotificationOutput)


class NotificationAcknowledgeApi(ApiView):
    """Acknowledge; a second call returns the first acknowledgement unchanged. Stops escalation."""

    roles = OUTREACH
    operation = Op.NOTIFICATIONS_WRITE

    class InputSerializer(StrictSerializer):
        at = local_datetime(required=False, help_text="When it was acknowledged (an offline tap); default now.")

    @extend_schema(operation_id="notifications_acknowledge", parameters=[CODE_PARAMETER], tags=["notifications"],
                   request=InputSerializer,
                   responses=responses_with_errors({200: NotificationOutput}, write=True))
    def post(self, request, code):
        notification = get_notification_for_user(request.user, code)
        data = NotificationAcknowledgeApi.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        notification = notification_acknowledge(notification=notification, actor=request.user, via="api",
                                                at=data.validated_data.get("at"))
        return _notification_response(notification)


class NotificationStatusApi(ApiView):
    """A status tap (en route, on scene, at hospital, unable with a reason); acknowledges first if nobody has."""

    roles = OUTREACH
    operation = Op.NOTIFICATIONS_WRITE

    class InputSerializer(StrictSerializer):
        status = serializers.ChoiceField(choices=TAP_STATUSES)
        at = local_datetime(required=False, allow_null=True)
        reason = serializers.ChoiceField(choices=Notification.UnableReason.choices, required=False, allow_blank=True,
                                         help_text="Required with `unable`.")

    @extend_schema(
        operation_id="notifications_status", parameters=[CODE_PARAMETER], tags=["notifications"],
        request=InputSerializer,
        responses=responses_with_errors({200: NotificationOutput}, write=True),
        examples=[OpenApiExample("On scene", request_only=True, value={"status": "on_scene"}),
                  OpenApiExample("Unable", request_only=True, value={"status": "unable", "reason": "unsafe"})],
    )
    def post(self, request, code):
        notification = get_notification_for_user(request.user, code)
        data = NotificationStatusApi.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        notification = notification_status_set(notification=notification, actor=request.user, source="api",
                                               **data.validated_data)
        return _notification_response(notification)


# --- webhooks (the organisation's supervisor) ---------------------------------------------

def _organization_for_supervisor(request, code) -> Organization:
    """The supervisor's own organisation; any other code is a 404 (never say it exists)."""
    organization = organization_by_code(code, organization_id=scope_of(request.user).organization_id)
    if organization is None:
        raise Http404("No such organisation.")
    return organization


class DeliveryOutput(serializers.Serializer):
    code = serializers.UUIDField()
    kind = serializers.ChoiceField(choices=Channel.Kind.choices)
    purpose = serializers.ChoiceField(choices=Delivery.Purpose.choices)
    target = serializers.CharField(allow_blank=True)
    status = serializers.ChoiceField(choices=Delivery.Status.choices)
    attempts = serializers.IntegerField()
    created_at = utc_datetime()
    sent_at = utc_datetime(allow_null=True)
    delivered_at = utc_datetime(allow_null=True)
    next_attempt_at = utc_datetime(allow_null=True)
    last_error = serializers.CharField(allow_blank=True)
    notification = serializers.UUIDField(source="notification.code", allow_null=True, default=None)


class WebhookTestApi(ApiView):
    """Send a test event now: a drill to every channel of the organisation, its webhook included."""

    roles = frozenset({Role.OUTREACH_SUPERVISOR})
    operation = Op.NOTIFICATIONS_WRITE

    class OutputSerializer(serializers.Serializer):
        notification = serializers.UUIDField(source="code")
        deliveries = DeliveryOutput(many=True)

    @extend_schema(operation_id="organizations_webhook_test", parameters=[CODE_PARAMETER], tags=["webhooks"],
                   request=None,
                   responses=responses_with_errors({202: OutputSerializer}, write=True))
    def post(self, request, code):
        organization = _organization_for_supervisor(request, code)
        notification = notification_drill_send(organization=organization, actor=request.user)
        notification = Notification.objects.prefetch_related(
            Prefetch("deliveries", queryset=Delivery.objects.select_related("notification"))).get(pk=notification.pk)
        return Response(WebhookTestApi.OutputSerializer(notification).data, status=status.HTTP_202_ACCEPTED)


class DeliveryListApi(ApiView):
    """The organisation's latest webhook deliveries and their status, newest first.

    Every member sees the organisation's shared channels (webhook by default); only the
    supervisor may list a kind that goes to people (SMS, email, push, in-app), since those
    targets are colleagues' phone numbers and addresses.
    """

    roles = frozenset(OUTREACH_ROLES)
    operation = Op.NOTIFICATIONS_READ

    class FilterSerializer(StrictSerializer):
        kind = serializers.ChoiceField(choices=Channel.Kind.choices, required=False, default=Channel.Kind.WEBHOOK)
        page = serializers.IntegerField(required=False, min_value=1)
        page_size = serializers.IntegerField(required=False, min_value=1, max_value=200)

    @extend_schema(
        operation_id="organizations_deliveries", tags=["webhooks"],
        parameters=[CODE_PARAMETER, OpenApiParameter("kind", str, enum=Channel.Kind.values,
                                                     description="Channel kind; default `webhook`.")],
        responses=responses_with_errors({200: DeliveryOutput(many=True)}),
    )
    def get(self, request, code):
        organization = _organization_for_supervisor(request, code)
        filters = DeliveryListApi.FilterSerializer(data=query_filters(request))
        filters.is_valid(raise_exception=True)
        deliveries = Delivery.objects.filter(notification__organization=organization,
                                             kind=filters.validated_data["kind"])
        if not scope_of(request.user).is_supervisor:
            deliveries = deliveries.filter(channel__user__isnull=True, recipient__isnull=True)
        return self.paginate(deliveries.select_related("notification").order_by("-created_at", "-id"), DeliveryOutput)
