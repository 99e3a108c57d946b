"""Django settings for billy, read from the environment.

Every setting a deployment changes is an environment variable documented in the README.
The database is `DATABASE_URL`; the CLI fills it from the embedded cluster when it is unset.
"""

import datetime as dt
import os
from pathlib import Path

import dj_database_url

from billy.core.logs import logging_config


def _env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


BASE_DIR = Path(__file__).resolve().parent

SECRET_KEY = os.environ.get("BILLY_SECRET_KEY", "billy-insecure-development-key")
DEBUG = _env_bool("BILLY_DEBUG", False)
ALLOWED_HOSTS = [h.strip() for h in os.environ.get("BILLY_ALLOWED_HOSTS", "*").split(",") if h.strip()]
CSRF_TRUSTED_ORIGINS = [o.strip() for o in os.environ.get("BILLY_CSRF_TRUSTED_ORIGINS", "").split(",") if o.strip()]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "axes",
    "procrastinate.contrib.django",
    "ninja",  # its Swagger UI and Redoc static files: the API docs work offline
    "billy.core",
    "billy.workspaces",
    "billy.clients",
    "billy.events",
    "billy.ledger",
    "billy.charges",
    "billy.idempotency",
    "billy.subscriptions",
    "billy.families",
    "billy.webhooks",
    "billy.relay",
    "billy.payers",
    "billy.moneyin",
    "billy.consumption",
    "billy.console",
]

MIDDLEWARE = [
    "billy.api.http.middleware.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "billy.api.http.middleware.ApiErrorEnvelopeMiddleware",
    "billy.api.http.middleware.StrictInputMiddleware",
    "billy.api.http.middleware.DatabaseUnavailableMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: it answers a locked-out login.
    "axes.middleware.AxesMiddleware",
]

# What a request under /api/ goes through in `billy serve` (billy.api.http.server.BillyWSGIHandler):
# MIDDLEWARE without what only the admin needs (static files, sessions, CSRF, logins, messages,
# django-axes). The API authenticates each request by its key and keeps no session.
API_MIDDLEWARE = [
    "billy.api.http.middleware.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "billy.api.http.middleware.ApiErrorEnvelopeMiddleware",
    "billy.api.http.middleware.StrictInputMiddleware",
    "billy.api.http.middleware.DatabaseUnavailableMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

# A file every HTTP API answer is appended to, for checking against the OpenAPI document (the test
# suite sets it; see billy.api.http.contract_log). Empty: off.
BILLY_API_CONTRACT_LOG = os.environ.get("BILLY_API_CONTRACT_LOG", "").strip()
if BILLY_API_CONTRACT_LOG:
    MIDDLEWARE.insert(0, "billy.api.http.contract_log.ContractLogMiddleware")
    API_MIDDLEWARE.insert(0, "billy.api.http.contract_log.ContractLogMiddleware")

# Admin logins are throttled by django-axes: after BILLY_ADMIN_LOGIN_FAILURE_LIMIT wrong passwords
# for one username from one address, that pair is locked out (429, even with the right password)
# for BILLY_ADMIN_LOGIN_COOLOFF_MINUTES. An operator unlocks it sooner in the admin ("Access
# attempts": delete the row) or with `billy manage axes_reset_username <name>`.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = int(os.environ.get("BILLY_ADMIN_LOGIN_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = dt.timedelta(minutes=float(os.environ.get("BILLY_ADMIN_LOGIN_COOLOFF_MINUTES", "15")))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False

ROOT_URLCONF = "billy.urls"
WSGI_APPLICATION = "billy.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# The CLI sets DATABASE_URL from the embedded cluster when it is unset (see billy.core.embedded_pg).
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/billy"),
        # Persistent connections: a new PostgreSQL connection per request costs more than a charge.
        conn_max_age=int(os.environ.get("BILLY_DB_CONN_MAX_AGE", "60")),
        # ...checked before a request reuses one (billy.core.postgresql: its socket, not `SELECT 1`):
        # one a database restart closed is replaced, instead of failing the request it is next given to.
        conn_health_checks=_env_bool("BILLY_DB_HEALTH_CHECKS", True),
    )
}
# Django's PostgreSQL backend, its health check without a round trip (billy.core.postgresql).
DATABASES["default"]["ENGINE"] = "billy.core.postgresql"
DATABASES["default"].setdefault("OPTIONS", {})
# The money path's statements prepared on each connection (billy.core.postgresql); off behind a
# connection pooler in transaction mode.
BILLY_DB_PREPARED = _env_bool("BILLY_DB_PREPARED", True)
DATABASES["default"]["TEST"] = {"NAME": os.environ.get("BILLY_TEST_DATABASE_NAME") or None}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
# Serve the admin's assets straight from the installed apps: no collectstatic step to forget.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

