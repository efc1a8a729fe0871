import pytest

from districts.loaders import load_partners
from protocols.services_playbooks import load_playbooks


@pytest.fixture
def playbooks(reference_data):
    """The seeded partners and playbooks, as `make demo` and `make stack` load them."""
    load_partners()
    load_playbooks()
