"""The portal's web pages under load: what `make load` runs with locust (headless, as its own
command; never imported by pytest, whose gevent patching it would break).

Three kinds of people, each signed in through the real login page with their own account
(from the file LOAD_USERS names, written by loadtest.seed):
- CPD desk staff keep the district board open: the board polls its live part every 2.5 s as
  the page's script does (sending the last ETag, so an unchanged board is a 304); now and then
  they reload the board or open an incident, whose page polls too;
- outreach workers open the feed every half minute, open an incident and acknowledge it when
  nobody has;
- CPD staff enter incidents through the form, each one every one to two minutes (twenty of
  them: a dozen shootings a minute over six districts, far past Chicago's worst night).
Each request is named after the page, so the report has one row per page. Statistics restart
LOAD_WARMUP seconds after the last person started: the wave of sign-ins (each one a login page,
a login, a home page and a board) is still draining when spawning ends, and the test measures the
pages people keep using, not the sign-in.
"""

import json
import os
import random
import re
from datetime import datetime, timedelta
from itertools import count
from zoneinfo import ZoneInfo

import gevent
from locust import HttpUser, between, constant, events, task
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from security.attack.client import parse

POLL_SECONDS = 2.5  # notifications.views.POLL_SECONDS, what the page's script waits between polls
CHICAGO = ZoneInfo("America/Chicago")
LOGIN = "/accounts/login/"
INCIDENT_LINK = re.compile(r'href="(/incidents/[0-9a-f-]{36}/)"')
OUTREACH_LINK = re.compile(r'href="(/n/[0-9a-f-]{36}/)"')

WORLD = json.loads(open(os.environ["LOAD_USERS"]).read())  # noqa: SIM115  (read once at start)
PASSWORD = os.environ["LOAD_PASSWORD"]
ACCOUNTS = {kind: [u for u in WORLD["users"] if u["kind"] == kind] for kind in ("desk", "outreach", "entry")}
RD_NUMBERS = count(random.randrange(10_000, 90_000) * 1000)
WARMUP_SECONDS = float(os.environ.get("LOAD_WARMUP", "15"))


@events.init.add_listener
def _measure_after_the_sign_ins(environment, **_kwargs):
    def restart(**_kwargs):
        gevent.spawn_later(WARMUP_SECONDS, environment.runner.stats.reset_all)
    environment.events.spawning_complete.add_listener(restart)


def _share(kind: str) -> int:
    return len(ACCOUNTS[kind])


class Person(HttpUser):
    abstract = True
    kind = ""

    def on_start(self):
        # A browser sends a GET again when the server closed the kept-alive connection just as
        # the request went out (gunicorn closes idle ones after 2 s; the board polls every 2.5 s).
        self.client.mount("http://", HTTPAdapter(max_retries=Retry(total=1, connect=1, read=1, status=0,
                                                                   redirect=0, allowed_methods={"GET"})))
        self.account = ACCOUNTS[self.kind].pop()
        page = self.client.get(LOGIN, name="login page")
        form = next(f for f in parse(self.host + LOGIN, page.text).forms
                    if any(field.name == "password" for field in f.fields))
        data = form.values() | {"username": self.account["username"], "password": PASSWORD}
        with self.client.post(LOGIN, data=data, name="login", allow_redirects=False, catch_response=True) as answer:
            if answer.status_code != 302:
                answer.failure(f"sign-in answered {answer.status_code}")

    def page(self, url: str, name: str, **headers):
        """GET a page as the signed-in user; a redirect to the login page is a failure."""
        with self.client.get(url, name=name, headers=headers, allow_redirects=False, catch_response=True) as answer:
            if answer.status_code not in (200, 304):
                answer.failure(f"{name} answered {answer.status_code} {answer.headers.get('Location', '')}"
                               f"{answer.error or ''}")
            return answer

    def post_form(self, page, url: str, name: str, data: dict):
        """POST a form with the page's CSRF token; the portal answers a saved form with 302."""
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
        data = {"csrfmiddlewaretoken": token.group(1) if token else ""} | data
        with self.client.post(url, data=data, name=name, allow_redirects=False, catch_response=True) as answer:
            if answer.status_code != 302 or LOGIN in answer.headers.get("Location", ""):
                answer.failure(f"{name} answered {answer.status_code} {answer.error or ''}")
            return answer


class DeskStaff(Person):
    """The board open all shift: a poll every 2.5 s, an incident opened now and then."""

    kind = "desk"
    fixed_count = _share("desk")
    wait_time = constant(POLL_SECONDS)

    def on_start(self):
        super().on_start()
        self.home = self.page("/", "home (CPD)")
        board = self.page(f"/board/?district={self.account['district']}", "board")
        self.incidents = INCIDENT_LINK.findall(board.text)
        self.live = f"/board/live/?district={self.account['district']}"
        self.etag = None

    @task(30)
    def poll_board(self):
        answer = self.page(self.live, "board live (poll)", **self._conditional(self.etag))
        if answer.status_code == 200:
            self.etag = answer.headers.get("ETag")
            self.incidents = INCIDENT_LINK.findall(answer.text) or self.incidents

    @task(1)
    def reload_the_board(self):
        board = self.page(f"/board/?district={self.account['district']}", "board")
        self.incidents = INCIDENT_LINK.findall(board.text) or self.incidents

    @task(1)
    def open_an_incident(self):
        if not self.incidents:
            return
        url = random.choice(self.incidents)
        self.page(url, "incident page")
        etag = None
        for _ in range(3):  # a few polls of its live part while it is open
            self.wait()
            answer = self.page(url + "live/", "incident live (poll)", **self._conditional(etag))
            etag = answer.headers.get("ETag", etag)

    @staticmethod
    def _conditional(etag):
        return {"X-Requested-With": "fetch"} | ({"If-None-Match": etag} if etag else {})


class OutreachWorker(Person):
    """The feed, then an incident, acknowledged when nobody has yet."""

    kind = "outreach"
    fixed_count = _share("outreach")
    wait_time = between(20, 40)

    @task
    def feed_and_acknowledge(self):
        feed = self.page("/feed/", "feed")
        links = OUTREACH_LINK.findall(feed.text)
        if not links:
            return
        waiting = [url for url in links if f'action="{url}status/"' in feed.text]
        url = random.choice(waiting or links)
        incident = self.page(url, "outreach incident")
        if 'value="acknowledged"' in incident.text:
            self.post_form(incident, url + "status/", "acknowledge", {"status": "acknowledged"})
            self.page(url, "outreach incident")


class IncidentEntry(Person):
    """CPD staff entering a shooting through the form: its page, then the POST."""

    kind = "entry"
    fixed_count = _share("entry")
    wait_time = between(60, 120)

    @task
    def enter(self):
        page = self.page("/incidents/new/", "incident form")
        form = next((f for f in parse(self.host + "/incidents/new/", page.text).forms
                     if any(field.name == "block" for field in f.fields)), None)
        if form is None:
            return
        latitude, longitude = random.choice(WORLD["points"][self.account["district"]])
        when = (self._now() - timedelta(minutes=random.randint(2, 15))).strftime("%Y-%m-%dT%H:%M")
        data = form.values() | {
            "rd_number": f"JL{next(RD_NUMBERS) % 1_000_000:06d}", "occurred_at": when,
            "block": f"{random.randint(1, 99) * 100} W LOAD TEST ST", "latitude": latitude, "longitude": longitude,
            "district": self.account["district"], "beat": "", "community_area": "",
        }
        self.post_form(page, "/incidents/new/", "incident entry (POST)", data)

    @staticmethod
    def _now():
        return datetime.now(CHICAGO)