# billy's own lines at BILLY_LOG_LEVEL, the libraries' at WARNING (see billy.core.logs).
LOGGING = logging_config()

# --- Procrastinate (the task queue, in PostgreSQL) ---
PROCRASTINATE_AUTODISCOVER_MODULE_NAME = "tasks"
# Tasks live in each app's tasks.py, found by autodiscovery.

# --- Upstream systems ---
# Balance (XML-RPC). `billy dev` points it at its emulator.
BALANCE_URL = os.environ.get("BALANCE_URL", "http://127.0.0.1:8002/xmlrpc")
BALANCE_OPERATOR_UID = int(os.environ.get("BALANCE_OPERATOR_UID", "0"))
BALANCE_CONNECT_TIMEOUT = float(os.environ.get("BALANCE_CONNECT_TIMEOUT", "3"))
BALANCE_TIMEOUT = float(os.environ.get("BALANCE_TIMEOUT", "10"))
# How long after billy sent a create call Balance may still carry it out (its own request limit
# past billy's timeout). A create with an unknown outcome that left no trace by then did not happen.
BALANCE_CALL_HORIZON_SECONDS = float(os.environ.get("BALANCE_CALL_HORIZON_SECONDS", "60"))

# Card payment provider (YooKassa API v3). Each workspace keeps its own shop id, secret key and API
# URL; these are the adapter's timeouts. `billy dev` points the demo workspace at the emulator.
YOOKASSA_CONNECT_TIMEOUT = float(os.environ.get("YOOKASSA_CONNECT_TIMEOUT", "3"))
YOOKASSA_TIMEOUT = float(os.environ.get("YOOKASSA_TIMEOUT", "10"))

# YooKassa keeps an Idempotence-Key 24 h: a payment whose first call is older than this is no longer
# created again with its key, only looked up among the provider's payments by its metadata.
BILLY_PAYMENT_KEY_WINDOW_SECONDS = int(os.environ.get("BILLY_PAYMENT_KEY_WINDOW_SECONDS", str(20 * 3600)))
# The janitor re-reads payments left NEW or PENDING (no webhook) this long from the provider.
BILLY_PAYMENT_RECHECK_SECONDS = int(os.environ.get("BILLY_PAYMENT_RECHECK_SECONDS", "300"))
# Renewal: the saved card pays for the next period this long before the paid one ends (default 24 h).
BILLY_RENEWAL_LEAD_SECONDS = int(os.environ.get("BILLY_RENEWAL_LEAD_SECONDS", str(24 * 3600)))
# Dunning: after a declined renewal, retries this long after the first decline (default 1, 3 and 5
# days), comma-separated, ascending; the subscription is PAST_DUE meanwhile and keeps its role.
BILLY_RENEWAL_RETRY_SECONDS = tuple(
    int(v) for v in os.environ.get("BILLY_RENEWAL_RETRY_SECONDS", "86400,259200,432000").split(",") if v.strip()
)
# Dunning: how long past the paid period's end a PAST_DUE subscription keeps its role at most (default
# 7 days): no retry is made after it, and the subscription expires then if nothing paid.
BILLY_RENEWAL_GRACE_SECONDS = int(os.environ.get("BILLY_RENEWAL_GRACE_SECONDS", str(7 * 24 * 3600)))
# A janitor run stops taking new work after this long and leaves the rest to the next run.
BILLY_JANITOR_RUN_SECONDS = float(os.environ.get("BILLY_JANITOR_RUN_SECONDS", "50"))
# ...and polls refunds still in progress after this long.
BILLY_REFUND_POLL_SECONDS = int(os.environ.get("BILLY_REFUND_POLL_SECONDS", "60"))
# Consumption reaches Balance within this many seconds of a charge: the reporting job sends the
# latest total of every wallet order that moved, in batches of BILLY_CONSUMPTION_BATCH.
BILLY_CONSUMPTION_REPORT_SECONDS = float(os.environ.get("BILLY_CONSUMPTION_REPORT_SECONDS", "60"))
BILLY_CONSUMPTION_BATCH = int(os.environ.get("BILLY_CONSUMPTION_BATCH", "500"))
# Reports are as of (now - this): longer than the longest charge transaction, so every charge posted
# before that moment has committed when a run reads the ledger (a charge is posted at its caller's
# `now`, not at its commit).
BILLY_CONSUMPTION_GRACE_SECONDS = float(os.environ.get("BILLY_CONSUMPTION_GRACE_SECONDS", "60"))
# Balance's books close at midnight in this zone: reports are split at its month ends too, so each
# of Balance's months (its acts) gets exactly the consumption posted in it, whatever the workspace's zone.
BILLY_BALANCE_TIME_ZONE = os.environ.get("BILLY_BALANCE_TIME_ZONE", "Europe/Moscow")
# Webhooks are taken only from these networks (comma-separated CIDRs); empty takes them from anywhere
# (billy trusts nothing in a webhook but the object id: it re-reads the object from the provider).
YOOKASSA_WEBHOOK_ALLOWED_NETWORKS = [
    n.strip() for n in os.environ.get("YOOKASSA_WEBHOOK_ALLOWED_NETWORKS", "").split(",") if n.strip()
]
# Sources Balance's payment notifications are taken from (CIDR, comma-separated); empty: any (the
# workspace's secret in the URL still authenticates each call).
BALANCE_NOTIFY_ALLOWED_NETWORKS = [
    n.strip() for n in os.environ.get("BALANCE_NOTIFY_ALLOWED_NETWORKS", "").split(",") if n.strip()
]
# Per source address, at most this many webhook notifications about objects billy never made are
# taken ("N/s", "N/m", "N/h", "N/10s"; empty: no limit); past it they are 429 with Retry-After.
# Notifications about billy's own payments and refunds are never limited: junk cannot starve them.
BILLY_WEBHOOK_IGNORED_RATE = os.environ.get("BILLY_WEBHOOK_IGNORED_RATE", "60/m").strip()

