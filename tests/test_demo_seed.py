"""`manage.py seed_demo`: real data, one account per role, and a second run changes nothing;
it refuses a database with accounts it did not create, and never touches one."""

import hashlib
from io import StringIO

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.db import models
from django.test import override_settings

from districts import demo as districts_demo
from districts.demo import DEMO_ACCOUNTS, DEMO_PASSWORD
from districts.models import Coverage, District, Membership, Organization, Role

pytestmark = pytest.mark.django_db

# Tables the seed does not own: sessions and permissions come from Django itself.
NOT_SEEDED = {"sessions.session", "admin.logentry", "auth.permission", "contenttypes.contenttype"}


def seed(*args: str) -> str:
    out = StringIO()
    call_command("seed_demo", *args, stdout=out)
    return out.getvalue()


def fingerprint() -> dict[str, tuple[int, str]]:
    """Per table: the row count and a hash of every row, primary keys included.

    Primary keys are part of it, so a seed that deleted and re-created a row would show;
    columns the database stamps on every save (auto_now) are left out.
    """
    prints = {}
    for model in apps.get_models():
        if model._meta.label_lower in NOT_SEEDED or model._meta.proxy:
            continue
        columns = [field.attname for field in model._meta.concrete_fields
                   if not getattr(field, "auto_now", False) and not isinstance(field, models.BinaryField)]
        rows = list(model.objects.order_by("pk").values_list(*columns))
        prints[model._meta.label_lower] = (len(rows), hashlib.sha256(repr(rows).encode()).hexdigest())
    return prints


def test_seeding_again_changes_nothing_and_keeps_a_password_someone_changed():
    seed()
    first = fingerprint()
    output = seed()
    assert fingerprint() == first
    assert "districts: 0 loaded, 0 updated, 23 unchanged, 0 rejected" in output
    assert "organizations: 0 loaded" in output

    user = get_user_model().objects.get(username="analyst")
    user.set_password("a-new-password-42")
    user.save()
    seed()
    assert get_user_model().objects.get(username="analyst").check_password("a-new-password-42")


def test_the_seed_loads_real_data_marks_nine_pilots_and_prints_working_accounts(client):
    output = seed()
    assert District.objects.get(number="007").name == "Englewood"
    assert Organization.objects.filter(name="Public Equity", coverage__community_area__number=68).exists()
    assert Coverage.objects.count() > 40

    assert list(District.objects.filter(is_pilot=True).values_list("number", flat=True)) == [
        "003", "004", "005", "006", "007", "008", "010", "011", "015"]
    assert "pilot districts (9, set PILOT_DISTRICTS to change): 003 Grand Crossing" in output

    assert f"password for all: {DEMO_PASSWORD}; demo only" in output
    for username, role, *_ in DEMO_ACCOUNTS:
        assert username in output
        user = get_user_model().objects.get(username=username)
        assert user.membership.role == role
        assert client.login(username=username, password=DEMO_PASSWORD), username
        client.logout()
    assert Membership.objects.get(user__username="cpd.staff").district.number == "007"
    assert Membership.objects.get(user__username="outreach.worker").organization.name == "Public Equity"
    assert get_user_model().objects.get(username="admin").is_superuser
    assert {m.role for m in Membership.objects.all()} == set(Role.values)


@override_settings(PILOT_DISTRICTS=["007", "011"])
def test_the_pilot_districts_follow_the_setting(reference_data):
    District.objects.filter(number="003").update(is_pilot=True)
    output = StringIO()
    districts_demo.seed(output)  # the districts part of seed_demo
    assert set(District.objects.filter(is_pilot=True).values_list("number", flat=True)) == {"007", "011"}
    assert "pilot districts (2, set PILOT_DISTRICTS to change): 007 Englewood, 011 Harrison" in output.getvalue()


def test_it_refuses_a_database_with_an_account_it_did_not_create_and_names_the_override():
    get_user_model().objects.create_user("maria.lopez", password="her-own-password-1")
    with pytest.raises(CommandError) as refused:
        seed()
    message = str(refused.value)
    assert "user accounts the demo seed did not create (maria.lopez)" in message
    assert "--allow-existing-users" in message
    assert list(get_user_model().objects.values_list("username", flat=True)) == ["maria.lopez"]
    assert not Membership.objects.exists()


def test_it_never_promotes_or_touches_an_existing_account_named_admin():
    existing = get_user_model().objects.create_user("admin", password="the-owners-password-1", email="o@cpd.test")
    with pytest.raises(CommandError):
        seed()
    output = seed("--allow-existing-users")

    existing.refresh_from_db()
    assert not existing.is_superuser and not existing.is_staff
    assert existing.check_password("the-owners-password-1") and not existing.check_password(DEMO_PASSWORD)
    assert existing.email == "o@cpd.test"
    assert not Membership.objects.filter(user=existing).exists()
    assert "admin: an account the seed did not create has this name; left as it is" in output
    assert not get_user_model().objects.filter(is_superuser=True).exists()


def test_with_the_override_it_seeds_beside_existing_accounts_and_a_second_run_changes_nothing(client):
    get_user_model().objects.create_user("maria.lopez", password="her-own-password-1")
    output = seed("--allow-existing-users")
    for username, _, *_ in DEMO_ACCOUNTS:
        assert f"  {username:<22}" in output
        assert client.login(username=username, password=DEMO_PASSWORD), username
        client.logout()
    assert not Membership.objects.filter(user__username="maria.lopez").exists()
    assert not get_user_model().objects.get(username="maria.lopez").channels.exists()

    first = fingerprint()
    seed("--allow-existing-users")
    assert fingerprint() == first
    # Once only its own accounts remain, a run without the override is not refused.
    get_user_model().objects.filter(username="maria.lopez").delete()
    assert "Demo accounts" in seed()
