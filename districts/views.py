from django.contrib.auth.decorators import login_required
from django.db.models import Count, Q
from django.shortcuts import redirect, render

from .access import scope_of
from .models import CommunityArea, Coverage, District, Organization
from .selectors import community_areas_in_district, organizations_in_district, pilot_districts


@login_required
def home(request):
    """Each role's home page: CPD the district desk, outreach the feed, analysts the city."""
    scope = scope_of(request.user)
    if scope.is_cpd:
        district = District.objects.get(pk=scope.district_id)
        area_ids = set(community_areas_in_district(district).values_list("pk", flat=True))
        organizations = list(organizations_in_district(district).prefetch_related("coverage__community_area"))
        for organization in organizations:
            # The community areas of this district the organisation covers, for the desk to read.
            organization.areas_here = [c.community_area for c in organization.coverage.all()
                                       if c.community_area_id in area_ids]
        return render(request, "districts/home_cpd.html", {"district": district, "organizations": organizations})
    if scope.is_outreach:
        # The feed lives in `responses/` (above this app): reach it by URL name, not by import.
        return redirect("responses:feed")
    if scope.citywide:
        organizations = Organization.objects.filter(active=True).prefetch_related("coverage__community_area")
        covered = Coverage.objects.filter(organization__active=True, community_area__isnull=False)
        return render(request, "districts/home_citywide.html", {
            "districts": pilot_districts(),
            "organizations": organizations,
            "stats": {
                "organizations": organizations.count(),
                "signed": organizations.filter(signed_understanding=True).count(),
                "areas_covered": covered.values("community_area").distinct().count(),
                "areas": CommunityArea.objects.count(),
                "multiply_covered": CommunityArea.objects.annotate(
                    n=Count("coverage", filter=Q(coverage__organization__active=True))).filter(n__gt=1).count(),
            },
        })
    return render(request, "districts/home_nobody.html", status=403)
