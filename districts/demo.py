"""Demo data for the districts app: real geography and organisations, pilot districts,
one account per role, and each organisation's channels (console mail and SMS in the demo).

Idempotent: a second run changes nothing. The seed touches only accounts it created itself
(each creation is an audit event, `demo.account_created`): an existing account that happens
to carry a demo username is left exactly as it is, never given a password, role or superuser.
"""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction

from audit.models import Event
from audit.services import audit_log

from .loaders import load_geography, load_organizations, load_partners
from .models import Channel, District, Membership, OnCall, Organization, Role

# Demo only: printed by seed_demo and documented in the README. Never use it elsewhere.
DEMO_PASSWORD = "chicago-demo-2026"  # noqa: S105
DEMO_DISTRICT = "007"
DEMO_ORGANIZATION = "Public Equity"  # covers Englewood and West Englewood in the 7th District
DEMO_OTHER_ORGANIZATION = "ALSO (Alliance of Local Service Organizations)"  # north-west side

DEMO_ACCOUNTS = [
    # username, role, first, last, scope
    ("cpd.staff", Role.CPD_STAFF, "Dana", "Reyes", "district"),
    ("cpd.commander", Role.CPD_COMMANDER, "Marcus", "Hill", "district"),
    ("outreach.worker", Role.OUTREACH_WORKER, "Tasha", "Green", "organization"),
    ("outreach.backup", Role.OUTREACH_WORKER, "Andre", "Cole", "organization"),
    ("outreach.supervisor", Role.OUTREACH_SUPERVISOR, "Luis", "Ortega", "organization"),
    ("other.worker", Role.OUTREACH_WORKER, "Sam", "Lee", "other_organization"),
    ("analyst", Role.ANALYST, "Priya", "Shah", None),
    ("admin", Role.ADMIN, "Jordan", "Blake", None),
]


ACCOUNT_CREATED = "demo.account_created"


def seeded_user_ids() -> set[int]:
    """The primary keys of the accounts the demo seed created (and that still exist)."""
    codes = Event.objects.filter(action=ACCOUNT_CREATED, object_type="auth.user").values_list("object_code", flat=True)
    return {int(code) for code in codes if code.isdigit()}


def accounts_not_seeded():
    """Users the demo seed did not create: real people, or an administrator made by hand."""
    return get_user_model().objects.exclude(pk__in=seeded_user_ids()).order_by("username")


def demo_users() -> dict:
    """{username: user} for the demo accounts the seed created; another account with the same
    name is not in it."""
    return {user.username: user for user in get_user_model().objects.filter(pk__in=seeded_user_ids())}


def seed(stdout) -> None:
    for result in [*load_geography(), load_organizations(), load_partners()]:
        for message in result.messages:
            stdout.write(message)
        stdout.write(result.summary)
    with transaction.atomic():
        _mark_pilots(stdout)
        _accounts(stdout)
        _channels()
        _liaisons()


def _mark_pilots(stdout) -> None:
    pilots = set(settings.PILOT_DISTRICTS)
    District.objects.exclude(number__in=pilots).filter(is_pilot=True).update(is_pilot=False)
    District.objects.filter(number__in=pilots).update(is_pilot=True)
    names = ", ".join(str(d) for d in District.objects.filter(is_pilot=True).defer("boundary"))
    stdout.write(f"pilot districts ({len(pilots)}, set PILOT_DISTRICTS to change): {names}")


def _accounts(stdout) -> None:
    User = get_user_model()
    district = District.objects.get(number=DEMO_DISTRICT)
    organization = Organization.objects.get(name=DEMO_ORGANIZATION)
    other = Organization.objects.get(name=DEMO_OTHER_ORGANIZATION)
    scopes = {"district": {"district": district}, "organization": {"organization": organization},
              "other_organization": {"organization": other}, None: {}}
    ours = demo_users()
    for username, role, first, last, scope in DEMO_ACCOUNTS:
        user = ours.get(username)
        if user is None:
            if User.objects.filter(username=username).exists():
                stdout.write(f"  {username}: an account the seed did not create has this name; left as it is")
                continue
            user = User.objects.create_user(username=username, password=DEMO_PASSWORD, first_name=first,
                                            last_name=last, email=f"{username}@example.org")
            audit_log(actor=None, source="system", action=ACCOUNT_CREATED, obj=user, data={"role": role})
            ours[username] = user
        user.is_staff = user.is_superuser = role == Role.ADMIN
        user.save(update_fields=["is_staff", "is_superuser"])
        Membership.objects.update_or_create(
            user=user, defaults={"role": role, "district": None, "organization": None, **scopes[scope]}
        )
    for username, org, tier in [("outreach.worker", organization, OnCall.Tier.PRIMARY),
                                ("outreach.backup", organization, OnCall.Tier.BACKUP),
                                ("outreach.supervisor", organization, OnCall.Tier.SUPERVISOR),
                                ("other.worker", other, OnCall.Tier.PRIMARY)]:
        if username in ours:
            OnCall.objects.get_or_create(organization=org, user=ours[username], tier=tier)


def _channels() -> None:
    """Every organisation gets a shared email list; the seed's own members get in-app, SMS and
    email (never anyone else: their phone and address are theirs to enter)."""
    for organization in Organization.objects.all():
        slug = "".join(ch for ch in organization.short_name.lower() if ch.isalnum())[:20] or "org"
        Channel.objects.get_or_create(
            organization=organization, user=None, kind=Channel.Kind.EMAIL,
            defaults={"target": f"dispatch@{slug}.example.org", "is_fallback": True},
        )
    members = Membership.objects.filter(organization__isnull=False, user__in=seeded_user_ids())
    for membership in members.select_related("user"):
        user = membership.user
        for kind, target in [(Channel.Kind.IN_APP, user.username), (Channel.Kind.EMAIL, user.email),
                             (Channel.Kind.SMS, f"+1312555{user.pk:04d}")]:
            Channel.objects.get_or_create(organization=membership.organization, user=user, kind=kind,
                                          defaults={"target": target})


def _liaisons() -> None:
    """Demo only: a made-up liaison for CPD (555 numbers, example.org addresses) for each
    organisation that has none, so the directory shows what a recorded liaison looks like."""
    for organization in Organization.objects.filter(liaison_phone="", liaison_email=""):
        organization.liaison_title = "Liaison for CPD (demo)"
        organization.liaison_phone = f"+1312555{organization.pk % 10000:04d}"
        organization.liaison_email = f"liaison-{organization.pk}@example.org"
        organization.save(update_fields=["liaison_title", "liaison_phone", "liaison_email"])
