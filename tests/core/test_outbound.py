"""The outbound guard (core/outbound.py) as a supervisor and an attacker meet it: webhooks and push
endpoints inside the network are refused when saved and when sent, a name that changes its
answer (DNS rebinding) never reaches the internal address, push endpoints are the browsers'
push services only, and what a supervisor reads is a reason, not an internal service's answer.

Local HTTP servers on loopback stand in for internal services; the resolver is replaced for
names the tests own (tests/outbound_fakes.py) and asks the real one about everything else."""

import http.server
import json
import threading

import pytest
from django.core.exceptions import ValidationError
from requests import Request

from core.outbound import OutboundRefused, OutboundSession, _PinnedAdapter, address_is_public, webhook_policy
from districts.models import Channel, OnCall, webhook_secret_new
from notifications.models import Delivery
from notifications.sending import delivery_attempt
from tests.api.conftest import client_for_user
from tests.notifications.test_transports import _push_channel, vapid  # noqa: F401 - a fixture
from tests.outbound_fakes import PUBLIC_ADDRESS, fake_dns, push_service
from tests.workers import incident_notify

pytestmark = pytest.mark.django_db


class InternalService:
    """An HTTP service on a loopback address, counting what reaches it."""

    def __init__(self, address: str = "127.0.0.1", port: int = 0) -> None:
        self.requests: list[dict] = []
        service = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                service.requests.append({"host": self.headers.get("Host"), "body": body})
                self.send_response(200)
                self.send_header("content-length", "0")
                self.end_headers()

            do_GET = do_POST

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer((address, port), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


@pytest.mark.parametrize("address", [
    "127.0.0.1", "127.1.2.3", "10.0.0.5", "172.16.0.1", "192.168.1.20", "169.254.169.254", "100.64.0.1",
    "0.0.0.0", "224.0.0.1", "239.255.255.250", "255.255.255.255", "240.0.0.1", "198.18.0.1",  # noqa: S104
    "192.0.2.10",
    "192.0.0.8", "::1", "::", "fe80::1", "fc00::1", "fd12:3456::1", "fec0::1", "ff02::1", "::ffff:127.0.0.1",
    "::ffff:10.1.2.3", "2002:a00:1::1", "64:ff9b::a00:1", "2001:0:4136:e378::1", "2001:db8::1", "fe80::1%eth0",
    "not an address",
])
def test_internal_and_special_addresses_are_not_public(address):
    assert not address_is_public(address)


@pytest.mark.parametrize("address", ["93.184.216.34", PUBLIC_ADDRESS, "2606:4700:4700::1111", "::ffff:8.8.8.8"])
def test_global_unicast_addresses_are_public(address):
    assert address_is_public(address)


# --- webhooks -------------------------------------------------------------------------------

def _webhook(organization, url):
    channel = Channel(organization=organization, kind=Channel.Kind.WEBHOOK, target=url)
    channel.full_clean()
    channel.save()
    return channel


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "2130706433", "0x7f000001", "127.1", "[::1]",
                                  "[::ffff:127.0.0.1]", "0.0.0.0"])  # noqa: S104 - refused, not bound
def test_a_webhook_at_a_local_service_is_refused_when_saved_in_any_spelling(covering_org, host):
    with InternalService() as service, pytest.raises(ValidationError) as error:
        _webhook(covering_org, f"https://{host}:{service.port}/hook")
    assert "private or internal address" in error.value.message_dict["target"][0]
    assert not Channel.objects.filter(kind=Channel.Kind.WEBHOOK).exists()
    assert service.requests == []


def test_a_webhook_at_a_local_service_is_never_called_even_if_stored(englewood, covering_org):
    with InternalService() as service:
        # Stored without clean(), as a row written before the guard or by hand would be.
        Channel.objects.create(organization=covering_org, kind=Channel.Kind.WEBHOOK, secret=webhook_secret_new(),
                               target=f"https://127.0.0.1:{service.port}/hook")
        notification = incident_notify(district=englewood, organization=covering_org)
        delivery = notification.deliveries.get(kind=Channel.Kind.WEBHOOK)
        assert delivery_attempt(delivery_id=delivery.pk) == "dead"
    assert service.requests == []
    delivery.refresh_from_db()
    assert delivery.last_error.startswith("the address is not allowed")


