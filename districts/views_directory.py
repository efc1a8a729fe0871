"""The organisation directory: per district, the organisations covering it, on a coverage map
drawn from the portal's own polygons (districts.maps), with each one's liaison for CPD.
Readable by CPD, analysts, outreach and administrators."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from .access import require_role
from .maps import coverage_map
from .models import Role
from .selectors import directory_district as directory_district_select
from .selectors import directory_districts, districts_all

DIRECTORY_ROLES = (Role.CPD_STAFF, Role.CPD_COMMANDER, Role.OUTREACH_WORKER, Role.OUTREACH_SUPERVISOR,
                   Role.ANALYST, Role.ADMIN)


@login_required
@require_GET
def directory(request):
    """The directory's first page: CPD go straight to their district; others pick one."""
    scope = require_role(request.user, *DIRECTORY_ROLES)
    if number := request.GET.get("number", "").strip():
        return redirect("districts:directory_district", number=number[:10])
    if scope.is_cpd:
        return redirect("districts:directory_district", number=request.user.membership.district.number)
    return render(request, "districts/directory.html", {
        "mine": directory_districts(scope), "districts": districts_all().order_by("number"), "nav": "directory"})


@login_required
@require_GET
def directory_district(request, number):
    """One district: its coverage map and the organisations covering it, with their liaison for
    CPD, partner type and whether they signed the Professional Understanding."""
    require_role(request.user, *DIRECTORY_ROLES)
    found = directory_district_select(number)
    if found is None:
        return render(request, "includes/problem.html", {
            "message": _("There is no police district numbered %(number)s.") % {"number": number[:10]},
            "back_url": "districts:directory", "back_label": _("The organisation directory")}, status=404)
    district, organizations, area_numbers = found
    return render(request, "districts/directory_district.html", {
        "district": district, "map": coverage_map(district, organizations, area_numbers),
        "districts": districts_all().order_by("number"), "nav": "directory"})
