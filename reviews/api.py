"""The monthly review figures over the API (API.md "Monthly review figures").

Analysts read every district (or the ones they ask for); commanders read their own district
only. The figures are the review table's (reviews.selectors): analysts see them as they are,
a commander's leave the review table, so their counts of 1 to 3 read "≤3".
"""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response

from core.api import ApiView, StrictSerializer, query_filters, responses_with_errors
from districts.access import scope_of
from districts.api_fields import DistrictField
from districts.models import District, Role

from .selectors import Month, suppressed
from .services import monthly_reviews

READERS = frozenset({Role.ANALYST, Role.CPD_COMMANDER})


class ReviewMonthlyApi(ApiView):
    """One month's figures per district, per organisation notified there, and for the pilot."""

    roles = READERS

    class FilterSerializer(StrictSerializer):
        district = DistrictField(required=False, help_text="A district number such as 007; commanders: their own.")

    @extend_schema(
        operation_id="reviews_monthly", tags=["reviews"],
        parameters=[OpenApiParameter("month", str, OpenApiParameter.PATH, pattern=r"^\d{4}-(0[1-9]|1[0-2])$",
                                     description="YYYY-MM, Chicago time."),
                    OpenApiParameter("district", str, description="A district number such as 007.")],
        responses=responses_with_errors({200: OpenApiTypes.OBJECT}),
        examples=[OpenApiExample("A month in the 7th District", response_only=True, value={
            "month": "2026-03", "districts": [{"district": "007", "incidents": 14, "victims": 17, "fatal": 4,
                                               "notified": 14, "notification_coverage": 1.0,
                                               "minutes_occurred_to_entered": {"median": 6.0, "p90": 14.2}}],
            "organizations": [], "pilot": {}})],
    )
    def get(self, request, month):
        try:
            chosen = Month.parse(month)
        except ValueError as error:
            raise serializers.ValidationError({"month": [str(error)]}) from None
        filters = ReviewMonthlyApi.FilterSerializer(data=query_filters(request))
        filters.is_valid(raise_exception=True)
        scope = scope_of(request.user)
        district = filters.validated_data.get("district")
        districts = [district] if district is not None else None
        if scope.is_cpd:
            if district is not None and district.pk != scope.district_id:
                raise PermissionDenied("A commander reads their own district's figures only.")
            districts = [District.objects.defer("boundary").get(pk=scope.district_id)]
        figures = monthly_reviews([chosen], districts=districts)[0]
        if not scope.is_analyst:
            figures = {**figures, "districts": [suppressed(d) for d in figures["districts"]],
                       "organizations": [suppressed(o) for o in figures["organizations"]],
                       "pilot": suppressed(figures["pilot"])}
        return Response(figures)
