"""The load test's people and a week of incidents, written through the portal's own services
(run inside the stack's environment).

`python -m loadtest.seed STAFF WORKERS ENTRY` loads the reference data `make stack` loads (once
per database), reads the password from LOAD_PASSWORD, and creates or reuses users named
`load-…`: CPD desk staff spread over the districts most organisations cover, outreach workers
at the organisations covering those districts, and CPD staff who enter incidents there. It
deletes what an earlier run entered, enters a few incidents per district over the last hours
(routed like real ones, so the board and the feeds have rows), and prints one JSON object: the
users and, per district, points inside it for new incidents.
"""

import json
import os
import sys
from datetime import timedelta
from itertools import cycle

import django

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.contrib.auth.hashers import make_password  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import transaction  # noqa: E402
from django.utils import timezone  # noqa: E402
from shapely.geometry import shape  # noqa: E402

from districts.models import Beat, District, Membership, Organization, Role  # noqa: E402
from districts.selectors import organizations_in_district  # noqa: E402
from notifications.models import Incident  # noqa: E402
from notifications.services import incident_create  # noqa: E402
from protocols.models_playbooks import Place  # noqa: E402

# What `make stack` loads, in its order; skipped once the last one's rows are there.
LOAD_STEPS = ("load_geography", "load_organizations", "load_partners", "load_playbooks", "load_places")
PREFIX = "load-"
DISTRICTS = 6
INCIDENTS_PER_DISTRICT = 12
POINTS_PER_DISTRICT = 8


def busiest_districts() -> list[District]:
    """The districts the most organisations cover (directly, by beat or by community area)."""
    scored = [(organizations_in_district(d).count(), d.number, d) for d in District.objects.defer("boundary")]
    return [d for _, _, d in sorted(scored, key=lambda s: (-s[0], s[1]))[:DISTRICTS]]


def points_in(district: District) -> list[tuple[float, float]]:
    """(latitude, longitude) inside a few of the district's beats."""
    beats = Beat.objects.filter(district=district, boundary__isnull=False).order_by("number")[:POINTS_PER_DISTRICT]
    points = []
    for beat in beats:
        point = shape(beat.boundary).representative_point()
        points.append((round(point.y, 6), round(point.x, 6)))
    return points


def member(username: str, password_hash: str, role: str, *, district=None, organization=None):
    user, _ = get_user_model().objects.update_or_create(
        username=username, defaults={"password": password_hash, "email": f"{username}@load.invalid",
                                     "first_name": username.split("-")[1].title(), "is_active": True})
    Membership.objects.update_or_create(user=user, defaults={"role": role, "district": district,
                                                             "organization": organization, "language": "en"})
    return user


def covering(districts: list[District]) -> list[Organization]:
    ids = {o.pk for d in districts for o in organizations_in_district(d)}
    return list(Organization.objects.filter(pk__in=ids).order_by("name"))


def reference_data() -> None:
    """The real geography, organisations, partners, playbooks and places, unless loaded."""
    if not (District.objects.exists() and Place.objects.exists()):
        for step in LOAD_STEPS:
            call_command(step, verbosity=0)


def main(staff: int, workers: int, entry: int) -> dict:
    reference_data()
    password_hash = make_password(os.environ["LOAD_PASSWORD"])  # one hash for every user: seconds, not minutes
    districts = busiest_districts()
    organizations = covering(districts)
    with transaction.atomic():
        Incident.objects.filter(entered_by__username__startswith=PREFIX).delete()
    users = []
    for i, district in zip(range(staff), cycle(districts), strict=False):
        member(f"{PREFIX}desk-{i:03d}", password_hash, Role.CPD_STAFF, district=district)
        users.append({"username": f"{PREFIX}desk-{i:03d}", "kind": "desk", "district": district.number})
    for i, district in zip(range(entry), cycle(districts), strict=False):
        member(f"{PREFIX}entry-{i:03d}", password_hash, Role.CPD_STAFF, district=district)
        users.append({"username": f"{PREFIX}entry-{i:03d}", "kind": "entry", "district": district.number})
    for i, organization in zip(range(workers), cycle(organizations), strict=False):
        member(f"{PREFIX}outreach-{i:03d}", password_hash, Role.OUTREACH_WORKER, organization=organization)
        users.append({"username": f"{PREFIX}outreach-{i:03d}", "kind": "outreach", "organization": organization.name})
    points = {d.number: points_in(d) for d in districts}
    now = timezone.now()
    desk = {}
    for membership in Membership.objects.filter(user__username__startswith=f"{PREFIX}desk-").select_related("user"):
        desk.setdefault(membership.district_id, membership.user)
    for n, district in zip(range(DISTRICTS * INCIDENTS_PER_DISTRICT), cycle(districts), strict=False):
        latitude, longitude = points[district.number][n % len(points[district.number])]
        incident_create(actor=desk[district.pk], source="web", occurred_at=now - timedelta(minutes=20 + 37 * n),
                        block=f"{100 + n} W LOAD TEST ST", latitude=latitude, longitude=longitude,
                        victims=[{"fatal": n % 7 == 0}])
    return {"users": users, "points": points, "districts": [d.number for d in districts],
            "organizations": len(organizations)}


if __name__ == "__main__":
    print(json.dumps(main(*(int(a) for a in sys.argv[1:4]))))
