# CVI Portal image: one image for web, outbox relay, Celery worker and beat (docker-compose.yml).
FROM python:3.12-slim

# Production settings unless told otherwise (the settings refuse to start without a strong
# SECRET_KEY or SECRET_KEY_FILE, and ALLOWED_HOSTS).
# MALLOC_ARENA_MAX=2: glibc gives every thread that allocates an arena of its own; the worker's
# sending threads would each keep one (docs/operations.md "Memory").
ENV DEBUG=false \
    MALLOC_ARENA_MAX=2 \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    UV_PYTHON_DOWNLOADS=never \
    UV_PROJECT_ENVIRONMENT=/app/.venv \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    PATH=/app/.venv/bin:$PATH

# The monthly report's PDF (WeasyPrint): Pango, HarfBuzz's subsetter and the DejaVu fonts.
RUN apt-get update \
    && apt-get install -y --no-install-recommends libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 \
       fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/*

# uv at the version the Makefile pins, from the package index.
RUN pip install --no-cache-dir "uv==0.13.9" \
    && useradd --create-home --uid 10001 --shell /usr/sbin/nologin portal

WORKDIR /app

# Dependencies first, from the lock file only, so a code change does not reinstall them.
COPY pyproject.toml uv.lock ./
RUN uv sync --locked --no-dev --no-install-project --python /usr/local/bin/python3.12

COPY . .
RUN uv sync --locked --no-dev --python /usr/local/bin/python3.12

# Static files, hashed and compressed for WhiteNoise. The build needs production settings to
# pick the manifest storage; the throwaway key exists only in this one RUN step.
RUN DEBUG=false ALLOWED_HOSTS=build SECRET_KEY="$(python -c 'import secrets; print(secrets.token_urlsafe(50))')" \
    python manage.py collectstatic --no-input -v0 \
    && mkdir -p /app/var && chown -R portal:portal /app/var

USER portal
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=10s --start-period=20s --retries=3 \
    CMD ["python", "scripts/healthcheck", "http", "/healthz"]
CMD ["gunicorn", "cvi_portal.wsgi", "--bind", "0.0.0.0:8000", "--workers", "3", "--threads", "4", \
     "--access-logfile", "-", "--forwarded-allow-ips", "*"]
