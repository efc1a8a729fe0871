"""Settings for the CVI Portal, read from the environment (see .env.example).

With nothing set, the portal runs on the embedded default: a SQLite file in the project,
Celery tasks run in-process, mail and SMS printed to the console, DEBUG on and a generated
development secret. Set DATABASE_URL and REDIS_URL for PostgreSQL, Redis and real workers.
"""

import ipaddress
import secrets
from datetime import timedelta
from pathlib import Path

from celery.schedules import crontab
from django.utils.csp import CSP

from .env import (
    ImproperlyConfiguredEnv,
    env_bool,
    env_int,
    env_list,
    env_str,
    load_dotenv,
    parse_database_url,
    sqlite_database,
)

BASE_DIR = Path(__file__).resolve().parent.parent
load_dotenv(BASE_DIR / ".env")
VAR_DIR = Path(env_str("CVI_VAR_DIR") or BASE_DIR / "var")

DEBUG = env_bool("DEBUG", True)


# --- Secret, hosts, HTTPS (production-shaped settings) ---------------------------------------
# The secret comes from SECRET_KEY, else from the file SECRET_KEY_FILE names (`make stack` and
# the compose set generate one in var/ with scripts/secret-key before any process starts, so
# every process reads the same key), else, in development only, a generated key in VAR_DIR.
def _strong(key: str) -> bool:
    return len(key) >= 50 and len(set(key)) >= 5 and not key.startswith("django-insecure")


def _secret_key() -> str:
    key, source = env_str("SECRET_KEY"), "SECRET_KEY"
    key_file = env_str("SECRET_KEY_FILE")
    if not key and key_file:
        try:
            key, source = Path(key_file).read_text().strip(), "SECRET_KEY_FILE"
        except OSError:
            raise ImproperlyConfiguredEnv(
                "SECRET_KEY_FILE names a file that cannot be read: create it with scripts/secret-key"
            ) from None
    if key:
        if not DEBUG and not _strong(key):
            raise ImproperlyConfiguredEnv(f"{source} is too weak for DEBUG=false: use 50+ random characters")
        return key
    if not DEBUG:
        raise ImproperlyConfiguredEnv("SECRET_KEY must be set when DEBUG=false")
    # Development only: keep one generated key so sessions survive a restart.
    path = VAR_DIR / "dev-secret-key"
    if not path.exists():
        VAR_DIR.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(50))
    return path.read_text().strip()


SECRET_KEY = _secret_key()
LOOPBACK_HOSTS = ["127.0.0.1", "localhost", "[::1]"]
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", LOOPBACK_HOSTS if DEBUG else [])
if not DEBUG and not ALLOWED_HOSTS:
    raise ImproperlyConfiguredEnv("ALLOWED_HOSTS must be set when DEBUG=false")
# Production is served over HTTPS (behind a TLS proxy): secure cookies, HSTS, the redirect.
# CVI_HTTPS=false serves plain HTTP, and only on loopback (`make stack` on http://127.0.0.1).
CVI_HTTPS = env_bool("CVI_HTTPS", not DEBUG)
if not DEBUG and not CVI_HTTPS and set(ALLOWED_HOSTS) - set(LOOPBACK_HOSTS):
    raise ImproperlyConfiguredEnv("CVI_HTTPS=false is only for loopback: ALLOWED_HOSTS must be 127.0.0.1/localhost")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
