from celery import shared_task

from .services import monthly_summaries_refresh


@shared_task(name="reviews.tasks.monthly_summaries_refresh", ignore_result=True)
def monthly_summaries_refresh_task() -> int:
    """Beat runs this nightly: every closed month of the last two years, for every scope."""
    return monthly_summaries_refresh()
