from celery import shared_task

from .services import followup_reminders_send


@shared_task(name="responses.tasks.followup_reminders", ignore_result=True)
def followup_reminders() -> int:
    """Beat runs this every 15 minutes. Safe to run twice: each follow-up is claimed once (`reminded_at`)."""
    return followup_reminders_send()
