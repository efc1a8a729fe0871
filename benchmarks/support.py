"""What every benchmark shares: its own PostgreSQL database, created when missing."""

from urllib.parse import urlsplit


def ensure_database(url: str) -> None:
    """Create the database a DATABASE_URL names unless it exists (the role needs CREATEDB)."""
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin = psycopg.connect(host=parts.hostname, port=parts.port or 5432, user=parts.username or "postgres",
                            password=parts.password, dbname="postgres", autocommit=True)
    if not admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
        admin.execute(f'CREATE DATABASE "{name}"')
    admin.close()
