"""Receivers that misbehave: each send fails with a reason a supervisor can read, goes back
into the retry schedule, and gives its thread back within the send's deadline. Also: a kept-
alive connection is reused for the next delivery to the same receiver.

The receivers are local TCP servers speaking (or not speaking) HTTP; the send runs in this
process as the worker would run it (notifications.sending)."""

import http.server
import socket
import threading
import time

import pytest

from districts.models import Channel, webhook_secret_new
from notifications.models import Delivery
from notifications.sending import delivery_attempt
from tests.workers import incident_notify, wait_until

pytestmark = pytest.mark.django_db


class RawReceiver:
    """A TCP server whose `answer(connection)` writes whatever it likes. `cut` records that the
    other side closed the connection before the answer was complete."""

    def __init__(self, answer) -> None:
        self.answer, self.cut, self.connections = answer, False, 0
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}/hook"
        self.thread = threading.Thread(target=self._serve, daemon=True)

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _handle(self, conn: socket.socket) -> None:
        with conn:
            conn.recv(65536)  # the request
            try:
                self.answer(conn)
            except OSError:  # the portal closed the connection first
                self.cut = True

    def __enter__(self) -> "RawReceiver":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.sock.close()


def _garbage(conn):
    conn.sendall(b"SSH-2.0-OpenSSH_9.2\r\n\r\n")


def _redirect(conn):
    conn.sendall(b"HTTP/1.1 302 Found\r\nLocation: http://169.254.169.254/latest/meta-data/\r\n"
                 b"Content-Length: 0\r\n\r\n")


def _huge_body(conn):
    conn.sendall(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n")  # no length: read until closed
    for _ in range(2000):  # 2 GB in all, unless the portal stops reading
        conn.sendall(b"x" * 1_000_000)


def _trickle(conn):
    for byte in b"HTTP/1.1 200 OK\r\nX-Slow: " + b"y" * 200:  # a byte every half second: 100 s
        conn.sendall(bytes([byte]))
        time.sleep(0.5)


def _tls_to_plain(conn):
    conn.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")  # the answer to a TLS hello


@pytest.fixture
def webhook_to(settings, englewood, covering_org):
    settings.WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]
    settings.DELIVERY_SEND_DEADLINE = 2

    def make(url: str) -> Delivery:
        Channel.objects.create(organization=covering_org, kind=Channel.Kind.WEBHOOK, target=url,
                               secret=webhook_secret_new())
        notification = incident_notify(district=englewood, organization=covering_org)
        return notification.deliveries.get(kind=Channel.Kind.WEBHOOK)
    return make


@pytest.mark.parametrize("answer, reason", [
    (_garbage, "answered with something that is not HTTP"),
    (_redirect, "answered with a redirect, which is not followed"),
    (_huge_body, "answered with a body too large to read"),
    (_trickle, "did not answer in time"),
    (_tls_to_plain, "failed the secure (TLS) connection check"),
], ids=["garbage", "redirect", "huge body", "trickle", "tls error"])
def test_a_misbehaving_receiver_fails_the_delivery_with_a_clear_reason_and_frees_the_sender(
        webhook_to, answer, reason):
    with RawReceiver(answer) as receiver:
        url = receiver.url.replace("http://", "https://") if answer is _tls_to_plain else receiver.url
        delivery = webhook_to(url)
        assert delivery_attempt(delivery_id=delivery.pk) == "failed"
        delivery.refresh_from_db()
        assert delivery.status == Delivery.Status.FAILED and delivery.attempts == 1
        assert reason in delivery.last_error
        if answer in (_huge_body, _trickle):
            # The send gave up long before the receiver would have finished: the portal cut it.
            # (the receiver's next write is what notices the closed connection)
            wait_until(lambda: receiver.cut, timeout=10, what="the receiver to see its connection closed")


def test_the_redirect_target_is_never_called(webhook_to):
    with RawReceiver(_garbage) as metadata, RawReceiver(lambda conn: conn.sendall(
            b"HTTP/1.1 307 Temporary Redirect\r\nLocation: " + metadata.url.encode() + b"\r\n"
            b"Content-Length: 0\r\n\r\n")) as redirecting:
        delivery = webhook_to(redirecting.url)
        assert delivery_attempt(delivery_id=delivery.pk) == "failed"
    assert metadata.connections == 0


class _KeepAlive(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    peers: list[int] = []

    def do_POST(self):
        self.rfile.read(int(self.headers.get("content-length", 0)))
        type(self).peers.append(self.client_address[1])
        self.send_response(204)
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


def test_two_deliveries_to_one_receiver_share_one_kept_alive_connection(webhook_to, englewood, covering_org):
    _KeepAlive.peers = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _KeepAlive)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        first = webhook_to(f"http://127.0.0.1:{server.server_address[1]}/hook")
        second = incident_notify(district=englewood, organization=covering_org).deliveries.get(kind="webhook")
        assert delivery_attempt(delivery_id=first.pk) == "sent"
        assert delivery_attempt(delivery_id=second.pk) == "sent"
    finally:
        server.shutdown()
        server.server_close()
    assert len(_KeepAlive.peers) == 2 and _KeepAlive.peers[0] == _KeepAlive.peers[1]  # the same client socket


class TricklingMailServer:
    """A mail server that greets a byte every half second (smtplib's per-read timeout never
    trips); `cut` records that the portal closed the connection."""

    def __init__(self) -> None:
        self.cut = False
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        try:
            conn, _ = self.sock.accept()
        except OSError:
            return
        with conn:
            try:
                for byte in b"220-" + b"z" * 200:  # 100 s of greeting
                    conn.sendall(bytes([byte]))
                    time.sleep(0.5)
            except OSError:
                self.cut = True


def test_a_mail_server_that_trickles_is_cut_at_the_send_deadline(settings, englewood, covering_org):
    server = TricklingMailServer()
    settings.DELIVERY_SEND_DEADLINE = 2
    settings.MAILERS = {"default": {"BACKEND": "core.mail.EmailBackend",
                                    "OPTIONS": {"host": "127.0.0.1", "port": server.port, "timeout": 10}}}
    Channel.objects.create(organization=covering_org, kind=Channel.Kind.EMAIL, target="team@outreach.example.org")
    delivery = incident_notify(district=englewood, organization=covering_org).deliveries.get(kind=Channel.Kind.EMAIL)
    try:
        assert delivery_attempt(delivery_id=delivery.pk) == "failed"
        delivery.refresh_from_db()
        assert delivery.status == Delivery.Status.FAILED
        assert "did not answer in time" in delivery.last_error
        wait_until(lambda: server.cut, timeout=10, what="the mail server to see its connection closed")
    finally:
        server.sock.close()
