"""The cast, after healthchecks' alice, bob and charlie.

- `cpd_user`: district desk staff in the 7th District (Englewood).
- `commander`: the 7th District's commander.
- `worker` / `supervisor`: at Public Equity, which covers Englewood and West Englewood.
- `other_worker`: at ALSO, which covers the north-west side and not Englewood.
- `analyst`, `admin_user`: citywide.
Geography and organisations are the real shipped files, loaded once per database.
"""

import pytest
from django.apps import apps as django_apps
from django.contrib.auth import get_user_model
from django.utils import translation

from districts.loaders import load_geography, load_organizations
from districts.models import District, Membership, Organization, Role
from protocols.models import ProtocolDocument
from protocols.seed import protocols_seed

PASSWORD = "test-password-123"  # noqa: S105

# Debian's Chromium for every browser test (pytest-playwright), without the background network
# calls this machine's closed network refuses. Each browser test module sets its own context.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"]

ENGLEWOOD_POINT = (41.7796, -87.6446)  # S Halsted St & W 63rd St: 7th District, Englewood
AUSTIN_POINT = (41.8873, -87.7653)  # W Chicago Ave & N Central Ave: 15th District, Austin


@pytest.fixture(autouse=True)
def _english_between_tests():
    """A page in Spanish leaves Spanish active on the test's thread (the language middleware
    activates it per request, as Django's does); the next test starts from the default again."""
    yield
    translation.activate("en")


def ensure_reference_data() -> None:
    """Load geography, organisations and the seeded protocols unless present (transactional
    tests flush them, migrations' seed rows included)."""
    if not District.objects.exists():
        load_geography()
    if not Organization.objects.exists():
        load_organizations()
    if not ProtocolDocument.objects.exists():
        protocols_seed(django_apps)


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        ensure_reference_data()


@pytest.fixture
def reference_data(db):
    ensure_reference_data()


def make_member(username: str, role: str, *, district: str | None = None, organization: str | None = None):
    user = get_user_model().objects.create_user(
        username=username, password=PASSWORD, email=f"{username}@example.org",
        first_name=username.split("_")[0].title(),
    )
    Membership.objects.create(
        user=user, role=role,
        district=District.objects.get(number=district) if district else None,
        organization=Organization.objects.get(name=organization) if organization else None,
    )
    return user


COVERING_ORG = "Public Equity"
OTHER_ORG = "ALSO (Alliance of Local Service Organizations)"


@pytest.fixture
def englewood(reference_data):
    return District.objects.get(number="007")


@pytest.fixture
def covering_org(reference_data):
    return Organization.objects.get(name=COVERING_ORG)


@pytest.fixture
def other_org(reference_data):
    return Organization.objects.get(name=OTHER_ORG)


@pytest.fixture
def cpd_user(reference_data):
    return make_member("dana_cpd", Role.CPD_STAFF, district="007")


@pytest.fixture
def commander(reference_data):
    return make_member("marcus_commander", Role.CPD_COMMANDER, district="007")


@pytest.fixture
def other_district_user(reference_data):
    return make_member("kim_cpd15", Role.CPD_STAFF, district="015")


@pytest.fixture
def worker(reference_data):
    return make_member("tasha_worker", Role.OUTREACH_WORKER, organization=COVERING_ORG)


@pytest.fixture
def supervisor(reference_data):
    return make_member("luis_supervisor", Role.OUTREACH_SUPERVISOR, organization=COVERING_ORG)


@pytest.fixture
def other_worker(reference_data):
    return make_member("sam_other", Role.OUTREACH_WORKER, organization=OTHER_ORG)


@pytest.fixture
def analyst(reference_data):
    return make_member("priya_analyst", Role.ANALYST)


@pytest.fixture
def admin_user(reference_data):
    user = make_member("jordan_admin", Role.ADMIN)
    user.is_staff = user.is_superuser = True
    user.save()
    return user


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {**browser_type_launch_args, "executable_path": "/usr/bin/chromium", "args": CHROMIUM_ARGS}
