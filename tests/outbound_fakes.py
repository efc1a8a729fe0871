"""Fakes for the outside world the outbound guard talks to, replaced at its network calls only:
the DNS resolver (`socket.getaddrinfo`, for names this test owns) and a push service's answer
(urllib3's send, below the portal's own checks and pinning)."""

import socket
from collections.abc import Iterable
from contextlib import contextmanager
from unittest import mock

import requests

PUSH_ENDPOINT = "https://fcm.googleapis.com/fcm/send/abc"
PUBLIC_ADDRESS = "142.250.80.10"  # a Google address: what fcm.googleapis.com resolves to


class FakeDns:
    """Answers for the names it was given (each call pops the next answer; the last one
    sticks), and asks the real resolver about everything else (IP literals, localhost)."""

    def __init__(self, answers: dict[str, Iterable[str]]) -> None:
        self.answers = {name: list(addresses) for name, addresses in answers.items()}
        self.calls: list[str] = []
        self._real = socket.getaddrinfo

    def __call__(self, host, port, *args, **kwargs):
        name = host.decode() if isinstance(host, bytes) else host
        if name not in self.answers:
            return self._real(host, port, *args, **kwargs)
        self.calls.append(name)
        queue = self.answers[name]
        address = queue.pop(0) if len(queue) > 1 else queue[0]
        family = socket.AF_INET6 if ":" in address else socket.AF_INET
        sockaddr = (address, int(port or 0), 0, 0) if family == socket.AF_INET6 else (address, int(port or 0))
        return [(family, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", sockaddr)]


@contextmanager
def fake_dns(answers: dict[str, Iterable[str]]):
    dns = FakeDns(answers)
    with mock.patch("socket.getaddrinfo", dns):
        yield dns


@contextmanager
def push_service(status: int = 201, *, address: str = PUBLIC_ADDRESS):
    """fcm.googleapis.com resolves to `address` and answers `status`; yields the mock whose calls
    are the requests that reached the network (`request`, with the pinned address on it)."""

    def answer(adapter, request, **kwargs):
        response = requests.Response()
        response.status_code, response.url, response.request = status, request.url, request
        response.headers["Location"] = "msg-1"
        response._content = b""
        return response

    with (fake_dns({"fcm.googleapis.com": [address]}),
          mock.patch("requests.adapters.HTTPAdapter.send", autospec=True, side_effect=answer) as send):
        yield send
