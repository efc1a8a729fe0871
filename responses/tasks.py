from celery import shared_task

from .retention import retention_purge
from .services import followup_reminders_send


@shared_task(name="responses.tasks.followup_reminders", ignore_result=True)
def followup_reminders() -> int:
    """Beat runs this every 15 minutes. Safe to run twice: each follow-up is claimed once (`reminded_at`)."""
    return followup_reminders_send()


@shared_task(name="responses.tasks.retention_purge", ignore_result=True)
def retention_purge_task() -> dict[str, int]:
    """Beat runs this nightly (02:45 Chicago): victims' details and notes past their retention."""
    return retention_purge()
