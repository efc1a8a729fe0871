"""The monthly report: the page, its PDF, the published versions and "Publish now".

Who (READERS): analysts any district, several, or the whole city (no district asked for);
commanders and CPD desk staff their own district (asked for or not); outreach users and admins
403; anonymous visitors the login page. Publishing (POST): analysts any report, commanders their
own district's.

Bad input is a page that says what is wrong, never a server error: a malformed or future month
400, a district that does not exist 404, a district the user may not read 403, a version that
does not exist or is not the user's to read 404.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from audit.models import Source
from core.exceptions import Conflict, NotAllowed
from districts.access import require_role, scope_of
from districts.models import District, Role

from . import report
from .models import MonthlyReport
from .selectors import Month
from .selectors_dashboard import shifted
from .services import monthly_report_context, monthly_report_publish, monthly_report_publishable_by
from .summaries import first_day

READERS = (Role.CPD_STAFF, Role.CPD_COMMANDER, Role.ANALYST)
PUBLISHERS = (Role.CPD_COMMANDER, Role.ANALYST)


class BadRequest(Exception):
    """Input the page refuses, with the status and the message to show."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.status = status


def _error(request, problem: BadRequest):
    return render(request, "reviews/report_error.html", {"message": str(problem)}, status=problem.status)


def _month(text: str) -> Month:
    try:
        month = Month.parse(text)
        report.check_month(month)
    except ValueError as error:  # report.ReportError is a ValueError too
        raise BadRequest(str(error)) from None
    return month


def _districts(user, numbers: list[str]) -> list[District] | None:
    """The districts asked for, as the user may read them; None for the whole city (analysts,
    no district asked for). A CPD user who asks for none gets their own district."""
    scope = scope_of(user)
    numbers = sorted({n.strip().zfill(3) for n in numbers if n.strip()})
    if not numbers:
        if scope.is_analyst:
            return None
        return [District.objects.defer("boundary").get(pk=scope.district_id)]
    found = list(District.objects.defer("boundary").filter(number__in=numbers).order_by("number"))
    if len(found) != len(numbers):
        missing = sorted(set(numbers) - {d.number for d in found})
        raise BadRequest(_("There is no district %(number)s.") % {"number": ", ".join(missing)}, status=404)
    if not scope.is_analyst and {d.pk for d in found} != {scope.district_id}:
        own = District.objects.defer("boundary").get(pk=scope.district_id)
        raise BadRequest(_("You may see the reports of %(district)s only.") % {"district": report.district_label(own)},
                         status=403)
    return found


def _after(month: Month, other: Month) -> bool:
    return (month.year, month.month) > (other.year, other.month)


def _query(districts: list[District] | None) -> str:
    return ("?" + urlencode([("district", d.number) for d in districts], doseq=True)) if districts else ""


def _report_url(month: Month, districts, *, pdf: bool = False) -> str:
    name = "reviews:report_pdf" if pdf else "reviews:report"
    return reverse(name, kwargs={"month": month.label}) + _query(districts)


@login_required
@require_GET
def report_page(request, month: str):
    require_role(request.user, *READERS)
    try:
        month_asked = _month(month)
        districts = _districts(request.user, request.GET.getlist("district"))
    except BadRequest as problem:
        return _error(request, problem)
    context = monthly_report_context(month=month_asked, districts=districts)
    following = shifted(month_asked, 1)
    return render(request, "reviews/report.html", {
        **context, "for_print": False,
        "pdf_url": _report_url(month_asked, districts, pdf=True),
        "previous_url": _report_url(shifted(month_asked, -1), districts),
        "next_url": None if _after(following, report.current_month()) else _report_url(following, districts),
        "can_publish": monthly_report_publishable_by(request.user, districts),
    })