# The address links in messages point at. Set it for a real deployment; without it, the local
# address on PORTAL_PORT, the port `make demo` and `make stack` serve on (8000 by default).
PORTAL_PORT = env_int("PORTAL_PORT", 8000, minimum=1)
SITE_URL = (env_str("SITE_URL") or f"http://127.0.0.1:{PORTAL_PORT}").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.humanize",  # allauth's list of passkeys uses it
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_filters",
    "django_tables2",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "axes",
    "core",
    "audit",
    "districts",
    "protocols",
    "notifications",
    "responses",
    "reviews",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    # After LocaleMiddleware: its 400 and 413 speak the caller's language.
    "core.request_limits.RequestLimitsMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # The member's own language on every page (Membership.language; districts/middleware.py).
    "districts.middleware.MemberLanguageMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # Needs the user, the session and messages: a second factor before any page (districts/auth.py).
    "districts.auth.MfaRequiredMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # CSP (settings SECURE_CSP), Permissions-Policy, per-role idle sessions.
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "core.middleware.PermissionsPolicyMiddleware",
    "districts.middleware.SessionIdleMiddleware",
    # Last, as django-axes asks: turns a locked-out sign-in into its 429.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "cvi_portal.urls"
WSGI_APPLICATION = "cvi_portal.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "districts.context_processors.membership",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------
# Persistent connections: web and worker processes keep one connection each for
# CONN_MAX_AGE seconds instead of reconnecting per request or task.
# Without DATABASE_URL: the embedded default, a SQLite file in VAR_DIR, set up for the web
# process and the outbox relay writing at once (cvi_portal/env.py, sqlite_database).
DATABASE_URL = env_str("DATABASE_URL")
if DATABASE_URL:
    DATABASES = {"default": parse_database_url(DATABASE_URL, conn_max_age=env_int("CONN_MAX_AGE", 60))}
else:
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES = {"default": sqlite_database(VAR_DIR / "db.sqlite3")}
# A PostgreSQL read replica (streaming replication of DATABASE_URL), optional: when set, the
# monthly review's figures are read from it (core/replica.py); everything else uses the primary.
DATABASE_REPLICA_URL = env_str("DATABASE_REPLICA_URL")
DATABASE_REPLICA_ALIAS = None
if DATABASE_URL and DATABASE_REPLICA_URL:
    DATABASE_REPLICA_ALIAS = "replica"
    DATABASES["replica"] = parse_database_url(DATABASE_REPLICA_URL, conn_max_age=env_int("CONN_MAX_AGE", 60))
