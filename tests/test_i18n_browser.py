"""In Chromium, in Spanish: the words the incident form's and the live pages' scripts write
(victim count, the map point's answer, the live indicator) are Spanish too; the scripts read
them from the page's data- attributes."""

import os

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from districts.models import Membership
from tests.conftest import ENGLEWOOD_POINT

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # page + database in one test

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {**browser_context_args, "viewport": {"width": 1280, "height": 900}, "locale": "es-US",
            "timezone_id": "America/Chicago"}


@pytest.fixture
def spanish_desk(page, live_server, client, cpd_user):
    Membership.objects.filter(user=cpd_user).update(language="es")
    client.force_login(cpd_user)
    page.context.add_cookies([
        {"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url},
        {"name": "django_language", "value": "es", "url": live_server.url},
    ])
    return page


def test_the_incident_forms_script_writes_spanish(spanish_desk, live_server):
    page = spanish_desk
    page.goto(live_server.url + reverse("notifications:incident_new"))
    expect(page.locator("[data-victim-count]")).to_have_text("1 víctima")
    page.get_by_role("button", name="+ Añadir víctima").click()
    page.locator("#id_victims-1-fatal").check()
    expect(page.locator("[data-victim-count]")).to_have_text("2 víctimas, 1 mortal(es)")
    expect(page.locator("[data-remove-victim]").nth(1)).to_have_attribute("aria-label", "Quitar la víctima 2")

    page.locator("details.point-helper summary").click()
    page.get_by_role("button", name="Usar el punto").click()
    expect(page.locator("[data-point-result]")).to_have_text("Escriba un punto como 41.7796, -87.6446.")
    page.locator("#point-paste").fill(f"{ENGLEWOOD_POINT[0]}, {ENGLEWOOD_POINT[1]}")
    page.get_by_role("button", name="Usar el punto").click()
    expect(page.locator("[data-point-result]")).to_contain_text("Distrito 7, sector 0723, Englewood (68)")
    page.locator("#point-paste").fill("41.0, -87.0")
    page.get_by_role("button", name="Usar el punto").click()
    expect(page.locator("[data-point-result]")).to_have_text("El punto está fuera de Chicago.")


def test_the_live_indicator_speaks_spanish(spanish_desk, live_server):
    page = spanish_desk
    page.goto(live_server.url + reverse("notifications:board"))
    # After its first poll the indicator shows the time it last heard from the server.
    expect(page.locator("[data-live-status]")).to_contain_text("En vivo · ", timeout=10_000)
