from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render

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
        # The feed lives in `responses/` (above this app): reach it by URL name, not by import.
        return redirect("responses:feed")
    if scope.citywide:
        return render(request, "districts/home_citywide.html", {
            "districts": pilot_districts(),
            "organizations": Organization.objects.filter(active=True).prefetch_related(
                "coverage__community_area"
            ),
        })
    return render(request, "districts/home_nobody.html", status=403)
