"""The SMTP backend outbound mail goes through: Django's, with every socket it opens obeying
`core.http_limits.send_deadline`.

smtplib's `timeout` bounds each socket operation, not a message: a mail server that answers a
line every few seconds (its greeting, EHLO, DATA) never trips it and would hold a sending thread
for as long as it likes. Here the connection's socket is registered with the send's watchdog the
moment it is connected (before STARTTLS or a login), so when the deadline passes it is shut
down and the send ends with "the receiver did not answer in time". Outside a `send_deadline`
block (a password-reset mail sent by a web request) it is Django's backend unchanged.
"""

import smtplib

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
