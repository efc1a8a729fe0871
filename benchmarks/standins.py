"""Local stand-ins for the providers the portal sends through, each answering after a delay
(300 ms by default, a real provider's pace), for `make bench-notify`.

- `SlowHTTP`: one threaded HTTP/1.1 server (keep-alive allowed) answering as
  - a Twilio-shaped SMS API: `POST /2010-04-01/Accounts/<sid>/Messages.json` → 201 and a
    message resource (the portal's Twilio backend reaches it with TWILIO_API_BASE_URL);
  - a web push service: `POST /push/...` → 201 with a Location (reached with
    PUSH_ALLOWED_HOSTS, the setting for trusted push hosts);
  - webhook receivers: `POST /hook/...` → 204 (reached with WEBHOOK_ALLOWED_HOSTS);
  - a hanging receiver: `POST /hang/...` never answers while the caller waits (it gives up at
    its own read timeout).
  `counts` holds the requests answered per kind.
- `SlowSMTP`: an aiosmtpd server that accepts every message, answering DATA after the delay.
- `push_subscription_keys()` / `vapid_private_key()`: valid keys for a browser subscription
  and the portal's VAPID signature (pywebpush encrypts for real).

Run as a program (`python -m benchmarks.standins --delay 0.3`), it serves a slow HTTP stand-in,
a fast one (answering at once: the paced and burst sections' webhook) and the SMTP stand-in in
its own process, as real providers are outside the portal's processes and outside the
benchmark's: it prints one JSON line with their addresses, and `GET /counts` on either HTTP
stand-in answers the requests counted so far. Stop it with SIGTERM.
"""

import argparse
import asyncio
import base64
import json
import secrets
import signal
import socket
import sys
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

HANG_SECONDS = 120  # far beyond any read timeout the portal uses


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def push_subscription_keys() -> dict:
    """A browser subscription's keys: the P-256 public point (p256dh) and a 16-byte auth secret."""
    key = ec.generate_private_key(ec.SECP256R1())
    point = key.public_key().public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    return {"p256dh": _b64url(point), "auth": _b64url(secrets.token_bytes(16))}


def vapid_private_key() -> str:
    """A VAPID private key as `manage.py vapid_keys` prints it (raw 32 bytes, base64url)."""
    key = ec.generate_private_key(ec.SECP256R1())
    return _b64url(key.private_numbers().private_value.to_bytes(32, "big"))


class SlowHTTP:
    def __init__(self, delay: float = 0.3) -> None:
        self.delay = delay
        self.counts_of = lambda: dict(self.counts)  # what GET /counts answers
        self.counts: Counter = Counter()
        self._lock = threading.Lock()
        standin = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self):
                if self.path == "/counts":
                    self.answer(200, json.dumps(standin.counts_of()).encode(), {"content-type": "application/json"})
                else:
                    self.answer(404, b"", {})

            def do_POST(self):
                self.rfile.read(int(self.headers.get("content-length", 0)))
                kind = self.path.strip("/").split("/", 1)[0]
                if kind == "hang":
                    time.sleep(HANG_SECONDS)
                    self.close_connection = True
                    return
                time.sleep(standin.delay)
                if kind == "2010-04-01":
                    standin.count("sms")
                    body = json.dumps({"sid": "SM" + secrets.token_hex(16), "status": "queued",
                                       "num_segments": "1", "direction": "outbound-api"}).encode()
                    self.answer(201, body, {"content-type": "application/json"})
                elif kind == "push":
                    standin.count("push")
                    self.answer(201, b"", {"location": f"/push/messages/{secrets.token_hex(8)}"})
                elif kind == "hook":
                    standin.count("webhook")
                    self.answer(204, None, {})
                else:
                    self.answer(404, b"", {})

            def answer(self, status: int, body: bytes | None, headers: dict) -> None:
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                if body is not None:
                    self.send_header("content-length", str(len(body)))
                self.end_headers()
                if body:
                    self.wfile.write(body)

            def log_message(self, *args):
                pass

        class Server(ThreadingHTTPServer):
            request_queue_size = 256  # many workers connect at once
            daemon_threads = True

        self.server = Server(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def count(self, kind: str) -> None:
        with self._lock:
            self.counts[kind] += 1

    def start(self) -> "SlowHTTP":
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class SlowSMTP:
    """aiosmtpd on a spare loopback port; `received` counts the messages accepted."""

    def __init__(self, delay: float = 0.3) -> None:
        from aiosmtpd.controller import Controller

        standin = self
        self.delay = delay
        self.received = 0

        class Handler:
            async def handle_DATA(self, server, session, envelope):
                await asyncio.sleep(standin.delay)
                standin.received += 1
                return "250 Message accepted for delivery"

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)

    def start(self) -> "SlowSMTP":
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()


def counts_fetch(url: str) -> dict:
    """The requests a running stand-in process has answered, per kind."""
    from http.client import HTTPConnection
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    connection = HTTPConnection(parts.hostname, parts.port, timeout=10)
    try:
        connection.request("GET", "/counts")
        return json.loads(connection.getresponse().read())
    finally:
        connection.close()


def main() -> None:
    parser = argparse.ArgumentParser(description="the benchmark's provider stand-ins, in their own process")
    parser.add_argument("--delay", type=float, default=0.3, help="seconds before the slow stand-ins answer")
    args = parser.parse_args()
    slow, smtp = SlowHTTP(delay=args.delay), SlowSMTP(delay=args.delay)
    fast = SlowHTTP(delay=0)

    def counts() -> dict:
        return {**slow.counts, "email": smtp.received,
                **{f"fast_{k}": v for k, v in fast.counts.items()}}

    slow.counts_of = fast.counts_of = counts
    slow.start(), fast.start(), smtp.start()
    print(json.dumps({"slow": slow.url, "fast": fast.url, "smtp_port": smtp.port}), flush=True)
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    signal.signal(signal.SIGINT, lambda *_: stopped.set())
    stopped.wait()
    slow.stop(), fast.stop(), smtp.stop()
    sys.exit(0)


if __name__ == "__main__":
    main()
