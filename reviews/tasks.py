from celery import shared_task

from audit.models import Source
from core.dates import month_shift
from districts.models import District

from .models import MonthlyReport
from .report import current_month, report_scope
from .selectors import Month
from .services import monthly_report_publish, monthly_summaries_refresh
from .summaries import first_day


@shared_task(name="reviews.tasks.monthly_summaries_refresh", ignore_result=True)
def monthly_summaries_refresh_task() -> int:
    """Beat runs this nightly: every closed month of the last two years, for every scope."""
    return monthly_summaries_refresh()


@shared_task(name="reviews.tasks.monthly_reports_publish", ignore_result=True)
def monthly_reports_publish() -> list[str]:
    """Beat runs this on the first of each month: last month's report for each pilot district and
    for the whole city, published and emailed, in English. Safe to run twice: a scope that already
    has a scheduled version of that month is left alone (a person's "Publish now" still adds
    versions). Returns the codes of the versions published."""
    now = current_month()
    month = Month(*month_shift(now.year, now.month, -1))
    pilots = [[district] for district in District.objects.defer("boundary").filter(is_pilot=True).order_by("number")]
    scheduled = set(MonthlyReport.objects.filter(month=first_day(month), published_by__isnull=True)
                    .values_list("scope", flat=True))
    return [str(monthly_report_publish(month=month, districts=districts, actor=None, language="en",
                                       source=Source.SYSTEM).code)
            for districts in [*pilots, None] if report_scope(districts) not in scheduled]
