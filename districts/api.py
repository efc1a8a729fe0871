"""Reference data (API.md): districts with their beats, community areas and covering
organisations; organisations; hospitals. Any member may read them; a token needs `reference:read`."""

from django.conf import settings
from django.contrib.auth import authenticate
from django.http import Http404
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import PermissionDenied, Throttled, ValidationError
from rest_framework.response import Response

from core.api import ApiView, StrictSerializer, responses_with_errors, utc_datetime

from .access import organizations_for_user
from .api_auth import LoginRateThrottle
from .auth import api_second_factor_problem
from .models import IntegrationToken
from .selectors import (
    community_areas_in_district,
    district_by_number,
    districts_all,
    hospitals_all,
    organizations_in_district,
)
from .services import user_token_create

REFERENCE = IntegrationToken.Operation.REFERENCE_READ


class OrganizationOutput(serializers.Serializer):
    code = serializers.UUIDField()
    name = serializers.CharField()
    short_name = serializers.CharField()
    partner_type = serializers.CharField()
    active = serializers.BooleanField()
    signed_understanding = serializers.BooleanField()


class DistrictListApi(ApiView):
    """CPD districts, by number (three digits)."""

    operation = REFERENCE

    class OutputSerializer(serializers.Serializer):
        number = serializers.CharField()
        name = serializers.CharField()
        is_pilot = serializers.BooleanField()
        station_address = serializers.CharField()
        station_phone = serializers.CharField()

    @extend_schema(
        operation_id="districts_list", tags=["reference"],
        responses=responses_with_errors({200: OutputSerializer(many=True)}),
        examples=[OpenApiExample("Englewood", response_only=True, value={
            "count": 1, "next": None, "previous": None, "results": [
                {"number": "007", "name": "Englewood", "is_pilot": True,
                 "station_address": "1438 W 63rd St", "station_phone": "312-747-8223"}]})],
    )
    def get(self, request):
        return self.paginate(districts_all(), self.OutputSerializer)


class DistrictDetailApi(ApiView):
    """A district with its beats, the community areas it overlaps and the organisations covering it."""

    operation = REFERENCE

    class OutputSerializer(serializers.Serializer):
        class BeatOutput(serializers.Serializer):
            number = serializers.CharField()
            sector = serializers.CharField()

        class AreaOutput(serializers.Serializer):
            number = serializers.IntegerField()
            name = serializers.CharField(source="display_name")

        number = serializers.CharField()
        name = serializers.CharField()
        is_pilot = serializers.BooleanField()
        station_address = serializers.CharField()
        station_phone = serializers.CharField()
        beats = BeatOutput(many=True)
        community_areas = AreaOutput(many=True)
        organizations = OrganizationOutput(many=True)

    @extend_schema(
        operation_id="districts_retrieve", tags=["reference"],
        parameters=[OpenApiParameter("number", str, OpenApiParameter.PATH,
                                     description="Three digits (`007`); `7` is accepted.")],
        responses=responses_with_errors({200: OutputSerializer}),
    )
    def get(self, request, number: str):
        district = district_by_number(number)
        if district is None:
            raise Http404("No such district.")
        # The polygon work behind both is cached per process in `geo`; coverage edits show at once.
        district.community_areas = community_areas_in_district(district).defer("boundary")
        district.organizations = organizations_in_district(district)
        return Response(self.OutputSerializer(district).data)


class OrganizationListApi(ApiView):
    """Outreach callers see their own organisation; everyone else sees all of them."""

    operation = REFERENCE
    OutputSerializer = OrganizationOutput

    @extend_schema(operation_id="organizations_list", tags=["reference"],
                   responses=responses_with_errors({200: OrganizationOutput(many=True)}))
    def get(self, request):
        return self.paginate(organizations_for_user(request.user).order_by("name"), self.OutputSerializer)


class HospitalListApi(ApiView):
    """Hospitals by code (the `hospital` of an incident), with trauma levels and violence intervention."""

    operation = REFERENCE

    class OutputSerializer(serializers.Serializer):
        code = serializers.CharField()
        name = serializers.CharField()
        area = serializers.CharField()
        adult_trauma_level = serializers.CharField()
        pediatric_trauma_level = serializers.CharField()
        violence_intervention = serializers.CharField()
        active = serializers.BooleanField()

    @extend_schema(operation_id="hospitals_list", tags=["reference"],
                   responses=responses_with_errors({200: OutputSerializer(many=True)}))
    def get(self, request):
        return self.paginate(hospitals_all(), self.OutputSerializer)


class TokenCreateApi(ApiView):
    """A person's API token for `Authorization: Token <token>`.

    Each sign-in issues a new token, stored hashed; it expires after `USER_TOKEN_LIFETIME_DAYS`
    (`expires_at`) and ends earlier with a password change, deactivation or log out everywhere.
    Wrong passwords count towards the same lockout as the web login (django-axes: the username
    from this address, and the address alone), besides the per-address rate limit. A user with
    two-factor authentication also sends `code`; a role that needs it and has not set it up gets
    a 403 until they do.
    """

    permission_classes = []
    authentication_classes = []
    throttle_classes = [LoginRateThrottle]

    class InputSerializer(StrictSerializer):
        username = serializers.CharField(max_length=150)
        password = serializers.CharField(max_length=256, style={"input_type": "password"}, trim_whitespace=False)
        code = serializers.CharField(max_length=64, required=False, allow_blank=True,
                                     help_text="With two-factor authentication: a code from the authenticator app, "
                                               "or a recovery code.")

    class OutputSerializer(serializers.Serializer):
        token = serializers.CharField()
        expires_at = utc_datetime()

    @extend_schema(
        operation_id="auth_token_create", tags=["auth"], auth=[], request=InputSerializer,
        responses=responses_with_errors({200: OutputSerializer}, write=True),
        examples=[
            OpenApiExample("Sign in", request_only=True, value={"username": "dana", "password": "…"}),
            OpenApiExample("Token", response_only=True, value={
                "token": "cvu_Yb2kU9xg0mQd7L3rVt6pHs1nWc8aZeJf4oKi5yXuBqE", "expires_at": "2027-01-01T06:00:00Z"}),
        ],
    )
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = authenticate(request._request, username=data.validated_data["username"],
                            password=data.validated_data["password"])
        if getattr(request._request, "axes_locked_out", False):
            raise Throttled(detail="Too many failed sign-ins from this address: try again later.",
                            wait=settings.AXES_COOLOFF_TIME.total_seconds())
        if user is None or not user.is_active:
            raise ValidationError({"non_field_errors": ["Unable to sign in with these credentials."]})
        problem = api_second_factor_problem(user, data.validated_data.get("code", ""))
        if problem is not None:
            field, message = problem
            if not field:
                raise PermissionDenied(message)
            raise ValidationError({field: [message]})
        token, raw = user_token_create(user=user, source="api")
        return Response(self.OutputSerializer({"token": raw, "expires_at": token.expires_at}).data)
