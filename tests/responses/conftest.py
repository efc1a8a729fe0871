"""Browser fixtures for the outreach tests: Debian's Chromium at a phone's viewport (TOOLCHAIN.md)."""

import os

import pytest

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # page + database in one test

PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {**browser_context_args, "viewport": PHONE, "device_scale_factor": 2, "is_mobile": True,
            "has_touch": True, "locale": "en-US", "timezone_id": "America/Chicago"}


@pytest.fixture
def login(live_server, context, client):
    """Log `user` in for the browser by handing it a session made with the test client."""

    def _login(user):
        context.clear_cookies()
        client.force_login(user)
        context.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value,
                              "url": live_server.url}])
        return user

    return _login
