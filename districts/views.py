from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from .access import scope_of
from .models import District, Organization
from .selectors import organizations_in_district, pilot_districts


@login_required
def home(request):
    """Each role's home page: CPD the district desk, outreach the feed, analysts the city."""
    scope = scope_of(request.user)
    if scope.is_cpd:
        district = District.objects.defer("boundary").get(pk=scope.district_id)
        return render(request, "districts/home_cpd.html", {
            "district": district,
            "organizations": organizations_in_district(District.objects.get(pk=scope.district_id)),
        })
    if scope.is_outreach:
        organization = Organization.objects.get(pk=scope.organization_id)
        coverage = organization.coverage.select_related("community_area", "beat", "district")
        return render(request, "districts/home_outreach.html", {
            "organization": organization, "coverage": coverage,
        })
    if scope.citywide:
        return render(request, "districts/home_citywide.html", {
            "districts": pilot_districts(),
            "organizations": Organization.objects.filter(active=True).prefetch_related(
                "coverage__community_area"
            ),
        })
    return render(request, "districts/home_nobody.html", status=403)
