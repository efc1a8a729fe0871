"""The attack's world, written through the portal's own services (run inside the stack's env).

`python -m security.attack.seed PASSWORD` loads the real geography and organisations, then
creates a user in every role (CPD in the 7th and 15th Districts, outreach at the organisation
covering each), one incident in each district (routed like a real one), a response with an
organisation-only canary note in each organisation, a follow-up, a shooting review per district,
and victims for brute force. When allauth's MFA is installed every user gets a TOTP device so the
attacker can sign in the way a real user would. Prints one JSON object: users and object codes.
"""

import json
import secrets
import sys
import uuid
from datetime import timedelta

import django

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.utils import timezone  # noqa: E402

from core.dates import month_of  # noqa: E402
from districts.loaders import load_geography, load_organizations  # noqa: E402
from districts.models import District, Membership, OnCall, Organization, Role  # noqa: E402
from districts.services import channel_add, oncall_add  # noqa: E402
from notifications.models import Notification  # noqa: E402
from notifications.services import incident_create  # noqa: E402
from responses.services import followup_create, response_log  # noqa: E402
from reviews.selectors import Month  # noqa: E402
from reviews.services import review_create  # noqa: E402

ENGLEWOOD = {"block": "6300 S HALSTED ST", "latitude": 41.7796, "longitude": -87.6446}  # 7th District
AUSTIN = {"block": "800 N CENTRAL AVE", "latitude": 41.8873, "longitude": -87.7653}  # 15th District
# Strings that must never leave their owner's scope; the attack looks for them in every page.
ORG_NOTE_CANARY = "ORGNOTE-CANARY-{}"
INCIDENT_CANARY = "INCIDENT-CANARY-{}"


def _user(username: str, password: str, role: str, *, district=None, organization=None, totp: bool) -> dict:
    user = get_user_model().objects.create_user(username=username, password=password,
                                                email=f"{username}@attack.invalid", first_name=username.title())
    if role == Role.ADMIN:
        user.is_staff = user.is_superuser = True
        user.save()
    Membership.objects.create(user=user, role=role, district=district, organization=organization)
    secret = None
    if totp:
        from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret  # only when installed

        secret = generate_totp_secret()
        TOTP.activate(user, secret)
    return {"username": username, "password": password, "role": role, "totp_secret": secret,
            "district": district.number if district else None,
            "organization": organization.name if organization else None, "user": user}


def _incident(actor, where: dict, district: str) -> dict:
    payload = {"occurred_at": (timezone.now() - timedelta(minutes=20)).isoformat(),
               "victims": [{"age_band": "20-29", "sex": "M", "fatal": False, "gunshot": True}],
               "scene_status": "active", "note": INCIDENT_CANARY.format(district), **where}
    incident, _ = incident_create(actor=actor, source="web", rd_number=f"JA{secrets.randbelow(900000) + 100000}",
                                  **payload)
    return {"code": str(incident.code), "rd_number": incident.rd_number, "district": district,
            "canary": INCIDENT_CANARY.format(district)}


def main() -> None:
    password = sys.argv[1]
    list(load_geography())
    load_organizations()
    totp = "allauth.mfa" in settings.INSTALLED_APPS
    d7, d15 = District.objects.get(number="007"), District.objects.get(number="015")
    users = {"cpd_staff": _user("dana.cpd", password, Role.CPD_STAFF, district=d7, totp=totp),
             "cpd_commander": _user("marcus.commander", password, Role.CPD_COMMANDER, district=d7, totp=totp),
             "cpd_staff_015": _user("kim.cpd15", password, Role.CPD_STAFF, district=d15, totp=totp)}
    incidents = [_incident(users["cpd_staff"]["user"], ENGLEWOOD, "007"),
                 _incident(users["cpd_staff_015"]["user"], AUSTIN, "015")]
    org_a = Organization.objects.get(name="Public Equity")
    org_b = (Notification.objects.filter(incident__code=incidents[1]["code"]).exclude(organization=org_a)
             .select_related("organization").first().organization)
    users |= {
        "outreach_worker": _user("tasha.worker", password, Role.OUTREACH_WORKER, organization=org_a, totp=totp),
        "outreach_supervisor": _user("luis.supervisor", password, Role.OUTREACH_SUPERVISOR, organization=org_a,
                                     totp=totp),
        "outreach_worker_b": _user("sam.worker", password, Role.OUTREACH_WORKER, organization=org_b, totp=totp),
        "outreach_supervisor_b": _user("ana.supervisor", password, Role.OUTREACH_SUPERVISOR, organization=org_b,
                                       totp=totp),
        "analyst": _user("priya.analyst", password, Role.ANALYST, totp=totp),
        "admin": _user("jordan.admin", password, Role.ADMIN, totp=totp),
    }
    # Brute-force victims: one per scenario, so one scenario's lockout cannot hide another's hole.
    victims = {name: _user(f"victim.{name}", password, Role.OUTREACH_WORKER, organization=org_a, totp=False)
               for name in ("web", "web_xff", "api", "api_xff", "redirect")}
    notifications, responses, channels = [], [], []
    for org, worker, supervisor in [(org_a, "outreach_worker", "outreach_supervisor"),
                                    (org_b, "outreach_worker_b", "outreach_supervisor_b")]:
        for n in Notification.objects.filter(organization=org).select_related("incident"):
            notifications.append({"code": str(n.code), "organization": org.name, "incident": str(n.incident.code)})
        n = Notification.objects.filter(organization=org).first()
        canary = ORG_NOTE_CANARY.format(org.pk)
        log, _ = response_log(notification=n, actor=users[worker]["user"], source="web", client_key=uuid.uuid4(),
                              arrived_at=timezone.now() - timedelta(minutes=5), response_types=["scene"],
                              retaliation_risk="high", notes=canary, follow_up_task=canary,
                              follow_up_on=timezone.localdate() + timedelta(days=2))
        followup_create(organization=org, actor=users[supervisor]["user"], source="web", task=canary,
                        due_on=timezone.localdate() + timedelta(days=1), assigned_to=users[worker]["user"],
                        notification=n)
        responses.append({"code": str(log.code), "organization": org.name, "canary": canary})
        oncall_add(organization=org, actor=users[supervisor]["user"], source="web", user=users[worker]["user"],
                   tier=OnCall.Tier.PRIMARY)  # so the roster page has its remove form
        channel = channel_add(organization=org, actor=users[supervisor]["user"], source="web", kind="email",
                              target=f"dispatch-{org.pk}@attack.invalid")
        channels.append({"code": str(channel.code), "organization": org.name})
    month = Month(*month_of(timezone.now()))
    reviews = [{"code": str(review_create(actor=users[key]["user"], month=month, districts=[d]).code),
                "district": d.number}
               for key, d in [("cpd_commander", d7), ("analyst", d15)]]
    for entry in [*users.values(), *victims.values()]:
        entry.pop("user")
    print(json.dumps({"users": users, "victims": victims, "incidents": incidents, "notifications": notifications,
                      "responses": responses, "reviews": reviews,
                      "channels": channels,
                      "organizations": {"a": {"name": org_a.name, "code": str(org_a.code)},
                                        "b": {"name": org_b.name, "code": str(org_b.code)}}}))


if __name__ == "__main__":
    main()