DATABASE_ROUTERS = ["core.replica.ReplicaRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis and Celery -----------------------------------------------------------------
REDIS_URL = env_str("REDIS_URL")
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL") or REDIS_URL
# Without a broker, tasks run in-process (the embedded default).
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = False
CELERY_TASK_IGNORE_RESULT = True
CELERY_RESULT_BACKEND = None
# At-least-once delivery: a task is acknowledged only after it ran, and is given back to the
# broker if its worker dies. Deliveries absorb the duplicates by claiming their row.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_TIMEOUT = 3
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Celery's consumer, reconnecting where kombu 5.7 would end the worker (see the module).
CELERY_WORKER_CONSUMER = "cvi_portal.consumer:Consumer"
CELERY_BROKER_TRANSPORT_OPTIONS = {
    # Longer than the longest task (a webhook or SMS call times out at 10 s), so a slow task
    # is never handed to a second worker while the first still runs it.
    "visibility_timeout": 300,
    "socket_timeout": 3,
    "socket_connect_timeout": 3,
    "max_retries": 1,
}
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_NOTIFY_QUEUE = env_str("CELERY_NOTIFY_QUEUE", "notify")  # tests and benchmarks use their own
CELERY_TASK_ROUTES = {"notifications.tasks.*": {"queue": CELERY_NOTIFY_QUEUE}}
# Celery closes the Django connection after each task unless told to reuse it.
CELERY_DB_REUSE_MAX = env_int("CELERY_DB_REUSE_MAX", 1000)
CELERY_BEAT_SCHEDULE: dict = {
    "worker-canary": {"task": "notifications.tasks.worker_canary", "schedule": 60.0},
    "followup-reminders": {"task": "responses.tasks.followup_reminders", "schedule": 900.0},
    # 03:15 Chicago time: the monthly summary table, every closed month recomputed (reviews/services.py).
    "monthly-summaries": {"task": "reviews.tasks.monthly_summaries_refresh",
                          "schedule": crontab(hour=3, minute=15)},
    # 06:00 Chicago time on the 1st: last month's report for each pilot district and the city
    # (reviews/tasks.py), kept as a new version and emailed to the participants.
    "monthly-reports": {"task": "reviews.tasks.monthly_reports_publish",
                        "schedule": crontab(day_of_month=1, hour=6, minute=0)},
}
CELERY_TIMEZONE = "America/Chicago"

if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- Auth -----------------------------------------------------------------------------
# Signing in, two factors, throttling and tokens: districts/auth.py and districts/api_auth.py.
AUTHENTICATION_BACKENDS = [
    "districts.auth.AxesBackend",  # first: refuses a locked-out username/address before any password check
    # Only Django's: the login page is Django's (allauth's backend would check each password twice).
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
# Reverse proxies whose X-Forwarded-For is believed (addresses or networks, comma-separated).
# Empty: the header is ignored and the peer address is the client (core/client_ip.py).
TRUSTED_PROXIES = env_list("TRUSTED_PROXIES", [])
for _entry in TRUSTED_PROXIES:
    try:
        ipaddress.ip_network(_entry, strict=False)
    except ValueError:
        raise ImproperlyConfiguredEnv(f"TRUSTED_PROXIES: {_entry!r} is not an address or network") from None

# django-axes: failed sign-ins (web and API) lock the username from that address only, so an
# attacker cannot lock a real user out from everywhere; the address alone locks at a higher
# limit (a district station shares one address). Both cool off; the admin lists the attempts.
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5, minimum=1)
AXES_ADDRESS_FAILURE_LIMIT = env_int("AXES_ADDRESS_FAILURE_LIMIT", 30, minimum=1)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("AXES_COOLOFF_MINUTES", 15, minimum=1))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_CLIENT_IP_CALLABLE = "core.client_ip.axes_client_ip"
AXES_HANDLER = "districts.auth.AxesHandler"
AXES_LOCKOUT_CALLABLE = "districts.auth.lockout_response"
AXES_RESET_ON_SUCCESS = True
# Attempts while locked out are refused without being counted, so the cool-off really ends
# AXES_COOLOFF_TIME after the last counted failure (an attacker cannot keep it going).
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_ENABLE_ACCESS_FAILURE_LOG = True  # every failed sign-in, listed in the admin
AXES_SENSITIVE_PARAMETERS = ["password"]
# Password reset: requests per address, per email address, in a window of seconds.
PASSWORD_RESET_LIMITS = (5, 3, 3600)

# django-allauth: only its second-factor and re-authentication pages are used; the login and
# password pages stay Django's (cvi_portal/urls.py). Nobody signs up: administrators add users.
ACCOUNT_ADAPTER = "districts.auth.AccountAdapter"
ACCOUNT_LOGIN_METHODS = {"username"}
ACCOUNT_SIGNUP_FIELDS = ["username*", "password1*", "password2*"]
ACCOUNT_EMAIL_VERIFICATION = "none"
ACCOUNT_REAUTHENTICATION_TIMEOUT = 600  # exports and adding a second factor ask again after 10 minutes
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes", "webauthn"]
MFA_TOTP_ISSUER = "CVI Portal"
MFA_PASSKEY_LOGIN_ENABLED = False  # passkeys are a second factor after the password here
MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN = DEBUG  # http://localhost in development only
# Roles that must use a second factor; outreach is offered it. MFA_ENFORCED sends such a user
# to set one up before any page, and signs out a session that skipped a user's second factor.
# On wherever DEBUG is off (production, `make stack`); the demo's seeded users go straight in.
MFA_REQUIRED_ROLES = {"admin", "analyst", "cpd_staff", "cpd_commander"}
MFA_ENFORCED = env_bool("MFA_ENFORCED", not DEBUG)
# Exports (the incident history's, the dashboard's, an organisation's records) ask for the
# password again after the timeout.
EXPORT_REAUTHENTICATION = env_bool("EXPORT_REAUTHENTICATION", True)
# People's API tokens (POST /api/v1/auth/token/) expire after this many days.
USER_TOKEN_LIFETIME_DAYS = env_int("USER_TOKEN_LIFETIME_DAYS", 30, minimum=1)
# An administrator's invitation link (districts.Invitation) works once, for this many days.
INVITATION_DAYS = env_int("INVITATION_DAYS", 7, minimum=1)

