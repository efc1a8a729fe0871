# CVI Portal. `make demo` serves the portal on the embedded default; `make test` runs the suite
# against PostgreSQL and Redis. Neither downloads a Python: a 3.12+ must be on the machine.
SHELL := /bin/bash
export UV_PYTHON_DOWNLOADS := never
export UV_PROJECT_ENVIRONMENT := .venv

UV_VERSION := 0.13.9
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/cvi
TEST_REDIS_URL ?= redis://127.0.0.1:6379/1
# pytest-xdist processes for `make test`, one a core (0: none, in one process). Each has its own
# test database and Redis database (cvi_portal/settings_test.py).
TEST_WORKERS ?= 2
# The ports `make demo` and `make stack` serve on. Each sets PORTAL_PORT from its own, so the
# links in messages (SITE_URL, when not set explicitly) point at the address actually served.
DEMO_PORT ?= 8000
STACK_PORT ?= 8000
PY := .venv/bin/python
MANAGE := $(PY) manage.py

.PHONY: help demo test venv lint stack attack load bench bench-notify bench-pages fuzz clean

help:
	@echo "make demo   install, migrate, seed real Chicago data, serve on http://127.0.0.1:$(DEMO_PORT) (DEMO_PORT=…)"
	@echo "make test   the whole suite against PostgreSQL and Redis, then the SQLite-marked tests on SQLite"
	@echo "make stack  gunicorn, outbox relay, Celery worker and beat against DATABASE_URL/REDIS_URL;"
	@echo "            real geography and organisations, no demo accounts unless DEMO=1 (STACK_PORT=…)"
	@echo "make attack a scripted attack on a fresh production-shaped stack on loopback (own database"
	@echo "            ATTACK_DATABASE_URL, own redis-server); counts per class, the last line one JSON object"
	@echo "make load   200 simulated people (locust, headless) on a stack of its own (LOAD_DATABASE_URL, own"
	@echo "            redis-server): p50/p95 per page and errors, the last line one JSON object (LOAD_SECONDS=…)"
	@echo "make bench  every benchmark (bench-notify, bench-pages, bench-import, bench-dashboard); make fuzz: the long API fuzz run"

# uv itself comes from the package index into .tools/, unless it is already on PATH.
UV := $(shell command -v uv 2>/dev/null || echo .tools/bin/uv)

.tools/bin/uv:
	python3 -m venv .tools
	.tools/bin/pip install --quiet --disable-pip-version-check "uv==$(UV_VERSION)"

venv: .venv/.synced

.venv/.synced: pyproject.toml uv.lock | $(UV)
	$(UV) sync --locked --python "$$(scripts/find-python)"
	@touch $@

demo: export PORTAL_PORT := $(DEMO_PORT)
demo: export DEBUG := true
demo: venv
	$(MANAGE) migrate --no-input
	$(MANAGE) seed_demo
	@echo ""
	@echo "Serving the CVI Portal on http://127.0.0.1:$(DEMO_PORT) with the outbox relay (Ctrl-C to stop)."
	.venv/bin/honcho start -f Procfile.demo

test: venv
	scripts/services
	scripts/browser
	scripts/pdf-libs
	scripts/compose
	DATABASE_URL=$(TEST_DATABASE_URL) REDIS_URL=$(TEST_REDIS_URL) $(PY) -m pytest -n $(TEST_WORKERS) $(PYTEST_ARGS)
	@echo "The tests marked sqlite, again on the embedded default (SQLite, no Redis):"
	env -u DATABASE_URL -u REDIS_URL -u CELERY_BROKER_URL CVI_TEST_DB=sqlite $(PY) -m pytest -m sqlite -q

lint: venv
	.venv/bin/ruff check .

# The production shape: real geography and organisations, no accounts. DEMO=1 adds the demo
# accounts and incidents (seed_demo, which refuses a database with real accounts).
# Production settings (DEBUG off) on plain HTTP on loopback: CVI_HTTPS=false keeps cookies
# usable on http://127.0.0.1 and is refused for any other host. Without SECRET_KEY, a key is
# generated once into the var folder (scripts/secret-key) and every process reads it.
stack: export PORTAL_PORT := $(STACK_PORT)
stack: export DEBUG := false
stack: export CVI_HTTPS ?= false
stack: export ALLOWED_HOSTS ?= 127.0.0.1,localhost
stack: export SECRET_KEY_FILE ?= $(or $(CVI_VAR_DIR),var)/stack-secret-key
stack: venv
	@test -n "$$DATABASE_URL" -a -n "$$REDIS_URL" || { echo "make stack needs DATABASE_URL and REDIS_URL (see .env.example)"; exit 1; }
	@test -n "$$SECRET_KEY" || $(PY) scripts/secret-key "$$SECRET_KEY_FILE"
	$(MANAGE) migrate --no-input
	$(MANAGE) collectstatic --no-input -v0
	$(MANAGE) load_geography
	$(MANAGE) load_organizations
	$(MANAGE) load_partners
	$(MANAGE) load_playbooks
	$(MANAGE) load_places
	$(if $(filter 1,$(DEMO)),$(MANAGE) seed_demo,@echo "No accounts were created: see the README, 'The first administrator' (or make stack DEMO=1)")
	@echo "Serving gunicorn on http://127.0.0.1:$(STACK_PORT), with the outbox relay, a Celery worker and beat (Ctrl-C stops all)."
	.venv/bin/honcho start -f Procfile -p $(STACK_PORT)

