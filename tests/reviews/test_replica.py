"""The monthly review's figures come from the read replica when one is configured, and from the
primary otherwise or inside a transaction (which must see its own writes). The test settings'
`replica` alias points at the same test database, as a replica holds the same rows."""

import pytest
from django.db import connections, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from core.dates import local
from notifications.models import Incident
from reviews.selectors import Month, monthly_review

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "replica"])


def this_month() -> Month:
    today = local(timezone.now())
    return Month(today.year, today.month)


@pytest.fixture
def shooting(englewood):
    return Incident.objects.create(occurred_at=timezone.now(), block="6300 S HALSTED ST", district=englewood,
                                   victim_count=2)


def review_queries() -> tuple[dict, list, list]:
    with CaptureQueriesContext(connections["default"]) as primary, \
            CaptureQueriesContext(connections["replica"]) as replica:
        figures = monthly_review(month=this_month())
    return figures, primary.captured_queries, replica.captured_queries


def test_the_monthly_review_reads_from_the_replica_when_one_is_configured(settings, shooting):
    settings.DATABASE_REPLICA_ALIAS = "replica"
    figures, on_primary, on_replica = review_queries()
    assert on_replica and not on_primary
    assert (figures["pilot"]["incidents"], figures["pilot"]["victims"]) == (1, 2)
    assert [d["incidents"] for d in figures["districts"] if d["district"] == "007"] == [1]


def test_without_a_replica_every_read_goes_to_the_primary(settings, shooting):
    settings.DATABASE_REPLICA_ALIAS = None
    figures, on_primary, on_replica = review_queries()
    assert on_primary and not on_replica
    assert figures["pilot"]["incidents"] == 1


def test_inside_a_transaction_the_review_reads_the_primary_and_sees_its_own_writes(settings, englewood):
    settings.DATABASE_REPLICA_ALIAS = "replica"
    with transaction.atomic():
        Incident.objects.create(occurred_at=timezone.now(), block="6400 S HALSTED ST", district=englewood,
                                victim_count=1)
        figures, on_primary, on_replica = review_queries()
    assert on_primary and not on_replica
    assert figures["pilot"]["incidents"] == 1


def test_a_row_read_from_the_replica_is_saved_to_the_primary(settings, shooting):
    settings.DATABASE_REPLICA_ALIAS = "replica"
    from core.replica import replica_reads

    with replica_reads():
        incident = Incident.objects.get(pk=shooting.pk)
    assert incident._state.db == "replica"
    incident.block = "6500 S HALSTED ST"
    with CaptureQueriesContext(connections["default"]) as primary:
        incident.save(update_fields=["block"])
    assert any("UPDATE" in q["sql"] for q in primary.captured_queries)
    assert Incident.objects.using("default").get(pk=shooting.pk).block == "6500 S HALSTED ST"