# --- Internationalisation -------------------------------------------------------------
LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("es", "Español")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "America/Chicago"
USE_I18N = True
USE_TZ = True

# --- Static files ---------------------------------------------------------------------
STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

# --- Mail and SMS ---------------------------------------------------------------------
# Django 6.1 mailers. Without EMAIL_HOST: the console in development; in production (DEBUG off)
# SMTP on localhost, so a password reset is never silently printed to a log nobody reads.
_smtp_host = env_str("EMAIL_HOST", "" if DEBUG else "localhost")
MAILERS = {
    "default": {
        # Django's SMTP backend whose sockets obey a send's total deadline (core/mail.py).
        "BACKEND": "core.mail.EmailBackend",
        "OPTIONS": {"host": _smtp_host, "port": env_int("EMAIL_PORT", 25),
                    "username": env_str("EMAIL_HOST_USER"), "password": env_str("EMAIL_HOST_PASSWORD"),
                    "use_tls": env_bool("EMAIL_USE_TLS", False), "timeout": 10},
    }
    if _smtp_host
    else {"BACKEND": "django.core.mail.backends.console.EmailBackend"},
}
# The notification worker keeps SMTP connections open between messages (core/mail.py), each
# reused for at most this long after its last message.
EMAIL_KEEPALIVE_SECONDS = env_int("EMAIL_KEEPALIVE_SECONDS", 30, minimum=0)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "CVI Portal <no-reply@cvi-portal.invalid>")
SMS_BACKEND = env_str("SMS_BACKEND", "console")
TWILIO_ACCOUNT_SID = env_str("TWILIO_ACCOUNT_SID")
TWILIO_AUTH_TOKEN = env_str("TWILIO_AUTH_TOKEN")
TWILIO_FROM_NUMBER = env_str("TWILIO_FROM_NUMBER")
# Twilio's REST API root; empty is Twilio's own (https://api.twilio.com). Set only to reach a
# stand-in that answers like it (the delivery benchmark's, on loopback).
TWILIO_API_BASE_URL = env_str("TWILIO_API_BASE_URL")
VAPID_PUBLIC_KEY = env_str("VAPID_PUBLIC_KEY")
VAPID_PRIVATE_KEY = env_str("VAPID_PRIVATE_KEY")
VAPID_CLAIMS_EMAIL = env_str("VAPID_CLAIMS_EMAIL", "ops@cvi-portal.invalid")
# Webhooks go to public https addresses only, except to hosts on this list, which an operator
# trusts: they may use plain http and internal addresses (core/outbound.py).
WEBHOOK_ALLOWED_HOSTS = env_list("WEBHOOK_ALLOWED_HOSTS", [])
# Web push endpoints may only be at these push services (each host and its subdomains), over
# https at a public address (core/outbound.py): the browsers' own services.
PUSH_SERVICE_HOSTS = env_list("PUSH_SERVICE_HOSTS", []) or [
    "fcm.googleapis.com", "android.googleapis.com",  # Chrome, Edge (Chromium), Opera, Samsung
    "updates.push.services.mozilla.com",  # Firefox
    "web.push.apple.com", "push.apple.com",  # Safari
    "notify.windows.com",  # legacy Edge (WNS)
]
# Push services an operator trusts beyond those (a stand-in in a benchmark on loopback): like
# WEBHOOK_ALLOWED_HOSTS, they may use plain http, any port and internal addresses.
PUSH_ALLOWED_HOSTS = env_list("PUSH_ALLOWED_HOSTS", [])
# Inbound SMS from the console/locmem backends is accepted with this shared secret in the
# X-CVI-Inbound-Secret header (Twilio requests are checked by their signature instead).
SMS_INBOUND_SECRET = env_str("SMS_INBOUND_SECRET")
# Escalation's last step: the CSCC duty desk (empty: every analyst with an email address).
DUTY_DESK_EMAIL = env_str("DUTY_DESK_EMAIL")
# The outbox (notifications/relay.py): retry backoff base, and how long a handed-over or
# sending delivery may sit before the relay hands it over again.
OUTBOX_RETRY_BASE_MS = env_int("OUTBOX_RETRY_BASE_MS", 10_000)
OUTBOX_HANDOVER_TIMEOUT = env_int("OUTBOX_HANDOVER_TIMEOUT", 15)
OUTBOX_SENDING_TIMEOUT = env_int("OUTBOX_SENDING_TIMEOUT", 60)
# The process that commits deliveries hands them over itself, from a thread of its own, so the
# first send does not wait for the relay to wake (relay.py, outbox_wake); the relay still takes
# whatever that thread could not. Off: every hand-over is the relay's.
OUTBOX_HANDOVER_AT_COMMIT = env_bool("OUTBOX_HANDOVER_AT_COMMIT", True)
# One Celery message carries this many deliveries; its worker sends them concurrently. A batch
# that SPREAD worker processes can start at once (DELIVERY_SEND_THREADS each: one incident's
# fan-out) is split evenly over SPREAD messages instead: the Procfile's worker runs two.
OUTBOX_HANDOVER_CHUNK = env_int("OUTBOX_HANDOVER_CHUNK", 25, minimum=1)
OUTBOX_HANDOVER_SPREAD = env_int("OUTBOX_HANDOVER_SPREAD", 2, minimum=1)