def test_a_name_that_rebinds_to_an_internal_address_after_it_was_saved_is_refused_at_send(
        englewood, covering_org):
    with InternalService() as service:
        url = f"https://hooks.rebind.example:{service.port}/hook"
        with fake_dns({"hooks.rebind.example": [PUBLIC_ADDRESS, "127.0.0.1"]}) as dns:
            _webhook(covering_org, url)  # public when saved
            notification = incident_notify(district=englewood, organization=covering_org)
            delivery = notification.deliveries.get(kind=Channel.Kind.WEBHOOK)
            assert delivery_attempt(delivery_id=delivery.pk) == "dead"  # 127.0.0.1 when sent
        assert dns.calls == ["hooks.rebind.example", "hooks.rebind.example"]
    assert service.requests == []
    delivery.refresh_from_db()
    assert "private or internal address" in delivery.last_error


def test_a_send_connects_to_the_address_it_checked_and_never_resolves_the_name_again(settings):
    """The first answer is the one connected to: a second lookup (which a plain HTTP client makes
    when it connects) would reach the other service. The Host header still names the host."""
    settings.WEBHOOK_ALLOWED_HOSTS = ["receiver.example.test"]
    with InternalService("127.0.0.1") as checked, InternalService("127.0.0.2", checked.port) as other:
        with fake_dns({"receiver.example.test": ["127.0.0.1", "127.0.0.2"]}) as dns:
            response = OutboundSession(webhook_policy()).post(
                f"http://receiver.example.test:{checked.port}/hook", data=b"{}", timeout=5)
        assert response.status_code == 200
        assert dns.calls == ["receiver.example.test"]
        assert checked.requests == [{"host": f"receiver.example.test:{checked.port}", "body": b"{}"}]
        assert other.requests == []


def test_https_keeps_the_hosts_name_for_sni_and_the_certificate_while_connecting_to_the_checked_address():
    adapter = _PinnedAdapter(webhook_policy())
    request = Request("POST", "https://hooks.example.org/cvi").prepare()
    with fake_dns({"hooks.example.org": ["93.184.216.34"]}):
        request.cvi_pinned_address = adapter.policy.address_for(request.url)
    pool = adapter.get_connection_with_tls_context(request, verify=True)
    assert (pool.host, pool.port) == ("93.184.216.34", 443)
    assert pool.conn_kw["server_hostname"] == "hooks.example.org"
    assert pool.assert_hostname == "hooks.example.org"


def test_a_redirect_from_a_public_receiver_is_not_followed(settings):
    settings.WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]

    class Redirect(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            self.send_response(307)
            self.send_header("Location", "http://169.254.169.254/latest/meta-data/")
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Redirect)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        response = OutboundSession(webhook_policy()).post(f"http://127.0.0.1:{server.server_address[1]}/", timeout=5)
    finally:
        server.shutdown()
        server.server_close()
    assert response.status_code == 307  # handed back, not followed


def test_the_session_refuses_an_internal_address_before_connecting():
    with InternalService() as service, pytest.raises(OutboundRefused) as refused:
        OutboundSession(webhook_policy()).post(f"https://127.0.0.1:{service.port}/", timeout=5)
    assert refused.value.code == "private_address"
    assert service.requests == []


# --- web push -------------------------------------------------------------------------------

@pytest.mark.parametrize("endpoint", [
    "https://127.0.0.1/push", "https://169.254.169.254/latest/meta-data", "https://localhost/push",
    "https://[::1]/push", "https://push.example.net/send/abc", "https://fcm.googleapis.com.evil.example/x",
    "https://evilfcm.googleapis.com.example/x", "https://fcm.googleapis.com:8443/x", "http://fcm.googleapis.com/x",
    "https://user:pw@fcm.googleapis.com/x", "fcm.googleapis.com/x",
])
def test_a_push_subscription_outside_the_browsers_push_services_is_refused(worker, endpoint):
    body = {"endpoint": endpoint, "keys": {"p256dh": "BNc", "auth": "tBH"}}
    client = client_for_user(worker)
    client.force_login(worker)
    response = client.post("/outreach/push/", json.dumps(body), content_type="application/json")
    assert response.status_code == 400
    assert response.json()["endpoint"]
    assert not Channel.objects.filter(kind=Channel.Kind.PUSH).exists()