# The rate limits' counters, shared by every HTTP process: a database cache table (an UNLOGGED
# table made by the subscriptions migrations). "default" stays the per-process memory cache.
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    "rate_limit": {"BACKEND": "billy.core.cache.DatabaseCache", "LOCATION": "rate_limit_cache"},
}
RATELIMIT_USE_CACHE = "rate_limit"
# A cache that fails lets the request through: the limit sheds load, it guards no money.
RATELIMIT_FAIL_OPEN = True

# Idempotency-Key answers are kept at least this many days.
BILLY_IDEMPOTENCY_KEY_DAYS = int(os.environ.get("BILLY_IDEMPOTENCY_KEY_DAYS", "7"))
# A call with an Idempotency-Key whose first call is still running waits this long for its answer,
# then is 409 `in_progress` with Retry-After.
BILLY_IDEMPOTENCY_WAIT_SECONDS = float(os.environ.get("BILLY_IDEMPOTENCY_WAIT_SECONDS", "30"))

# Auth API: grants and revokes the subscriber role. `billy dev` points it at its emulator.
AUTH_API_URL = os.environ.get("AUTH_API_URL", "http://127.0.0.1:8004")
AUTH_API_TOKEN = os.environ.get("AUTH_API_TOKEN", "dev-auth-token")
AUTH_API_TIMEOUT = float(os.environ.get("AUTH_API_TIMEOUT", "5"))

# The card payment system that holds users' cards and the family card. `billy dev` points it at its emulator.
CARDS_URL = os.environ.get("CARDS_URL", "http://127.0.0.1:8006")
CARDS_TOKEN = os.environ.get("CARDS_TOKEN", "dev-cards-token")
CARDS_CONNECT_TIMEOUT = float(os.environ.get("CARDS_CONNECT_TIMEOUT", "3"))
CARDS_TIMEOUT = float(os.environ.get("CARDS_TIMEOUT", "10"))
# Families: how many members (the owner included) one family holds; how long a spending's hold on
# the family card lives before the janitor releases it; how long after billy sent a hold the card
# system may still carry it out (an unknown outcome with no trace by then did not happen).
BILLY_FAMILY_MAX_MEMBERS = int(os.environ.get("BILLY_FAMILY_MAX_MEMBERS", "5"))
BILLY_FAMILY_HOLD_TTL_SECONDS = int(os.environ.get("BILLY_FAMILY_HOLD_TTL_SECONDS", "604800"))
BILLY_CARD_CALL_HORIZON_SECONDS = int(os.environ.get("BILLY_CARD_CALL_HORIZON_SECONDS", "60"))
# How long the janitor keeps reading back spendings and refunds it failed past the horizon: a hold
# the card system makes later still is cancelled there, a refund it makes later is booked.
BILLY_CARD_RECONCILE_SECONDS = int(os.environ.get("BILLY_CARD_RECONCILE_SECONDS", "86400"))

# The identity provider (Я.Паспорт) that families move to. `billy dev` points it at its emulator.
IDENTITY_URL = os.environ.get("IDENTITY_URL", "http://127.0.0.1:8007")
IDENTITY_TOKEN = os.environ.get("IDENTITY_TOKEN", "dev-identity-token")
IDENTITY_CONNECT_TIMEOUT = float(os.environ.get("IDENTITY_CONNECT_TIMEOUT", "3"))
IDENTITY_TIMEOUT = float(os.environ.get("IDENTITY_TIMEOUT", "10"))
# A family migration that the provider could not serve is tried again after 2, 4, 8, ... seconds,
# at most this long apart.
BILLY_FAMILY_MIGRATION_RETRY_CAP_SECONDS = int(os.environ.get("BILLY_FAMILY_MIGRATION_RETRY_CAP_SECONDS", "60"))

