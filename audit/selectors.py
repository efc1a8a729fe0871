from django.db.models import QuerySet

from .models import Event


def events_for_object(*, object_type: str, object_code: str) -> QuerySet[Event]:
    return Event.objects.filter(object_type=object_type, object_code=object_code).select_related("actor")
