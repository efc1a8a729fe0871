"""Administrators' configuration pages: the Administration hub, organisations and their
coverage, and the pilot districts (no Django admin needed).

Administrators only (every other role gets 403). Every write goes through `services_config`,
which checks everything before saving and writes the audit event; a refused form comes back
(400) with its messages and everything typed, and nothing saved.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_filters.views import FilterView
from django_tables2 import SingleTableMixin

from . import selectors_config as selectors
from .access import require_role
from .forms_config import CoverageForm, OrganizationForm, organization_initial
from .models import Role
from .services_config import (
    coverage_add,
    coverage_remove,
    district_pilot_set,
    organization_create,
    organization_update,
)
from .tables_config import OrganizationFilter, OrganizationTable


def _admin(request) -> None:
    require_role(request.user, Role.ADMIN)


def _get_organization(code):
    organization = selectors.organization_for_admin(code)
    if organization is None:
        raise Http404(_("No such organisation."))
    return organization


def _get_district(number):
    district = selectors.district_for_admin(number)
    if district is None:
        raise Http404(_("No such district."))
    return district


@login_required
@require_GET
def administration(request):
    """The administrator's hub: every configuration page, and the Django admin for the rest."""
    _admin(request)
    return render(request, "districts/administration.html")


# --- organisations ----------------------------------------------------------------------------

class OrganizationListView(LoginRequiredMixin, SingleTableMixin, FilterView):
    template_name = "districts/organization_list.html"
    table_class = OrganizationTable
    filterset_class = OrganizationFilter
    table_pagination = {"per_page": 50}
    http_method_names = ["get"]

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            _admin(request)
        return super().dispatch(request, *args, **kwargs)

    def get_queryset(self):
        return selectors.organizations_for_admin()

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["filter_invalid"] = self.filterset.is_bound and not self.filterset.is_valid()
        return context


def _save_organization(request, form, organization=None):
    """The saved organisation, or None with the service's messages on the form."""
    if not form.is_valid():
        return None
    try:
        if organization is None:
            return organization_create(actor=request.user, source="web", **form.service_values())
        return organization_update(organization=organization, actor=request.user, source="web",
                                   **form.service_values())
    except ValidationError as error:
        form.add_service_errors(error)
        return None


@login_required
@require_http_methods(["GET", "POST"])
def organization_new(request):
    _admin(request)
    form = OrganizationForm(request.POST if request.method == "POST" else None)
    if request.method == "POST":
        organization = _save_organization(request, form)
        if organization is not None:
            messages.success(request, _("Organisation “%(name)s” added. Add the places it covers.")
                             % {"name": organization.name})
            return redirect("districts:organization_edit", code=organization.code)
    return render(request, "districts/organization_new.html", {"form": form},
                  status=400 if form.is_bound else 200)


def _edit_page(request, organization, *, form=None, coverage_form=None, status=200):
    return render(request, "districts/organization_edit.html", {
        "organization": organization,
        "form": form or OrganizationForm(initial=organization_initial(organization)),
        "coverage": selectors.organization_coverage(organization),
        "coverage_form": coverage_form or CoverageForm(),
        "maps": selectors.organization_maps(organization),
    }, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def organization_edit(request, code):
    _admin(request)
    organization = _get_organization(code)
    if request.method == "GET":
        return _edit_page(request, organization)
    form = OrganizationForm(request.POST)
    saved = _save_organization(request, form, organization)
    if saved is None:
        return _edit_page(request, organization, form=form, status=400)
    messages.success(request, _("Organisation “%(name)s” saved.") % {"name": saved.name})
    return redirect("districts:organization_edit", code=saved.code)


@login_required
@require_POST
def organization_coverage_add(request, code):
    _admin(request)
    organization = _get_organization(code)
    form = CoverageForm(request.POST)
    if form.is_valid():
        try:
            coverage = coverage_add(organization=organization, actor=request.user, source="web",
                                    **form.service_values())
        except ValidationError as error:
            form.add_service_errors(error)
        else:
            place = selectors.place_label(coverage.place)
            messages.success(request, _("%(organization)s now covers %(place)s: incidents entered there from now on "
                                        "notify it.") % {"organization": organization, "place": place})
            return redirect("districts:organization_edit", code=organization.code)
    return _edit_page(request, organization, coverage_form=form, status=400)


@login_required
@require_POST
def organization_coverage_remove(request, code):
    _admin(request)
    organization = _get_organization(code)
    coverage = selectors.coverage_of(organization, request.POST.get("kind", ""), request.POST.get("number", ""))
    if coverage is None:
        raise Http404(_("The organisation does not cover that place."))
    place = selectors.place_label(coverage.place)
    coverage_remove(coverage=coverage, actor=request.user, source="web")
    messages.success(request, _("%(organization)s no longer covers %(place)s.")
                     % {"organization": organization, "place": place})
    return redirect("districts:organization_edit", code=organization.code)


# --- districts --------------------------------------------------------------------------------

@login_required
@require_GET
def district_list(request):
    _admin(request)
    return render(request, "districts/district_list.html", {"districts": selectors.districts_for_admin()})


@login_required
@require_http_methods(["GET", "POST"])
def district_pilot(request, number):
    """Turn the pilot on (one POST) or off (after this page's confirmation)."""
    _admin(request)
    district = _get_district(number)
    wanted = request.POST.get("is_pilot")
    if request.method == "GET" or (wanted == "no" and request.POST.get("confirm") != "yes"):
        return render(request, "districts/district_pilot_confirm.html", {"district": district})
    if wanted not in ("yes", "no"):
        return render(request, "includes/problem.html", {
            "message": _("Choose whether the district runs the pilot."),
            "back_url": "districts:district_list", "back_label": _("Districts")}, status=400)
    district = district_pilot_set(district=district, actor=request.user, source="web", is_pilot=wanted == "yes")
    if district.is_pilot:
        messages.success(request, _("%(district)s now runs the pilot.") % {"district": district.label})
    else:
        messages.success(request, _("%(district)s no longer runs the pilot.") % {"district": district.label})
    return redirect("districts:district_list")
