"""A passkey as the second factor, in a real browser: Chromium's virtual authenticator stands
in for the phone or security key (WebAuthn over the DevTools protocol)."""

import os

import pytest
from allauth.mfa.models import Authenticator

from tests.conftest import PASSWORD

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # page + database in one test

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]



@pytest.fixture
def authenticator(page):
    """A platform authenticator that says yes, as a phone's fingerprint reader would."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    cdp.send("WebAuthn.addVirtualAuthenticator", {"options": {
        "protocol": "ctap2", "transport": "internal", "hasResidentKey": True, "hasUserVerification": True,
        "isUserVerified": True, "automaticPresenceSimulation": True}})
    return cdp


def log_in(page, base: str, username: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()


def test_a_commander_adds_a_passkey_and_signs_in_with_it(page, live_server, authenticator, commander, settings):
    settings.MFA_ENFORCED = True
    settings.MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN = True  # http://localhost in the test only
    log_in(page, live_server.url, commander.username)
    assert page.url == f"{live_server.url}/accounts/2fa/"  # sent to set a second factor up first
    assert "Your role needs two-factor authentication" in page.locator("main").inner_text()

    page.goto(f"{live_server.url}/accounts/2fa/webauthn/add/")
    page.get_by_label("Name").fill("Desk phone")
    page.get_by_role("button", name="Add").click()
    page.wait_for_url(lambda url: "/webauthn/add/" not in url)
    assert Authenticator.objects.filter(user=commander, type=Authenticator.Type.WEBAUTHN).exists()
    page.goto(f"{live_server.url}/")
    assert page.locator("h1").first.inner_text() == "District 7 (Englewood)"

    page.get_by_role("button", name="Log out").click()
    log_in(page, live_server.url, commander.username)
    assert page.url == f"{live_server.url}/accounts/2fa/authenticate/"
    page.get_by_role("button", name="Use a security key").click()
    page.wait_for_url(f"{live_server.url}/")
    assert page.locator("h1").first.inner_text() == "District 7 (Englewood)"