# The sending engine (notifications/sending.py, lanes.py; docs/operations.md "Sending"):
# threads per worker process that wait on receivers (they hold no database connection), the
# total deadline of one send, how many sends one webhook receiver (or one shared provider) may
# hold at once in a process, and the circuit: after this many timeouts in a row a receiver is
# paused this long (doubling, up to an hour). A batch's sends must end well inside
# OUTBOX_SENDING_TIMEOUT, or the relay hands them over again.
DELIVERY_SEND_THREADS = env_int("DELIVERY_SEND_THREADS", 40, minimum=1)
DELIVERY_SEND_DEADLINE = env_int("DELIVERY_SEND_DEADLINE", 10, minimum=1)
DELIVERY_LANE_LIMIT = env_int("DELIVERY_LANE_LIMIT", 4, minimum=1)
DELIVERY_PROVIDER_LANE_LIMIT = env_int("DELIVERY_PROVIDER_LANE_LIMIT", 24, minimum=1)
# A send waits in its worker for a slot of its own lane (at most this many waiting per lane,
# at most this long), else it is put back untried, due DELIVERY_BUSY_RETRY_MS later.
DELIVERY_LANE_QUEUE = env_int("DELIVERY_LANE_QUEUE", 200, minimum=1)
DELIVERY_LANE_WAIT_MS = env_int("DELIVERY_LANE_WAIT_MS", 5000)
DELIVERY_BUSY_RETRY_MS = env_int("DELIVERY_BUSY_RETRY_MS", 500)
# Outcomes that end within this many ms of each other are recorded in one round (one
# transaction): a batch to a fast receiver is recorded in a round or two, not one per wave.
DELIVERY_RECORD_GATHER_MS = env_int("DELIVERY_RECORD_GATHER_MS", 20)
# Once all of a batch's sends are on the wire, a task waits this long after the latest started,
# then leaves the ones still running to the process's recorder thread and takes the next
# batch: a provider's few hundred ms never keeps a pool slot from the next incident. Sends
# still queued for their lane keep the task, at most DELIVERY_DETACH_MAX_MS.
DELIVERY_DETACH_MS = env_int("DELIVERY_DETACH_MS", 200)
DELIVERY_DETACH_MAX_MS = env_int("DELIVERY_DETACH_MAX_MS", 1000)
DELIVERY_CIRCUIT_AFTER = env_int("DELIVERY_CIRCUIT_AFTER", 3, minimum=1)
DELIVERY_CIRCUIT_PAUSE = env_int("DELIVERY_CIRCUIT_PAUSE", 30, minimum=1)
# A worker process reads a receiver's circuit from the cache at most this often (lanes.py).
DELIVERY_CIRCUIT_MEMO_MS = env_int("DELIVERY_CIRCUIT_MEMO_MS", 1000)

