"""Demo data for the districts app: real geography and organisations, pilot districts,
one account per role, and each organisation's channels (console mail and SMS in the demo).

Idempotent: a second run changes nothing.
"""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction

from .loaders import load_geography, load_organizations
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


def seed(stdout) -> None:
    for result in [*load_geography(), load_organizations()]:
        for message in result.messages:
            stdout.write(message)
        stdout.write(result.summary)
    with transaction.atomic():
        _mark_pilots(stdout)
        _accounts(stdout)
        _channels()


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
    for username, role, first, last, scope in DEMO_ACCOUNTS:
        user, created = User.objects.get_or_create(
            username=username,
            defaults={"first_name": first, "last_name": last, "email": f"{username}@example.org"},
        )
        if created:
            user.set_password(DEMO_PASSWORD)
        user.is_staff = user.is_superuser = role == Role.ADMIN
        user.save()
        Membership.objects.update_or_create(
            user=user, defaults={"role": role, "district": None, "organization": None, **scopes[scope]}
        )
    for username, tier in [("outreach.worker", OnCall.Tier.PRIMARY), ("outreach.backup", OnCall.Tier.BACKUP),
                           ("outreach.supervisor", OnCall.Tier.SUPERVISOR)]:
        OnCall.objects.get_or_create(organization=organization, user=User.objects.get(username=username), tier=tier)
    OnCall.objects.get_or_create(organization=other, user=User.objects.get(username="other.worker"),
                                 tier=OnCall.Tier.PRIMARY)


def _channels() -> None:
    """Every organisation gets a shared email list; demo members get in-app, SMS and email."""
    for organization in Organization.objects.all():
        slug = "".join(ch for ch in organization.short_name.lower() if ch.isalnum())[:20] or "org"
        Channel.objects.get_or_create(
            organization=organization, user=None, kind=Channel.Kind.EMAIL,
            defaults={"target": f"dispatch@{slug}.example.org", "is_fallback": True},
        )
    for membership in Membership.objects.filter(organization__isnull=False).select_related("user"):
        user = membership.user
        for kind, target in [(Channel.Kind.IN_APP, user.username), (Channel.Kind.EMAIL, user.email),
                             (Channel.Kind.SMS, f"+1312555{user.pk:04d}")]:
            Channel.objects.get_or_create(organization=membership.organization, user=user, kind=kind,
                                          defaults={"target": target})
