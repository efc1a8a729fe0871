"""The SMTP backend outbound mail goes through: Django's, with every socket it opens obeying
`core.http_limits.send_deadline`; and `MailPool`, which keeps its connections open between
sends.

smtplib's `timeout` bounds each socket operation, not a message: a mail server that answers a
line every few seconds (its greeting, EHLO, DATA) never trips it and would hold a sending thread
for as long as it likes. Here the connection's socket is registered with the send's watchdog the
moment it is connected (before STARTTLS or a login), so when the deadline passes it is shut
down and the send ends with "the receiver did not answer in time". Outside a `send_deadline`
block (a password-reset mail sent by a web request) it is Django's backend unchanged.
"""

import smtplib
import threading
import time

from django.conf import settings
from django.core.mail import mailers
from django.core.mail.backends import smtp

from .http_limits import watched_socket


class _SMTP(smtplib.SMTP):
    def _get_socket(self, host, port, timeout):
        return watched_socket(super()._get_socket(host, port, timeout))


class _SMTP_SSL(smtplib.SMTP_SSL):  # noqa: N801 (smtplib's name)
    def _get_socket(self, host, port, timeout):
        return watched_socket(super()._get_socket(host, port, timeout))


class EmailBackend(smtp.EmailBackend):
    @property
    def connection_class(self):
        return _SMTP_SSL if self.use_ssl else _SMTP


class MailPool:
    """Open SMTP connections kept for the next send, so a message does not pay for a new
    connection, STARTTLS and a login each time (several round trips and a TLS handshake with a
    real provider). A send takes the connection used last (checked with a NOOP, under the send's
    deadline), or opens one; after the send the connection goes back to the pool, after an error
    it is closed. A connection idle longer than `EMAIL_KEEPALIVE_SECONDS` is closed rather than
    reused (servers drop idle ones after a minute or a few), and the pool never holds more
    connections than were in use at once (the notification worker's mail lane bounds that). A
    mailer other than SMTP (the console, the test outbox) is used as it is, one instance a send."""

    def __init__(self) -> None:
        self._idle: list[tuple[smtp.EmailBackend, float]] = []
        self._lock = threading.Lock()

    def send(self, message) -> None:
        """Send one message (Django's exceptions, as `EmailMessage.send` raises them)."""
        backend = self._take()
        try:
            backend.send_messages([message])
        except BaseException:
            backend.close()
            raise
        if isinstance(backend, smtp.EmailBackend):
            with self._lock:
                self._idle.append((backend, time.monotonic()))

    def _take(self):
        while True:
            with self._lock:
                if not self._idle:
                    break
                backend, since = self._idle.pop()  # the one used last: the likeliest still open
            if time.monotonic() - since <= settings.EMAIL_KEEPALIVE_SECONDS and _answers(backend):
                return backend
            backend.close()
        backend = mailers.default
        if isinstance(backend, smtp.EmailBackend):
            backend.open()  # kept open: send_messages closes only a connection it opened itself
        return backend

    def close_all(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for backend, _since in idle:
            backend.close()


def _answers(backend: smtp.EmailBackend) -> bool:
    """Whether a kept connection still answers: the server may have closed it while idle."""
    if backend.connection is None or backend.connection.sock is None:
        return False
    watched_socket(backend.connection.sock)  # from here on, this send's deadline governs it
    try:
        return backend.connection.noop()[0] == 250
    except (smtplib.SMTPException, OSError):
        return False