# --- The pilot ------------------------------------------------------------------------
# The districts where the protocol runs. The demo seeds these nine.
PILOT_DISTRICTS = env_list("PILOT_DISTRICTS", ["003", "004", "005", "006", "007", "008", "010", "011", "015"])

# --- REST framework -------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "districts.api_auth.IntegrationTokenAuthentication",
        "districts.api_auth.UserTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    # Signed in, and the view's `roles` and (for an integration token) its `operation`.
    "DEFAULT_PERMISSION_CLASSES": [
        "rest_framework.permissions.IsAuthenticated",
        "districts.api_auth.RoleAndOperation",
    ],
    "DEFAULT_THROTTLE_CLASSES": ["districts.api_auth.ApiRateThrottle"],
    # JSON only: size, nesting depth, NUL and unpaired surrogates checked (core/parsers.py).
    "DEFAULT_PARSER_CLASSES": ["core.parsers.SafeJSONParser"],
    "DEFAULT_SCHEMA_CLASS": "core.api_schema.ApiSchema",
    "EXCEPTION_HANDLER": "core.api.api_exception_handler",
    # Pagination is `core.api.ApiPagination` on every API view (page size 50, at most 200).
}
# Input limits (core/parsers.py, core/request_limits.py): a page's form or JSON body over 1 MB is
# refused with 413 before it is read, and so is the API's (by its parser, audited); a body over
# Django's DATA_UPLOAD_MAX_MEMORY_SIZE (2.5 MB) anywhere. JSON nests at most 20 deep.
FILE_UPLOAD_MAX_MEMORY_SIZE = 1024 * 1024
JSON_MAX_DEPTH = 20
# Every rejected API request goes to the audit trail (`api.rejected`).
API_REJECTION_HOOK = "audit.services.api_rejection_log"
# Requests per minute per integration token, user, or address (districts/api_auth.py reads them).
API_THROTTLE_RATES = {
    scope: env_str(f"API_RATE_{scope.upper()}", default)
    for scope, default in {"anon": "30/min", "login": "10/min", "user": "300/min", "integration": "600/min"}.items()
}
SPECTACULAR_SETTINGS = {
    "TITLE": "CVI Portal API",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # The schema and the docs page only for a signed-in caller (any role, or an
    # integration token: the reference is what integrators build against).
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "DESCRIPTION": "The integration contract for CPD systems and outreach organisations' systems.",
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "notifications.api_schema.add_callbacks",  # the SMS callbacks and the webhook body
    ],
    "ENUM_NAME_OVERRIDES": {
        "NotificationStatusEnum": "notifications.models.Notification.Status",
        "TapStatusEnum": "notifications.api.TAP_STATUSES",
        "NotificationKindEnum": "notifications.models.Notification.Kind",
        "ChannelKindEnum": "districts.models.Channel.Kind",
        "ReferralKindEnum": "responses.models.Referral.Kind",
        "DeliveryStatusEnum": "notifications.models.Delivery.Status",
    },
}

