"""The playbooks in Spanish: an outreach member who reads Spanish gets the playbook titles and
steps in Spanish, and an administrator's refused rule reads in Spanish too."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone, translation

from districts.models import Membership
from notifications.services import incident_create
from protocols.services_playbooks import playbook_save


def test_a_spanish_reading_member_gets_the_playbooks_in_spanish(client, playbooks, cpd_user, worker):
    Membership.objects.filter(user=worker).update(language="es")
    incident, _ = incident_create(actor=cpd_user, source="web", occurred_at=timezone.now() - timedelta(minutes=5),
                                  block="6300 S HALSTED ST", district="007", community_area=68,
                                  victims=[{"age_band": "30-39", "sex": "M", "fatal": True, "gunshot": True}])
    notification = incident.notifications.get(organization__name="Public Equity")
    client.force_login(worker)
    body = client.get(reverse("responses:incident", args=[notification.code])).content.decode()
    assert "Protocolos" in body and "Tiroteo mortal" in body
    assert "Busque a la familia; ofrezca primero compañía y ayuda práctica." in body
    assert "Find the family" not in body


def test_a_refused_rule_reads_in_spanish(admin_user):
    with translation.override("es"), pytest.raises(ValidationError) as refused:
        playbook_save(actor=admin_user, code="x", title="X", rules=[{"field": "clima", "op": "is"}],
                      checklists={"outreach": [{"en": "Go."}]})
    assert refused.value.message_dict["rules"][0].startswith("La regla 1 nombra un campo desconocido «clima»")
