"""The floor the notification benchmark is measured against: what the stack costs with no
portal code in it. `echo` is a Celery task that only answers on a Redis list (the worker
loads it with `--include benchmarks.floor`); `celery_round_trip` times publish → run →
answer; `insert_round_trip` times one bare INSERT and its commit.
"""

import time
import uuid

import redis
from celery import shared_task


@shared_task(name="benchmarks.floor.echo", ignore_result=True)
def echo(broker_url: str, reply_to: str) -> None:
    redis.Redis.from_url(broker_url).rpush(reply_to, b"1")


def celery_round_trip(*, broker_url: str, queue: str, samples: int = 200, wait: float = 10) -> list[float]:
    """Seconds from publishing a task to seeing its answer, one at a time (each waits up to `wait`)."""
    client = redis.Redis.from_url(broker_url, socket_timeout=wait + 5)
    timings = []
    for _ in range(samples):
        reply_to = f"bench:floor:{uuid.uuid4().hex}"
        started = time.perf_counter()
        echo.apply_async(args=(broker_url, reply_to), queue=queue)
        if client.blpop([reply_to], timeout=wait) is None:
            raise RuntimeError(f"the floor task did not answer within {wait} s: is the worker running?")
        timings.append(time.perf_counter() - started)
    return timings


def insert_round_trip(*, samples: int = 200) -> list[float]:
    """Seconds for one INSERT of one small row, committed (autocommit), on the default database."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE IF NOT EXISTS bench_floor (id bigserial PRIMARY KEY, at timestamptz)")
        timings = []
        for _ in range(samples):
            started = time.perf_counter()
            cursor.execute("INSERT INTO bench_floor (at) VALUES (now())")
            timings.append(time.perf_counter() - started)
        cursor.execute("DROP TABLE bench_floor")
    return timings
