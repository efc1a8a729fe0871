"""`make attack`: a scripted attack on a freshly started, production-shaped portal on loopback.

`python -m security.attack` starts its own stack (a fresh PostgreSQL database, its own
redis-server, gunicorn, the outbox relay and a Celery worker, DEBUG off), seeds users in
every role, incidents in two districts and two organisations, then runs each attack class
against it as each role, prints every class with the attempts tried, the ones that succeeded
and the server errors, stops everything, and ends with one JSON object. Exit status 1 when
any attempt succeeded or the server answered 5xx; docs/security.md says what each class proves.

Modules: stack.py (start and stop), seed.py (runs inside the portal's environment), client.py
(an HTTP client that signs in like a browser), crawl.py (pages and forms per role), tally.py
(counts), and one module per family of attacks: auth.py, inject.py, scope.py, outbound.py.
"""
