"""Settings come from the environment and refuse a bad value at start, naming it.

Each case starts a fresh Python process with only the variables under test, as a
deployment would, and loads the real settings module.
"""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from cvi_portal.env import ImproperlyConfiguredEnv, load_dotenv, parse_database_url

BASE_DIR = Path(__file__).resolve().parent.parent
STRONG_KEY = "k3Xb9-Qm2Zr7Wp4Lt8Vn1Hs6Jd5Fg0Ya" + "Tc3Ue8Io2Pq7Rw9Ex4Nz1Mb6"
SHOW = (
    "import json, django; django.setup(); from django.conf import settings as s; "
    "print(json.dumps({'engine': s.DATABASES['default']['ENGINE'], "
    "'conn_max_age': s.DATABASES['default'].get('CONN_MAX_AGE'), 'eager': s.CELERY_TASK_ALWAYS_EAGER, "
    "'broker': s.CELERY_BROKER_URL, 'reuse': s.CELERY_DB_REUSE_MAX, 'debug': s.DEBUG, "
    "'mail': s.MAILERS['default']['BACKEND'], 'cache': s.CACHES['default']['BACKEND'], "
    "'hosts': s.ALLOWED_HOSTS, 'key_len': len(s.SECRET_KEY)}))"
)


def load_settings(tmp_path, **env: str) -> subprocess.CompletedProcess:
    """Import the settings in a new process with exactly `env` (plus PATH) set."""
    environment = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "CVI_VAR_DIR": str(tmp_path),
                   "DJANGO_SETTINGS_MODULE": "cvi_portal.settings", **env}
    return subprocess.run([sys.executable, "-c", SHOW], cwd=BASE_DIR, env=environment,
                          capture_output=True, text=True, timeout=60)


def refused(result: subprocess.CompletedProcess) -> str:
    assert result.returncode != 0, result.stdout
    last_line = result.stderr.strip().splitlines()[-1]
    assert last_line.startswith("cvi_portal.env.ImproperlyConfiguredEnv: "), result.stderr
    return last_line.removeprefix("cvi_portal.env.ImproperlyConfiguredEnv: ")


def test_with_nothing_set_the_portal_runs_on_the_embedded_default(tmp_path):
    result = load_settings(tmp_path)
    assert result.returncode == 0, result.stderr
    shown = json.loads(result.stdout)
    assert shown["engine"] == "django.db.backends.sqlite3"
    assert shown["eager"] is True and shown["broker"] == ""
    assert shown["debug"] is True
    assert shown["mail"] == "django.core.mail.backends.console.EmailBackend"
    assert shown["cache"].endswith("LocMemCache")
    assert shown["key_len"] >= 50
    # The generated development secret is kept, so sessions survive a restart.
    assert json.loads(load_settings(tmp_path).stdout)["key_len"] == shown["key_len"]
    assert (tmp_path / "dev-secret-key").exists()


def test_with_postgres_and_redis_it_keeps_connections_and_uses_real_workers(tmp_path):
    result = load_settings(tmp_path, DATABASE_URL="postgres://cvi:pw@db.internal:5433/cvi?sslmode=require",
                           REDIS_URL="redis://cache.internal:6379/0", CONN_MAX_AGE="120",
                           CELERY_DB_REUSE_MAX="500")
    assert result.returncode == 0, result.stderr
    shown = json.loads(result.stdout)
    assert shown["engine"] == "django.db.backends.postgresql"
    assert shown["conn_max_age"] == 120
    assert shown["eager"] is False and shown["broker"] == "redis://cache.internal:6379/0"
    assert shown["reuse"] == 500
    assert shown["cache"].endswith("RedisCache")


def test_a_production_configuration_loads(tmp_path):
    result = load_settings(tmp_path, DEBUG="false", SECRET_KEY=STRONG_KEY, ALLOWED_HOSTS="portal.example.org, x.org",
                           DATABASE_URL="postgres://cvi@db/cvi")
    assert result.returncode == 0, result.stderr
    shown = json.loads(result.stdout)
    assert shown["debug"] is False and shown["hosts"] == ["portal.example.org", "x.org"]
    assert shown["mail"] == "core.mail.EmailBackend"  # Django's SMTP backend within the send's deadline


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("mysql://cvi@db/cvi", "DATABASE_URL has the scheme 'mysql'; use postgres:// or sqlite:///"),
        ("postgres://cvi:hunter2-secret@db:fivefourthree/cvi", "DATABASE_URL has a port that is not a number"),
        ("postgres://cvi@db/", "DATABASE_URL needs a database name: postgres://host/name"),
        ("postgres://cvi@db/cvi/extra", "DATABASE_URL needs a database name: postgres://host/name"),
        ("postgres:///cvi", "DATABASE_URL needs a host: postgres://host/name"),
        ("localhost:5432", "DATABASE_URL has the scheme 'localhost'; use postgres:// or sqlite:///"),
        ("sqlite://", "DATABASE_URL for SQLite needs a file: sqlite:///db.sqlite3"),
    ],
)
def test_a_malformed_database_url_stops_the_start_and_says_what_is_wrong(tmp_path, url, message):
    assert refused(load_settings(tmp_path, DATABASE_URL=url)) == message


