"""Typed readers for settings that come from the environment.

Each reader fails loudly with the variable's name and what was wrong, so a typo in a
deployment stops the process at start instead of running with a surprising default.
"""

import os
from urllib.parse import parse_qs, unquote, urlsplit


class ImproperlyConfiguredEnv(ValueError):
    """An environment variable holds a value the portal cannot use."""


_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default).strip()


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfiguredEnv(f"{name}={raw!r} is not a boolean (use true or false)")


def env_int(name: str, default: int, *, minimum: int = 0) -> int:
    raw = os.environ.get(name)
    if raw is None or not raw.strip():
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfiguredEnv(f"{name}={raw!r} is not a whole number") from None
    if value < minimum:
        raise ImproperlyConfiguredEnv(f"{name}={value} is below the minimum {minimum}")
    return value


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


_ENGINES = {
    "postgres": "django.db.backends.postgresql",
    "postgresql": "django.db.backends.postgresql",
    "pgsql": "django.db.backends.postgresql",
    "sqlite": "django.db.backends.sqlite3",
}


def sqlite_database(path) -> dict:
    """A DATABASES entry for a SQLite file that a web process and the relay write at once.

    - WAL: readers never wait for the writer, and the writer never waits for readers.
    - IMMEDIATE transactions take the write lock at BEGIN. A deferred transaction that reads
      first and writes later cannot wait for the lock (SQLite answers "database is locked" at
      once, whatever the timeout, because waiting could deadlock); an immediate one queues.
    - The busy timeout (20 s, as `timeout` and as the PRAGMA) is how long it queues.
    - synchronous=NORMAL is safe with WAL: a power cut may lose the last commits, never the file.
    """
    return {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": path,
        "OPTIONS": {
            "timeout": 20,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=20000",
        },
    }


def parse_database_url(url: str, *, conn_max_age: int = 0) -> dict:
    """Turn `postgres://user:pass@host:port/name?sslmode=require` into a DATABASES entry.

    `sqlite:///relative/path.db` and `sqlite:////absolute/path.db` name SQLite files.
    Raises ImproperlyConfiguredEnv for anything else, naming the part that is wrong,
    never echoing a password.
    """
    parts = urlsplit(url)
    engine = _ENGINES.get(parts.scheme)
    if engine is None:
        raise ImproperlyConfiguredEnv(
            f"DATABASE_URL has the scheme {parts.scheme!r}; use postgres:// or sqlite:///"
        )
    if engine.endswith("sqlite3"):
        path = unquote(parts.path[1:]) if parts.path.startswith("/") else ""
        if not path:
            raise ImproperlyConfiguredEnv("DATABASE_URL for SQLite needs a file: sqlite:///db.sqlite3")
        return sqlite_database(path)
    name = unquote(parts.path.lstrip("/"))
    if not name or "/" in name:
        raise ImproperlyConfiguredEnv("DATABASE_URL needs a database name: postgres://host/name")
    try:
        port = parts.port
    except ValueError:
        raise ImproperlyConfiguredEnv("DATABASE_URL has a port that is not a number") from None
    if not parts.hostname:
        raise ImproperlyConfiguredEnv("DATABASE_URL needs a host: postgres://host/name")
    options = {key: values[-1] for key, values in parse_qs(parts.query).items()}
    # The portal's queries are short reads of indexed rows: PostgreSQL's JIT compiles any plan it
    # thinks expensive (a month's aggregate at national scale) and spends longer compiling than
    # running it. `?options=...` in the URL replaces this.
    options.setdefault("options", "-c jit=off")
    return {
        "ENGINE": engine,
        "NAME": name,
        "USER": unquote(parts.username or ""),
        "PASSWORD": unquote(parts.password or ""),
        "HOST": parts.hostname,
        "PORT": str(port or ""),
        "CONN_MAX_AGE": conn_max_age,
        "CONN_HEALTH_CHECKS": True,
        "OPTIONS": options,
    }


def load_dotenv(path) -> None:
    """Read KEY=value lines from `path` into the environment, never overriding what is set.

    Blank lines and `#` comments are skipped; values may be quoted. Missing file: nothing.
    """
    try:
        lines = path.read_text().splitlines()
    except FileNotFoundError:
        return
    for number, line in enumerate(lines, start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.partition("=")
        if not sep or not key.strip().isidentifier():
            raise ImproperlyConfiguredEnv(f"{path.name} line {number} is not KEY=value")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        if value:
            os.environ.setdefault(key.strip(), value)
