import pytest
from django.apps import apps

from districts.loaders import load_partners
from protocols.models import ProtocolDocument
from protocols.seed import protocols_seed
from protocols.services_playbooks import load_playbooks


@pytest.fixture
def seeded(reference_data):
    """The four documents and the pathways (the data migration's seed; transactional tests flush it)."""
    protocols_seed(apps)
    return {d.slug: d for d in ProtocolDocument.objects.all()}


@pytest.fixture
def playbooks(reference_data):
    """The seeded partners and playbooks, as `make demo` and `make stack` load them."""
    load_partners()
    load_playbooks()
