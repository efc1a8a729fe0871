import pytest
from django.apps import apps

from protocols.models import ProtocolDocument
from protocols.seed import protocols_seed


@pytest.fixture
def seeded(reference_data):
    """The four documents and the pathways (the data migration's seed; transactional tests flush it)."""
    protocols_seed(apps)
    return {d.slug: d for d in ProtocolDocument.objects.all()}