# The scripted attack (security/attack/, docs/security.md): drops and creates ATTACK_DATABASE_URL,
# starts its own redis-server, gunicorn, relay and worker with DEBUG off on a free loopback port,
# attacks it as every role, stops everything. Exits 1 if any attempt succeeded or the server
# answered 5xx; the last line is one JSON object.
ATTACK_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/cvi_attack
attack: venv
	scripts/services
	ATTACK_DATABASE_URL=$(ATTACK_DATABASE_URL) $(PY) -m security.attack $(ATTACK_ARGS)

# The web under load (loadtest/, docs/benchmarks.md): `make stack`'s processes on LOAD_DATABASE_URL
# (created when missing, reused) and a redis-server of their own; CPD desk staff polling the board,
# outreach workers on the feed acknowledging, staff entering incidents. LOAD_SECONDS is how long
# statistics are gathered once everyone has signed in; the last line is one JSON object.
LOAD_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/cvi_load
LOAD_SECONDS ?= 75
load: venv
	scripts/services
	LOAD_DATABASE_URL=$(LOAD_DATABASE_URL) LOAD_SECONDS=$(LOAD_SECONDS) $(PY) -m loadtest $(LOAD_ARGS)

# Incident commit → deliveries sent through real relays and Celery workers started with the
# Procfile's commands (own redis-server, local stand-ins for every provider, its own database
# BENCH_DATABASE_URL, created if missing): paced, burst, realistic fan-out, a hanging receiver,
# scale-out and intake, about 6 minutes; BENCH_NOTIFY_ARGS="--sections realistic,hanging" runs
# some. The last line is one JSON object.
BENCH_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/cvi_bench_notify
bench: bench-notify bench-pages bench-import bench-dashboard

bench-notify: venv
	scripts/services
	DATABASE_URL=$(BENCH_DATABASE_URL) $(PY) benchmarks/bench_notify.py $(BENCH_NOTIFY_ARGS)

bench-pages: venv
	scripts/browser
	$(PY) benchmarks/bench_pages.py $(BENCH_ARGS)

# The long API fuzz (schemathesis, every operation as every role); the last line is one JSON object.
FUZZ_EXAMPLES ?= 60
fuzz: venv
	scripts/services
	DATABASE_URL=$(TEST_DATABASE_URL) REDIS_URL=$(TEST_REDIS_URL) API_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(PY) scripts/fuzz-api

clean:
	rm -rf .venv .tools db.sqlite3 staticfiles var

# import_cpd_victims on 20,000 and 100,000 generated rows, each size in its own PostgreSQL database
# (BENCH_IMPORT_DATABASE_URL with _<rows> appended, created if missing): rows/s and peak RSS; the
# last line is one JSON object.
BENCH_IMPORT_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/cvi_bench_import
.PHONY: bench-import
bench-import: venv
	scripts/services
	DATABASE_URL=$(BENCH_IMPORT_DATABASE_URL) $(PY) benchmarks/bench_import.py $(BENCH_IMPORT_ARGS)

# The dashboard, incident history and monthly API on 1,000,000 generated incidents with 5,000,000
# deliveries in their own PostgreSQL database (BENCH_DASHBOARD_DATABASE_URL, created if missing;
# the data is reused while it is there, BENCH_DASHBOARD_ARGS=--regenerate for a new set): p50 and
# p95 server time against a bare aggregate's; the last line is one JSON object.
BENCH_DASHBOARD_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/cvi_bench_dashboard
.PHONY: bench-dashboard
bench-dashboard: venv
	scripts/services
	BENCH_DASHBOARD_DATABASE_URL=$(BENCH_DASHBOARD_DATABASE_URL) $(PY) benchmarks/bench_dashboard.py $(BENCH_DASHBOARD_ARGS)