def test_the_database_password_is_never_echoed_in_the_error(tmp_path):
    result = load_settings(tmp_path, DATABASE_URL="postgres://cvi:hunter2-secret@db:fivefourthree/cvi")
    assert result.returncode != 0
    assert "hunter2-secret" not in result.stderr + result.stdout


@pytest.mark.parametrize("value", ["maybe", "flase", "2"])
def test_a_debug_value_that_is_not_a_boolean_is_refused(tmp_path, value):
    assert refused(load_settings(tmp_path, DEBUG=value)) == f"DEBUG={value!r} is not a boolean (use true or false)"


def test_production_without_a_secret_key_is_refused(tmp_path):
    message = refused(load_settings(tmp_path, DEBUG="false", ALLOWED_HOSTS="portal.example.org"))
    assert message == "SECRET_KEY must be set when DEBUG=false"


@pytest.mark.parametrize("key", ["short-key", "django-insecure-" + "x" * 50, "a" * 60])
def test_production_with_a_weak_secret_key_is_refused(tmp_path, key):
    message = refused(load_settings(tmp_path, DEBUG="false", SECRET_KEY=key, ALLOWED_HOSTS="portal.example.org"))
    assert message == "SECRET_KEY is too weak for DEBUG=false: use 50+ random characters"


def test_production_without_allowed_hosts_is_refused(tmp_path):
    message = refused(load_settings(tmp_path, DEBUG="false", SECRET_KEY=STRONG_KEY))
    assert message == "ALLOWED_HOSTS must be set when DEBUG=false"


@pytest.mark.parametrize(("name", "value", "message"), [
    ("CONN_MAX_AGE", "a minute", "CONN_MAX_AGE='a minute' is not a whole number"),
    ("CELERY_DB_REUSE_MAX", "-1", "CELERY_DB_REUSE_MAX=-1 is below the minimum 0"),
])
def test_a_number_setting_that_is_not_a_number_is_refused(tmp_path, name, value, message):
    assert refused(load_settings(tmp_path, DATABASE_URL="postgres://cvi@db/cvi", **{name: value})) == message


def test_a_database_url_becomes_a_pooled_postgres_entry_with_decoded_credentials():
    entry = parse_database_url("postgres://cvi%40ops:p%2Fw@db.internal:6432/cvi%5Fprod?sslmode=require",
                               conn_max_age=60)
    assert entry == {
        "ENGINE": "django.db.backends.postgresql", "NAME": "cvi_prod", "USER": "cvi@ops", "PASSWORD": "p/w",
        "HOST": "db.internal", "PORT": "6432", "CONN_MAX_AGE": 60, "CONN_HEALTH_CHECKS": True,
        "OPTIONS": {"sslmode": "require", "options": "-c jit=off"},
    }


def test_a_dotenv_file_fills_in_only_what_the_environment_does_not_set(tmp_path, monkeypatch):
    monkeypatch.setenv("CVI_TEST_ALREADY", "from-environment")
    monkeypatch.delenv("CVI_TEST_NEW", raising=False)
    monkeypatch.delenv("CVI_TEST_QUOTED", raising=False)
    dotenv = tmp_path / ".env"
    dotenv.write_text("# a comment\n\nCVI_TEST_ALREADY=from-file\nCVI_TEST_NEW=new\nCVI_TEST_QUOTED='a b'\n")
    load_dotenv(dotenv)
    assert os.environ["CVI_TEST_ALREADY"] == "from-environment"
    assert os.environ["CVI_TEST_NEW"] == "new"
    assert os.environ["CVI_TEST_QUOTED"] == "a b"
    monkeypatch.delenv("CVI_TEST_NEW")
    monkeypatch.delenv("CVI_TEST_QUOTED")


def test_a_dotenv_line_that_is_not_key_value_is_refused_with_its_line_number(tmp_path):
    dotenv = tmp_path / ".env"
    dotenv.write_text("DEBUG=false\nthis is not a setting\n")
    with pytest.raises(ImproperlyConfiguredEnv, match=r"^\.env line 2 is not KEY=value$"):
        load_dotenv(dotenv)