def _pdf_response(pdf: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    return response


def _filename(month: Month, scope: str, version: int | None = None) -> str:
    suffix = f"-v{version}" if version else ""
    return f"cvi-report-{month.label}-{scope.replace(':', '-').replace(',', '-')}{suffix}.pdf"


@login_required
@require_GET
def report_pdf(request, month: str):
    """The report as it stands now, as a PDF in the page's language (not kept: publishing keeps)."""
    require_role(request.user, *READERS)
    try:
        month_asked = _month(month)
        districts = _districts(request.user, request.GET.getlist("district"))
    except BadRequest as problem:
        return _error(request, problem)
    context = monthly_report_context(month=month_asked, districts=districts)
    pdf = report.render_pdf(report.render_document(context), base_url=request.build_absolute_uri("/"))
    return _pdf_response(pdf, _filename(month_asked, context["scope"]))


def _versions_for(user, month: Month):
    """The month's published versions the user may read, newest first; never the documents."""
    scope = scope_of(user)
    versions = MonthlyReport.objects.filter(month=first_day(month)).defer("pdf", "html").select_related(
        "published_by").order_by("scope", "-version")
    if scope.is_analyst:
        return versions
    own = District.objects.defer("boundary").get(pk=scope.district_id)
    return versions.filter(scope=report.report_scope([own]))


def _scopes_for(user, month: Month) -> list[dict]:
    """The reports the list page offers: the whole city and each pilot district (analysts), the
    user's own district (CPD)."""
    scope = scope_of(user)
    if scope.is_analyst:
        choices = [None, *([d] for d in District.objects.defer("boundary").filter(is_pilot=True).order_by("number"))]
    else:
        choices = [[District.objects.defer("boundary").get(pk=scope.district_id)]]
    return [{"label": report.scope_label(districts), "url": _report_url(month, districts),
             "pdf_url": _report_url(month, districts, pdf=True),
             "numbers": [d.number for d in districts or []],
             "can_publish": monthly_report_publishable_by(user, districts)} for districts in choices]


@login_required
@require_GET
def reports(request):
    require_role(request.user, *READERS)
    try:
        month = _month(request.GET["month"]) if request.GET.get("month") else shifted(report.current_month(), -1)
    except BadRequest as problem:
        return _error(request, problem)
    return render(request, "reviews/report_versions.html", {
        "month": month, "month_name": report.month_name(month),
        "versions": [{"version": v, "label": report.scope_label(_scope_districts(v))}
                     for v in _versions_for(request.user, month)],
        "scopes": _scopes_for(request.user, month),
        "previous_month": shifted(month, -1),
        "next_month": None if _after(shifted(month, 1), report.current_month()) else shifted(month, 1),
    })


def _scope_districts(version: MonthlyReport) -> list[District] | None:
    if not version.district_numbers:
        return None
    return list(District.objects.defer("boundary").filter(number__in=version.district_numbers).order_by("number"))


@login_required
@require_GET
def report_version(request, code):
    """One published version's PDF, exactly as it was sent."""
    require_role(request.user, *READERS)
    try:
        version = MonthlyReport.objects.get(code=code)
    except MonthlyReport.DoesNotExist:
        raise Http404("No such report.") from None
    if not version.readable_by(request.user):
        raise Http404("No such report.")
    month = Month(version.month.year, version.month.month)
    return _pdf_response(bytes(version.pdf), _filename(month, version.scope, version.version))


@login_required
@require_POST
def report_publish(request):
    require_role(request.user, *PUBLISHERS)
    try:
        month = _month(request.POST.get("month", ""))
        districts = _districts(request.user, request.POST.getlist("district"))
    except BadRequest as problem:
        return _error(request, problem)
    try:
        published = monthly_report_publish(month=month, districts=districts, actor=request.user,
                                           language=get_language() or "en", source=Source.WEB)
    except (NotAllowed, Conflict) as refused:
        return _error(request, BadRequest(str(refused), status=403 if isinstance(refused, NotAllowed) else 409))
    messages.success(request, _("Published version %(version)s of the report; emailed to %(count)s people.") % {
        "version": published.version, "count": published.recipients})
    return redirect(reverse("reviews:reports") + f"?month={month.label}")