# --- Audit history and retention ------------------------------------------------------
# Change history by database triggers (django-pghistory on django-pgtrigger): incidents,
# victims, notifications (the agreed summary), memberships and users' rights. PostgreSQL only:
# on the embedded SQLite default the event tables exist but stay empty, and the services'
# audit events (audit.Event) are the record there.
INSTALLED_APPS += ["pgtrigger", "pghistory"]
if DATABASES["default"]["ENGINE"].endswith("postgresql"):
    # Each change's history row names the user and the URL (pghistory context). Its SQL
    # (set_config) exists on PostgreSQL only.
    MIDDLEWARE += ["pghistory.middleware.HistoryMiddleware"]
# Retention (days; 0 keeps for ever). A nightly purge (responses/retention.py, beat below) clears:
# - RETENTION_VICTIM_DAYS: victims' age band and sex on incidents that occurred longer ago
#   (counts and fatal stay, so the figures do), and those victims' trigger history;
# - RETENTION_NOTES_DAYS: organisations' response notes and follow-up texts on records created
#   longer ago (the coarse facts the figures count stay);
# - RETENTION_ACCESS_DAYS: the access log and the refusal counters.
RETENTION_VICTIM_DAYS = env_int("RETENTION_VICTIM_DAYS", 1095, minimum=0)
RETENTION_NOTES_DAYS = env_int("RETENTION_NOTES_DAYS", 730, minimum=0)
RETENTION_ACCESS_DAYS = env_int("RETENTION_ACCESS_DAYS", 730, minimum=0)
# 02:45 Chicago time, before the monthly summary refresh at 03:15.
CELERY_BEAT_SCHEDULE["retention-purge"] = {"task": "responses.tasks.retention_purge",
                                           "schedule": crontab(hour=2, minute=45)}

# --- Production hardening -------------------------------------------------------------
# HTTPS behind a TLS proxy unless CVI_HTTPS=false (plain HTTP on loopback, `make stack`).
if not DEBUG:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    # Load balancers and container healthchecks probe over plain HTTP inside the network.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True) and CVI_HTTPS and not DEBUG
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000) if CVI_HTTPS and not DEBUG else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = CVI_HTTPS and not DEBUG
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = CSRF_COOKIE_SAMESITE = "Lax"

# Content Security Policy (Django's own middleware): scripts, styles and everything else from
# the portal's own origin only; no inline script, no inline event handler, no inline style
# (every page's JS and CSS is a static file). `data:` images for the Swagger UI's icons.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "font-src": [CSP.SELF],
    "connect-src": [CSP.SELF],
    "manifest-src": [CSP.SELF],
    "worker-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}
# Browser features no page of the portal uses (core/middleware.py sends the header).
PERMISSIONS_POLICY = {
    feature: []
    for feature in ("accelerometer", "ambient-light-sensor", "autoplay", "bluetooth", "camera", "display-capture",
                    "geolocation", "gyroscope", "hid", "magnetometer", "microphone", "midi", "payment",
                    "screen-wake-lock", "serial", "usb", "xr-spatial-tracking")
}

# --- Sessions --------------------------------------------------------------------------
# No 14-day sessions. A session ends after a time without activity that depends on the role
# (districts/middleware.py), and at the latest a fixed time after signing in. CPD, analysts
# and administrators: short. Outreach: longer (a worker's phone), and the signed
# acknowledgement link works without a session anyway. Background polls (the live board)
# do not count as activity.
SESSION_IDLE_MINUTES = env_int("SESSION_IDLE_MINUTES", 30, minimum=1)
SESSION_IDLE_MINUTES_OUTREACH = env_int("SESSION_IDLE_MINUTES_OUTREACH", 12 * 60, minimum=1)
SESSION_MAX_HOURS = env_int("SESSION_MAX_HOURS", 12, minimum=1)
SESSION_MAX_HOURS_OUTREACH = env_int("SESSION_MAX_HOURS_OUTREACH", 7 * 24, minimum=1)
# The cookie never outlives the longest absolute cap.
SESSION_COOKIE_AGE = max(SESSION_MAX_HOURS, SESSION_MAX_HOURS_OUTREACH) * 3600

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
