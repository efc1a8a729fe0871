"""core.mail.MailPool against a real SMTP server (aiosmtpd on a spare loopback port): messages
share a connection, and a connection the server dropped or that sat idle too long is replaced."""

import pytest
from aiosmtpd.controller import Controller
from django.core.mail import EmailMessage

from core.mail import MailPool
from tests.workers import free_port


class Server:
    """Counts the connections (each greets with EHLO) and the messages it accepted."""

    def __init__(self) -> None:
        server = self
        self.connections, self.messages = 0, []

        class Handler:
            async def handle_EHLO(self, smtp, session, envelope, hostname, responses):
                server.connections += 1
                session.host_name = hostname
                return responses

            async def handle_DATA(self, smtp, session, envelope):
                server.messages.append(envelope.rcpt_tos[0])
                return "250 Message accepted for delivery"

        self.port = free_port()
        self.handler = Handler()
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)

    def restart(self) -> None:
        """Stop and start again on the same port: every open connection is dropped."""
        self.controller.stop()
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)
        self.controller.start()


@pytest.fixture
def server(settings):
    server = Server()
    server.controller.start()
    settings.MAILERS = {"default": {"BACKEND": "core.mail.EmailBackend",
                                    "OPTIONS": {"host": "127.0.0.1", "port": server.port, "timeout": 5}}}
    settings.EMAIL_KEEPALIVE_SECONDS = 30
    yield server
    server.controller.stop()


def message(n: int) -> EmailMessage:
    return EmailMessage(f"Shooting {n}", "6300 S HALSTED ST", "cvi@example.org", [f"dispatch-{n}@example.org"])


def test_messages_one_after_another_share_one_connection(server):
    pool = MailPool()

    for n in range(5):
        pool.send(message(n))
    pool.close_all()

    assert server.messages == [f"dispatch-{n}@example.org" for n in range(5)]
    assert server.connections == 1


def test_a_connection_the_server_dropped_is_replaced_and_the_message_still_goes(server):
    pool = MailPool()
    pool.send(message(1))

    server.restart()
    pool.send(message(2))
    pool.close_all()

    assert server.messages == ["dispatch-1@example.org", "dispatch-2@example.org"]
    assert server.connections == 2


def test_a_connection_idle_longer_than_the_keepalive_is_not_reused(server, settings):
    settings.EMAIL_KEEPALIVE_SECONDS = 0
    pool = MailPool()

    pool.send(message(1))
    pool.send(message(2))
    pool.close_all()

    assert len(server.messages) == 2 and server.connections == 2


def test_a_refused_address_raises_as_django_does_and_the_next_message_goes(server):
    async def refuse(smtp, session, envelope, address, rcpt_options):
        if address.startswith("dispatch-1@"):
            return "550 No such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    server.handler.handle_RCPT = refuse
    pool = MailPool()

    with pytest.raises(Exception, match="dispatch-1@example.org"):
        pool.send(message(1))
    pool.send(message(2))
    pool.close_all()

    assert server.messages == ["dispatch-2@example.org"]
