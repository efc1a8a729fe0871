"""The trust boundary, page by page: walk every URL the portal serves and fetch it as CPD staff,
a commander and an analyst; the organisation-only record never appears."""

import uuid
from datetime import timedelta

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone

from notifications.acknowledgements import ack_token
from notifications.models import Delivery
from responses.models import FollowUp
from responses.services import response_log

from .factories import make_notification

pytestmark = pytest.mark.django_db
NOTE = "Cousin from 64th and May is looking for the shooter"
TASK = "Bring the grandmother to the trauma counsellor"


def every_route(patterns=None, prefix=""):
    for entry in patterns if patterns is not None else get_resolver().url_patterns:
        if isinstance(entry, URLResolver):
            yield from every_route(entry.url_patterns, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern)


def concrete(route: str, values: dict) -> str | None:
    """Fill each <converter:name> with a real value; None when the route takes something unknown."""
    import re

    path = route.lstrip("^").rstrip("$")
    if "(?P" in path or "\\" in path:
        return None
    for match in re.findall(r"<(?:(\w+):)?(\w+)>", path):
        converter, name = match
        value = values.get(name) or values.get(converter)
        if value is None:
            return None
        path = re.sub(rf"<(?:{converter}:)?{name}>", str(value), path, count=1)
    return "/" + path


@pytest.fixture
def private_record(covering_org, worker):
    notification = make_notification(covering_org, minutes_ago=45)
    response, _ = response_log(
        notification=notification, actor=worker, source="web", client_key=uuid.uuid4(),
        arrived_at=timezone.now() - timedelta(minutes=20), response_types=["scene", "mediation"],
        retaliation_risk="high", referrals=[{"kind": "relocation", "count": 3}], people_engaged={"peers": 6},
        follow_up_on=timezone.localdate() + timedelta(days=2), follow_up_task=TASK, notes=NOTE)
    delivery = Delivery.objects.create(notification=notification, recipient=worker, kind="sms", target="+13125550199")
    return {"notification": notification, "response": response, "delivery": delivery,
            "followup": FollowUp.objects.get()}


@pytest.mark.parametrize("who", ["cpd_user", "commander", "analyst"])
def test_no_page_or_api_shows_cpd_or_analysts_the_organisation_only_record(client, request, who, private_record):
    user = request.getfixturevalue(who)
    notification, response = private_record["notification"], private_record["response"]
    values = {"code": notification.code, "uuid": notification.code, "token": ack_token(private_record["delivery"]),
              "number": "007", "month": timezone.localdate().strftime("%Y-%m"), "pk": response.pk,
              "id": response.pk, "str": "007", "int": 7}
    client.force_login(user)
    fetched = 0
    for route in sorted(set(every_route())):
        if route.startswith("admin/"):
            continue
        for code in (notification.code, notification.incident.code, response.code, private_record["followup"].code):
            url = concrete(route, {**values, "code": code, "uuid": code})
            if url is None:
                break
            body = client.get(url).content.decode(errors="replace")
            fetched += 1
            assert NOTE not in body and TASK not in body, url
            assert str(response.code) not in body, url
            if "<uuid:" not in route and "<code>" not in route:
                break
    assert fetched > 20  # the walk reached the board, the incident pages, the API and the outreach pages


def test_the_organisation_itself_does_see_its_record(client, worker, private_record):
    client.force_login(worker)
    from django.urls import reverse

    body = client.get(reverse("responses:incident", args=[private_record["notification"].code])).content.decode()
    assert NOTE in body


def test_no_cpd_facing_module_imports_the_organisation_only_app():
    import ast
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    offenders = []
    for app in ("audit", "districts", "protocols", "notifications"):
        for path in (root / app).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text())):
                names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                         else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
                if any(n == "responses" or n.startswith("responses.") for n in names):
                    offenders.append(str(path.relative_to(root)))
    assert offenders == []