@pytest.mark.parametrize("endpoint", [
    "https://fcm.googleapis.com/fcm/send/abc", "https://updates.push.services.mozilla.com/wpush/v2/abc",
    "https://web.push.apple.com/QGx", "https://wns2-by3p.notify.windows.com/w/?token=abc",
])
def test_the_browsers_push_services_are_accepted(worker, endpoint):
    client = client_for_user(worker)
    client.force_login(worker)
    body = {"endpoint": endpoint, "keys": {"p256dh": "BNc", "auth": "tBH"}}
    response = client.post("/outreach/push/", json.dumps(body), content_type="application/json")
    assert response.status_code == 201
    assert Channel.objects.get(kind=Channel.Kind.PUSH).target == endpoint


def _push_delivery(englewood, covering_org, worker, target=None):
    OnCall.objects.create(organization=covering_org, user=worker)
    channel = _push_channel(covering_org, worker)
    if target:
        Channel.objects.filter(pk=channel.pk).update(target=target)
    notification = incident_notify(district=englewood, organization=covering_org)
    return notification.deliveries.get(kind=Channel.Kind.PUSH)


def test_a_push_service_name_resolving_inside_the_network_is_not_called(englewood, covering_org, worker, vapid):  # noqa: F811
    delivery = _push_delivery(englewood, covering_org, worker)
    with push_service(201, address="10.0.0.7") as send:
        assert delivery_attempt(delivery_id=delivery.pk) == "dead"
    assert send.call_count == 0
    delivery.refresh_from_db()
    assert delivery.last_error.startswith("the address is not allowed")


def test_a_stored_push_endpoint_outside_the_push_services_is_not_called(englewood, covering_org, worker, vapid):  # noqa: F811
    delivery = _push_delivery(englewood, covering_org, worker, target="https://127.0.0.1:9/push")
    with push_service(201) as send:
        assert delivery_attempt(delivery_id=delivery.pk) == "dead"
    assert send.call_count == 0


@pytest.mark.parametrize("status, reason, outcome", [
    (410, "the push service refused the subscription (gone)", Delivery.Status.DEAD),
    (404, "the push service refused the subscription (gone)", Delivery.Status.DEAD),
    (403, "the push service refused the portal's signature (VAPID keys)", Delivery.Status.DEAD),
    (503, "the push service failed; trying again", Delivery.Status.FAILED),
])
def test_a_push_services_refusal_is_shown_as_a_reason_not_a_status_code(
        englewood, covering_org, worker, supervisor, vapid, status, reason, outcome):  # noqa: F811
    delivery = _push_delivery(englewood, covering_org, worker)
    with push_service(status):
        delivery_attempt(delivery_id=delivery.pk)
    delivery.refresh_from_db()
    assert (delivery.status, delivery.last_error) == (outcome, reason)
    listed = client_for_user(supervisor).get(f"/api/v1/organizations/{covering_org.code}/deliveries/?kind=push")
    assert [d["last_error"] for d in listed.json()["results"]] == [reason]


def test_a_push_host_the_operator_trusts_may_be_internal_and_plain_http_and_no_other_is(settings):
    from core.outbound import push_policy

    settings.PUSH_ALLOWED_HOSTS = ["127.0.0.1"]
    assert push_policy().address_for("http://127.0.0.1:8123/push/abc") == "127.0.0.1"
    for url in ("http://127.0.0.2:8123/push/abc", "https://localhost/push"):
        with pytest.raises(OutboundRefused):
            push_policy().address_for(url)
    settings.PUSH_ALLOWED_HOSTS = []
    with pytest.raises(OutboundRefused):
        push_policy().address_for("http://127.0.0.1:8123/push/abc")
