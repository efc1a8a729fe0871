"""get_FOO_display() through core.models.ChoiceLabels: the label in the language of the request,
from a table built once, and Django's answer for anything that is not a choice."""

import pytest
from django.apps import apps
from django.db import models
from django.utils import translation

from core.models import ChoiceLabels
from notifications.models import Notification
from responses.models import ResponseLog


def test_a_status_label_follows_the_active_language():
    notification = Notification(status=Notification.Status.ACKNOWLEDGED)
    with translation.override("en"):
        assert notification.get_status_display() == "Acknowledged"
    with translation.override("es"):
        assert notification.get_status_display() == "Confirmado"
    with translation.override("en"):  # the Spanish table did not replace the English one
        assert notification.get_status_display() == "Acknowledged"


def test_a_value_that_is_not_a_choice_reads_as_itself():
    assert Notification(status="retired").get_status_display() == "retired"
    assert Notification(unable_reason="").get_unable_reason_display() == ""
    assert Notification(response_category=None).get_response_category_display() is None


def test_an_unhashable_value_gets_djangos_answer():
    log = ResponseLog(retaliation_risk=["high"])  # not a key of any table
    field = ResponseLog._meta.get_field("retaliation_risk")
    assert log.get_retaliation_risk_display() == models.Model._get_FIELD_display(log, field) == "['high']"


@pytest.mark.parametrize("language", ["en", "es"])
def test_every_choice_of_every_model_reads_as_django_would(language):
    compared = 0
    with translation.override(language):
        for model in apps.get_models():
            if not issubclass(model, ChoiceLabels):
                continue
            for field in model._meta.concrete_fields:
                for value, _label in field.flatchoices:
                    instance = model(**{field.attname: value})
                    assert (getattr(instance, f"get_{field.name}_display")()
                            == models.Model._get_FIELD_display(instance, field)), (model, field.name, value)
                    compared += 1
    assert compared > 100
