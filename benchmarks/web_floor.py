"""The intake benchmark's bare POST: a view that writes four rows and nothing else, served by
the same gunicorn and middleware as the portal, so `intake_floor_ms` is what any POST costs on
this server setup.

Reachable only through `benchmarks.web_floor_settings` (the portal's settings with this
URLconf in front of the portal's own), which only `make bench-notify` starts gunicorn with;
production's ROOT_URLCONF never includes it. The table is created by the benchmark.
"""

from django.db import connection, transaction
from django.http import JsonResponse
from django.urls import include, path
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

TABLE = "bench_post_floor"
CREATE_TABLE = f"CREATE TABLE IF NOT EXISTS {TABLE} (id bigserial PRIMARY KEY, at timestamptz, body text)"


@csrf_exempt
@require_POST
def bare_post(request):
    """Four single-row INSERTs in one transaction (an incident's four rows, as a floor)."""
    body = request.body.decode()
    with transaction.atomic(), connection.cursor() as cursor:
        for _ in range(4):
            cursor.execute(f"INSERT INTO {TABLE} (at, body) VALUES (now(), %s)", [body])  # noqa: S608 (a constant)
    return JsonResponse({"ok": True}, status=201)


urlpatterns = [
    path("bench/bare-post/", bare_post),
    path("", include("cvi_portal.urls")),
]