def test_every_setting_read_from_the_environment_is_documented_in_env_example():
    settings_source = (BASE_DIR / "cvi_portal" / "settings.py").read_text()
    read = set(re.findall(r'env_(?:str|bool|int|list)\("([A-Z0-9_]+)"', settings_source))
    documented = set(re.findall(r"^([A-Z0-9_]+)=", (BASE_DIR / ".env.example").read_text(), re.M))
    assert read - documented == set()
    assert {"DEBUG", "SECRET_KEY", "ALLOWED_HOSTS", "DATABASE_URL", "REDIS_URL"} <= read


def show(tmp_path, expression: str, **env: str):
    """The JSON value of `expression` (over the settings `s`) in a fresh process with `env`."""
    environment = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "CVI_VAR_DIR": str(tmp_path),
                   "DJANGO_SETTINGS_MODULE": "cvi_portal.settings", **env}
    code = ("import json, django; django.setup(); from django.conf import settings as s; "
            f"print(json.dumps({expression}))")
    result = subprocess.run([sys.executable, "-c", code], cwd=BASE_DIR, env=environment,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_links_in_messages_point_at_the_port_served_unless_site_url_is_set(tmp_path):
    assert show(tmp_path, "s.SITE_URL") == "http://127.0.0.1:8000"
    assert show(tmp_path, "s.SITE_URL", PORTAL_PORT="8123") == "http://127.0.0.1:8123"
    assert show(tmp_path, "s.SITE_URL", PORTAL_PORT="8123", SITE_URL="https://portal.example.org/") == \
        "https://portal.example.org"


def test_the_embedded_sqlite_file_lives_in_the_var_dir_in_wal_mode_with_immediate_transactions(tmp_path):
    expression = ("{'name': str(s.DATABASES['default']['NAME']), 'options': s.DATABASES['default']['OPTIONS'], "
                  "'journal': __import__('django.db', fromlist=['connection']).connection.cursor()"
                  ".execute('PRAGMA journal_mode').fetchone()[0]}")
    shown = show(tmp_path, expression)
    assert shown["name"] == str(tmp_path / "db.sqlite3")
    assert shown["options"]["transaction_mode"] == "IMMEDIATE"
    assert shown["options"]["timeout"] == 20
    assert shown["journal"] == "wal"
    # A sqlite:/// DATABASE_URL gets the same configuration.
    other = tmp_path / "other.sqlite3"
    assert show(tmp_path, "s.DATABASES['default']['OPTIONS']['transaction_mode']",
                DATABASE_URL=f"sqlite:///{other}") == "IMMEDIATE"


# --- Production-shaped runs: the secret file, HTTPS, make stack ----------------------------

HARDENING = ("{'debug': s.DEBUG, 'https': s.CVI_HTTPS, 'redirect': s.SECURE_SSL_REDIRECT, "
             "'hsts': s.SECURE_HSTS_SECONDS, 'session_secure': s.SESSION_COOKIE_SECURE, "
             "'csrf_secure': s.CSRF_COOKIE_SECURE, 'key': s.SECRET_KEY}")


def test_a_secret_key_file_is_read_when_secret_key_is_not_set(tmp_path):
    key_file = tmp_path / "secret"
    key_file.write_text(STRONG_KEY + "\n")
    shown = show(tmp_path, HARDENING, DEBUG="false", ALLOWED_HOSTS="portal.example.org", SECRET_KEY_FILE=str(key_file))
    assert shown["key"] == STRONG_KEY
    # SECRET_KEY, when set, wins over the file.
    other = STRONG_KEY[::-1]
    assert show(tmp_path, "s.SECRET_KEY", DEBUG="false", ALLOWED_HOSTS="portal.example.org",
                SECRET_KEY_FILE=str(key_file), SECRET_KEY=other) == other


def test_a_weak_or_missing_secret_key_file_is_refused_in_production(tmp_path):
    weak = tmp_path / "weak"
    weak.write_text("changeme")
    assert refused(load_settings(tmp_path, DEBUG="false", ALLOWED_HOSTS="portal.example.org",
                                 SECRET_KEY_FILE=str(weak))) == \
        "SECRET_KEY_FILE is too weak for DEBUG=false: use 50+ random characters"
    assert refused(load_settings(tmp_path, DEBUG="false", ALLOWED_HOSTS="portal.example.org",
                                 SECRET_KEY_FILE=str(tmp_path / "absent"))) == \
        "SECRET_KEY_FILE names a file that cannot be read: create it with scripts/secret-key"


def test_scripts_secret_key_makes_a_private_strong_key_once(tmp_path):
    path = tmp_path / "var" / "stack-secret-key"
    script = str(BASE_DIR / "scripts" / "secret-key")
    assert subprocess.run([sys.executable, script, str(path)], timeout=30).returncode == 0
    key = path.read_text().strip()
    assert len(key) >= 50 and len(set(key)) > 20
    assert path.stat().st_mode & 0o777 == 0o600
    assert subprocess.run([sys.executable, script, str(path)], timeout=30).returncode == 0
    assert path.read_text().strip() == key  # kept: sessions survive a restart


def test_production_defaults_to_https_with_secure_cookies_and_hsts(tmp_path):
    shown = show(tmp_path, HARDENING, DEBUG="false", SECRET_KEY=STRONG_KEY, ALLOWED_HOSTS="portal.example.org")
    assert shown["https"] is True and shown["redirect"] is True
    assert shown["hsts"] == 31536000
    assert shown["session_secure"] is True and shown["csrf_secure"] is True


def test_plain_http_is_allowed_on_loopback_only(tmp_path):
    shown = show(tmp_path, HARDENING, DEBUG="false", SECRET_KEY=STRONG_KEY, ALLOWED_HOSTS="127.0.0.1,localhost",
                 CVI_HTTPS="false", SECURE_SSL_REDIRECT="true")
    assert shown["redirect"] is False and shown["hsts"] == 0
    assert shown["session_secure"] is False and shown["csrf_secure"] is False
    message = refused(load_settings(tmp_path, DEBUG="false", SECRET_KEY=STRONG_KEY,
                                    ALLOWED_HOSTS="127.0.0.1,portal.example.org", CVI_HTTPS="false"))
    assert message == "CVI_HTTPS=false is only for loopback: ALLOWED_HOSTS must be 127.0.0.1/localhost"


def test_sessions_last_hours_not_weeks_and_outreach_longer_than_staff(tmp_path):
    shown = show(tmp_path, "[s.SESSION_COOKIE_AGE, s.SESSION_IDLE_MINUTES, s.SESSION_IDLE_MINUTES_OUTREACH, "
                           "s.SESSION_MAX_HOURS, s.SESSION_MAX_HOURS_OUTREACH]")
    cookie_age, idle, idle_outreach, max_hours, max_hours_outreach = shown
    assert cookie_age < 14 * 24 * 3600 and cookie_age == max(max_hours, max_hours_outreach) * 3600
    assert idle <= 30 and idle_outreach > idle and max_hours_outreach > max_hours


def test_make_stack_and_the_procfile_run_with_debug_off_and_only_the_demo_with_debug_on():
    makefile = (BASE_DIR / "Makefile").read_text()
    assert "stack: export DEBUG := false\n" in makefile
    assert "stack: export CVI_HTTPS ?= false\n" in makefile
    assert "stack: export ALLOWED_HOSTS ?= 127.0.0.1,localhost\n" in makefile
    assert 'scripts/secret-key "$$SECRET_KEY_FILE"' in makefile
    assert "demo: export DEBUG := true\n" in makefile
    procfile = [line for line in (BASE_DIR / "Procfile").read_text().splitlines() if line]
    assert procfile and all(line.split(": ", 1)[1].startswith("DEBUG=false ") for line in procfile)
    demo = [line for line in (BASE_DIR / "Procfile.demo").read_text().splitlines() if line and line[0] != "#"]
    assert demo and all(line.split(": ", 1)[1].startswith("DEBUG=true ") for line in demo)
    assert "ENV DEBUG=false" in (BASE_DIR / "Dockerfile").read_text()


def test_what_make_stack_sets_serves_production_pages_over_plain_http_on_loopback(tmp_path):
    """The environment `make stack` exports, with a key from scripts/secret-key: DEBUG off, a
    404 that lists no URL pattern, cookies a browser keeps on http://127.0.0.1."""
    key_file = tmp_path / "stack-secret-key"
    subprocess.run([sys.executable, str(BASE_DIR / "scripts" / "secret-key"), str(key_file)], check=True, timeout=30)
    expression = ("(lambda c: (lambda r404, login: {'debug': s.DEBUG, 'status': r404.status_code, "
                  "'page': r404.content.decode(), 'login': login.status_code, "
                  "'csrf_secure': bool(login.cookies['csrftoken']['secure'])})"
                  "(c.get('/no-such-page/'), c.get('/accounts/login/')))"
                  "(__import__('django.test', fromlist=['Client']).Client(HTTP_HOST='127.0.0.1'))")
    shown = show(tmp_path, expression, DEBUG="false", CVI_HTTPS="false", ALLOWED_HOSTS="127.0.0.1,localhost",
                 SECRET_KEY_FILE=str(key_file), DATABASE_URL=os.environ["DATABASE_URL"],
                 DJANGO_SETTINGS_MODULE="cvi_portal.settings_test")  # static files without collectstatic
    assert shown["debug"] is False
    assert shown["status"] == 404 and "URLconf" not in shown["page"] and "urlpatterns" not in shown["page"]
    assert "Page not found" in shown["page"]
    assert shown["login"] == 200 and shown["csrf_secure"] is False
