from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render

from .access import scope_of
from .selectors import citywide_overview, district_desk


@login_required
def home(request):
    """Each role's home page: CPD the district desk, outreach the feed, analysts the city."""
    scope = scope_of(request.user)
    if scope.is_cpd:
        district, organizations = district_desk(scope.district_id)
        return render(request, "districts/home_cpd.html", {"district": district, "organizations": organizations})
    if scope.is_outreach:
        # The feed lives in `responses/` (above this app): reach it by URL name, not by import.
        return redirect("responses:feed")
    if scope.citywide:
        return render(request, "districts/home_citywide.html", citywide_overview())
    return render(request, "districts/home_nobody.html", status=403)