# Notification service: messages to users. `billy dev` points it at its emulator.
NOTIFICATIONS_URL = os.environ.get("NOTIFICATIONS_URL", "http://127.0.0.1:8005")
NOTIFICATIONS_TOKEN = os.environ.get("NOTIFICATIONS_TOKEN", "dev-notifications-token")
NOTIFICATIONS_TIMEOUT = float(os.environ.get("NOTIFICATIONS_TIMEOUT", "5"))

# A PENDING client untouched this long is finished by the janitor (its caller gave up).
BILLY_STALLED_REGISTRATION_SECONDS = int(os.environ.get("BILLY_STALLED_REGISTRATION_SECONDS", "600"))

# How long a process trusts an API key it has checked, and its workspace grants: a revoked key
# or a changed grant takes effect within this many seconds. 0 checks on every request.
BILLY_AUTH_CACHE_SECONDS = float(os.environ.get("BILLY_AUTH_CACHE_SECONDS", "5"))
# Charges of one wallet that arrive while one of its charges is written are written together in
# the next transaction (billy.charges.coalesce); off: each charge is its own transaction.
BILLY_CHARGE_COALESCING = _env_bool("BILLY_CHARGE_COALESCING", True)

# The admin dashboard probes each upstream with this timeout (all side by side), so a system that
# is down costs the page at most about this long.
BILLY_CONSOLE_PROBE_TIMEOUT = float(os.environ.get("BILLY_CONSOLE_PROBE_TIMEOUT", "1"))

# Seconds a client is told to wait (Retry-After) when an upstream system is unavailable.
BILLY_RETRY_AFTER_SECONDS = int(os.environ.get("BILLY_RETRY_AFTER_SECONDS", "5"))

# Webhooks to integrators: how long billy waits for a receiver's answer; the retry schedule of a
# delivery that failed (the first wait, doubling up to the cap, for the window, then given up); how
# long one delivery job goes on before it leaves its worker slot and continues in a new job.
BILLY_WEBHOOK_TIMEOUT = float(os.environ.get("BILLY_WEBHOOK_TIMEOUT", "10"))
BILLY_WEBHOOK_RETRY_FIRST_SECONDS = float(os.environ.get("BILLY_WEBHOOK_RETRY_FIRST_SECONDS", "5"))
BILLY_WEBHOOK_RETRY_MAX_SECONDS = float(os.environ.get("BILLY_WEBHOOK_RETRY_MAX_SECONDS", "3600"))
BILLY_WEBHOOK_RETRY_WINDOW_SECONDS = float(os.environ.get("BILLY_WEBHOOK_RETRY_WINDOW_SECONDS", str(3 * 24 * 3600)))
BILLY_WEBHOOK_RUN_SECONDS = float(os.environ.get("BILLY_WEBHOOK_RUN_SECONDS", "20"))

# The relay (`billy relay`) publishes the event feed to NATS JetStream at BILLY_BROKER_URL (empty:
# no relay; the feed API is all there is). Its stream, the subjects' first token, how long the
# stream remembers a message id to drop a repeat, and how long a connect or a batch's acknowledgements
# may take; how many events one batch holds, how often an idle relay looks at the feed, and how
# often it logs its lag.
BILLY_BROKER_URL = os.environ.get("BILLY_BROKER_URL", "").strip()
BILLY_BROKER_STREAM = os.environ.get("BILLY_BROKER_STREAM", "BILLY").strip()
BILLY_BROKER_SUBJECT_PREFIX = os.environ.get("BILLY_BROKER_SUBJECT_PREFIX", "billy").strip()
BILLY_BROKER_DUPLICATE_WINDOW_SECONDS = float(os.environ.get("BILLY_BROKER_DUPLICATE_WINDOW_SECONDS", "600"))
BILLY_BROKER_TIMEOUT = float(os.environ.get("BILLY_BROKER_TIMEOUT", "10"))
BILLY_RELAY_BATCH = int(os.environ.get("BILLY_RELAY_BATCH", "1000"))
BILLY_RELAY_POLL_SECONDS = float(os.environ.get("BILLY_RELAY_POLL_SECONDS", "0.2"))
BILLY_RELAY_LAG_LOG_SECONDS = float(os.environ.get("BILLY_RELAY_LAG_LOG_SECONDS", "60"))
