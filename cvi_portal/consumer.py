"""The worker's broker consumer: Celery's, made to survive losing Redis while it holds messages.

When the broker goes away after the worker connected, Celery 5.7 first `collect()`s the broken
connection and then `close()`s it. collect() closes the connection's channels and detaches its
transport from the connection (`transport.client = None`), but a channel that was waiting on
BRPOP when Redis went fails to close on the dead socket and lives on, as do the messages it
handed out and the worker still holds (running, or due later). Everything that channel does
afterwards reads the broker's address through `transport.client`, and kombu raises
AttributeError ("'NoneType' object has no attribute 'hostname'"):
- close() closes the channel a second time, and it tries to give its unacknowledged messages back;
- a task that was running when Redis went finishes, and its message is acknowledged.
AttributeError is not one of the connection errors Celery ignores there, so the worker ended with
"Unrecoverable error" instead of reconnecting when Redis returns.

Here the transport gets its address back between collect() and close(). The channel then does
what it would on any live connection: while Redis is down each call fails with a connection error,
which Celery ignores or logs; once it is back, the acknowledgement reaches it. Nothing is lost
either way: a message neither given back nor acknowledged returns to the queue after the broker's
visibility timeout, and the outbox relay hands over again every delivery whose claim expired.
"""

from celery.worker.consumer import Consumer as CeleryConsumer


class Consumer(CeleryConsumer):
    def on_connection_error_after_connected(self, exc):
        if self.connection is not None:
            self.connection.close = _reattaching_close(self.connection)
        super().on_connection_error_after_connected(exc)


def _reattaching_close(connection):
    transport, address, close = connection.transport, connection.transport.client, connection.close

    def close_after_collect():
        transport.client = address
        close()
    return close_after_collect
