"""Evently settings: everything that differs between machines comes from the environment.

`make run` and `make test` go through `evently.embedded`, which sets DATABASE_URL and
REDIS_URL (starting embedded servers when they are unset) and EVENTLY_LOCAL=1.
"""

from pathlib import Path

from evently.database import database_config
from evently.env import env_bool, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("EVENTLY_VAR_DIR", str(BASE_DIR / "var")))

# EVENTLY_LOCAL=1 marks `make run` / `make test` (set by evently.embedded): the only runs that get
# built-in secrets and the fake payment provider. DEBUG alone never switches them on.
LOCAL = env_bool("EVENTLY_LOCAL")
DEBUG = env_bool("DEBUG")
# Outside local runs a missing key must stop the process at start, not sign cookies with a default.
SECRET_KEY = env_str("DJANGO_SECRET_KEY", "local-only-insecure-key-change-me" if LOCAL else None)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,[::1],testserver")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "channels",
    "django_q",
    "evently",  # shared infrastructure: the fake payment ledger (evently/models.py)
    "venues",
    "events",
    "ticketing",
    "checkin",
]

MIDDLEWARE = [
    "evently.health.HealthCheckMiddleware",  # first: balancers ask by IP, before host checks and redirects
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "evently.compression.PageGZipMiddleware",  # HTML only; below WhiteNoise (static files come precompressed)
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "ticketing.buyer.BuyerCookieMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "evently.urls"
WSGI_APPLICATION = "evently.wsgi.application"
ASGI_APPLICATION = "evently.asgi.application"

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
            ],
        },
    },
]

# Web threads are long-lived (a fixed pool per server process), so persistent connections are safe
# and save a connect per request. Behind PgBouncer in transaction pooling mode (`make cluster`,
# docker-compose.yml) DB_TRANSACTION_POOLING=1 turns off what cannot cross transactions: server-side
# cursors and prepared statements (evently/database.py; PgBouncer >= 1.21 with max_prepared_statements
# can take prepared statements again: DB_PREPARED_STATEMENTS=1).
DB_TRANSACTION_POOLING = env_bool("DB_TRANSACTION_POOLING")
DB_PREPARED_STATEMENTS = env_bool("DB_PREPARED_STATEMENTS", not DB_TRANSACTION_POOLING)
DATABASES = {
    "default": database_config(
        env_str("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/evently"),
        conn_max_age=env_int("DB_CONN_MAX_AGE", 600),
        transaction_pooling=DB_TRANSACTION_POOLING,
        prepared_statements=DB_PREPARED_STATEMENTS,
    )
}
# A persistent connection is checked (one `SELECT 1`) before its first use in each request, so the first
# request after a Postgres restart or failover reconnects instead of failing (docs/reliability.md).
DATABASES["default"]["CONN_HEALTH_CHECKS"] = env_bool("DB_CONN_HEALTH_CHECKS", True)
DATABASES["default"]["TEST"] = {"NAME": env_str("TEST_DATABASE_NAME", "test_" + DATABASES["default"]["NAME"])}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env_str("REDIS_URL", "redis://127.0.0.1:6379/0")
CACHES = {
    "default": {
        "BACKEND": "evently.cache.SharedPoolRedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": env_str("CACHE_KEY_PREFIX", "evently"),
    }
}
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"

# HTTPS outside local runs (docs/security.md): cookies only over TLS, HSTS, HTTP redirected to
# HTTPS. Behind a TLS proxy either let uvicorn trust it (FORWARDED_ALLOW_IPS=<proxy address>) or
# name the header it sets: SECURE_PROXY_SSL_HEADER=HTTP_X_FORWARDED_PROTO (value "https").
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", not LOCAL)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", not LOCAL)
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not LOCAL)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if LOCAL else 31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
# Preload is a commitment beyond this site (browsers hard-code the domain): opt in explicitly.
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
SILENCED_SYSTEM_CHECKS = [] if SECURE_HSTS_PRELOAD else ["security.W021"]
if env_str("SECURE_PROXY_SSL_HEADER", ""):
    SECURE_PROXY_SSL_HEADER = (env_str("SECURE_PROXY_SSL_HEADER"), "https")

# One publish per group, not one push per client: see docs/architecture.md.
CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
        "CONFIG": {"hosts": [REDIS_URL], "prefix": env_str("CHANNEL_PREFIX", "evently")},
    }
}

# Live seat maps (ticketing/broadcast.py → Redis → ticketing/live.py; docs/architecture.md).
LIVE_CHANNEL_PREFIX = env_str("CHANNEL_PREFIX", "evently")
LIVE_WS_URL = env_str("LIVE_WS_URL", "")  # where pages open websockets; empty: their own origin
LIVE_SEND_BUFFER_BYTES = env_int("LIVE_SEND_BUFFER_BYTES", 65536)  # a viewer further behind is dropped
LIVE_SOCKET_SEND_BUFFER = env_int("LIVE_SOCKET_SEND_BUFFER", 65536)  # kernel buffer per viewer; 0: the kernel's
# Live sockets one client address may hold open per websocket process (0: no cap). Generous: at an
# on-sale many buyers share one address (offices, campuses, mobile NAT), each page holding one socket.
LIVE_MAX_SOCKETS_PER_CLIENT = env_int("LIVE_MAX_SOCKETS_PER_CLIENT", 200)
# Request bodies (JSON, forms) above this are refused before they are read: 413 in the API's shape.
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("DATA_UPLOAD_MAX_MEMORY_SIZE", 1024 * 1024)

Q_CLUSTER = {
    "name": env_str("Q_CLUSTER_NAME", "evently"),
    "workers": env_int("Q_WORKERS", 2),
    "timeout": 60,
    "retry": 90,
    "max_attempts": 5,
    "redis": REDIS_URL,
    "catch_up": False,
    "ack_failures": True,
    "orm": None,
}

# Django's standard validators: not like the username or e-mail, at least 10 characters, not one
# of 20,000 common passwords, not all digits (createsuperuser, password change and reset use them).
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# `make test` only (a local run that sets EVENTLY_TEST_FAST_PASSWORDS=1): hashing a password costs
# ~0.6 s of CPU by design, and the suite creates and logs in users in most of its tests. Stored
# hashes of a real run stay PBKDF2; this never applies outside a local run.
if LOCAL and env_bool("EVENTLY_TEST_FAST_PASSWORDS"):
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher",
                        "django.contrib.auth.hashers.PBKDF2PasswordHasher"]
LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/"

LANGUAGE_CODE = "en"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(VAR_DIR / "static")))  # the Docker image collects at build
STATICFILES_DIRS = [BASE_DIR / "static"]
WHITENOISE_USE_FINDERS = True
MEDIA_URL = "/media/"
MEDIA_ROOT = VAR_DIR / "media"

# Ticketing rules
HOLD_TTL_SECONDS = env_int("HOLD_TTL_SECONDS", 600)
ORDER_TTL_SECONDS = env_int("ORDER_TTL_SECONDS", 900)
MAX_SEATS_PER_HOLD = env_int("MAX_SEATS_PER_HOLD", 10)
HOLD_RATE_LIMIT = env_int("HOLD_RATE_LIMIT", 30)  # hold requests per buyer per 10 seconds
SEAT_LOCK_TIMEOUT_MS = env_int("SEAT_LOCK_TIMEOUT_MS", 3000)  # then 429 busy instead of queueing
# Defaults for new events' order limits (organizers change them per event); 0 = no e-mail limit.
MAX_SEATS_PER_ORDER = env_int("MAX_SEATS_PER_ORDER", MAX_SEATS_PER_HOLD)
MAX_SEATS_PER_EMAIL = env_int("MAX_SEATS_PER_EMAIL", 20)
# Signs payment-provider webhooks (HMAC-SHA256); the default only works for local runs.
PAYMENT_WEBHOOK_SECRET = env_str("PAYMENT_WEBHOOK_SECRET", "local-webhook-secret" if LOCAL else None)
PAYMENT_WEBHOOK_TOLERANCE_SECONDS = env_int("PAYMENT_WEBHOOK_TOLERANCE_SECONDS", 300)
# No default outside local runs: a deploy that names no provider stops at start instead of running
# the fake one (which takes any card). The fake itself also refuses to start outside local runs.
PAYMENT_PROVIDER = env_str("PAYMENT_PROVIDER", "evently.payments.FakePaymentProvider" if LOCAL else None)
CURRENCY = env_str("CURRENCY", "EUR")
DEMO_PASSWORD = env_str("DEMO_PASSWORD", "evently-demo")
DEMO_CATALOGUE_EVENTS = env_int("DEMO_CATALOGUE_EVENTS", 300)  # the demo's smaller events in nine cities; 0: none

# Search (docs/architecture.md, "Search"): a search first folds pending seat-count changes into the summaries,
# at most once per this many seconds per process (0: before every search; the worker folds every minute anyway).
SUMMARY_FOLD_SECONDS = env_int("SUMMARY_FOLD_SECONDS", 1)
TRENDING_KEY_PREFIX = env_str("TRENDING_KEY_PREFIX", CACHES["default"]["KEY_PREFIX"] + ":trending")  # Redis keys
TRENDING_CACHE_SECONDS = env_int("TRENDING_CACHE_SECONDS", 5)  # a process reuses the trending ranking this long

# Abuse limits (docs/security.md): token buckets "capacity/seconds" per scope — the buyer's session,
# the client IP (IPv6: its /64), its network (IPv4 /24, IPv6 /48), a login's username. Override
# one with RATE_LIMIT_<ACTION>_<SCOPE>, e.g. RATE_LIMIT_HOLD_IP=120/10; "0" switches it off.
# Generous per IP: at an on-sale many real buyers share one address (offices, campuses, mobile NAT).
_RATE_LIMIT_DEFAULTS = {
    "hold": {"session": f"{HOLD_RATE_LIMIT}/10", "ip": "60/10", "net": "300/10"},
    "confirm": {"session": "10/60", "ip": "30/60", "net": "150/60"},
    "payment_declined": {"session": "5/600", "ip": "10/600", "net": "50/600"},
    "transfer": {"session": "10/600", "ip": "20/600", "net": "100/600"},
    "magic_link": {"ip": "5/600", "net": "30/600"},
    "waitlist_join": {"session": "5/600", "ip": "10/600", "net": "50/600"},
    "login": {"ip": "10/300", "net": "50/300", "username": "10/900"},
    # Each voucher code tried (checkout's Apply, a confirm with a code): codes are not guessed by the thousand.
    "voucher": {"session": "10/300", "ip": "30/300", "net": "150/300"},
}
RATE_LIMITS = {
    action: {scope: env_str(f"RATE_LIMIT_{action.upper()}_{scope.upper()}", default)
             for scope, default in scopes.items()}
    for action, scopes in _RATE_LIMIT_DEFAULTS.items()
}
RATE_LIMITS_ENABLED = env_bool("RATE_LIMITS_ENABLED", True)
RATE_LIMIT_REDIS_URL = env_str("RATE_LIMIT_REDIS_URL", REDIS_URL)
# Seats held at once from one IP for one event (0 = no cap); a bot farm behind one address cannot
# sit on a whole block.
MAX_SEATS_HELD_PER_IP = env_int("MAX_SEATS_HELD_PER_IP", 40)

# E-tickets, e-mail, my bookings, transfers, waitlist (docs/tickets.md)
EVENTLY_NODE = env_str("EVENTLY_NODE", "")  # this process's name in a cluster (web1, worker1, …)
PUBLIC_URL = env_str("PUBLIC_URL", f"http://localhost:{env_int('PORT', 8000)}").rstrip("/")  # links in e-mails
TICKETS_PDF_DIR = Path(env_str("TICKETS_PDF_DIR", str(VAR_DIR / "tickets")))  # private: not under MEDIA_ROOT
TICKET_DOORS_BEFORE_MINUTES = env_int("TICKET_DOORS_BEFORE_MINUTES", 60)
MAGIC_LINK_MAX_AGE_SECONDS = env_int("MAGIC_LINK_MAX_AGE_SECONDS", 3600)
BOOKING_LINK_DAYS_AFTER_EVENT = env_int("BOOKING_LINK_DAYS_AFTER_EVENT", 7)  # e-mailed PDF links expire then
WAITLIST_OFFER_SECONDS = env_int("WAITLIST_OFFER_SECONDS", 1800)
# Double opt-in: a join counts once its e-mailed link is opened, within this time.
WAITLIST_CONFIRM_MAX_AGE_SECONDS = env_int("WAITLIST_CONFIRM_MAX_AGE_SECONDS", 86400)
WAITLIST_CONFIRM_RESEND_SECONDS = env_int("WAITLIST_CONFIRM_RESEND_SECONDS", 600)  # one e-mail per address
# Local runs write each e-mail as an .eml file in var/mail (open it in any mail program); production uses SMTP.
EMAIL_BACKEND = env_str(
    "EMAIL_BACKEND",
    "ticketing.mail.EmlFileBackend" if LOCAL else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_FILE_PATH = env_str("EMAIL_FILE_PATH", str(VAR_DIR / "mail"))
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS")
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 20)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Evently <tickets@evently.localhost>")
# Check-in: doors open this long before an event starts (a DoorSchedule overrides it per event).
# A venue booking request whose deposit is not paid within this time expires and frees the venue.
VENUE_BOOKING_REQUEST_TTL_HOURS = env_int("VENUE_BOOKING_REQUEST_TTL_HOURS", 72)
CHECKIN_DOORS_OPEN_MINUTES = env_int("CHECKIN_DOORS_OPEN_MINUTES", 120)
# Devices may download the offline ticket list this long before doors open (until they close).
CHECKIN_MANIFEST_LEAD_MINUTES = env_int("CHECKIN_MANIFEST_LEAD_MINUTES", 180)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "WARNING")},
}

# E-mails during a sale rush (ticketing.services.delivery): above this many tickets e-mails per second
# in one web process they wait for the sweep, which sends a small batch per run while the rush lasts.
RUSH_EMAILS_PER_SECOND = env_int("RUSH_EMAILS_PER_SECOND", 5)
EMAIL_SWEEP_DELAY_SECONDS = env_int("EMAIL_SWEEP_DELAY_SECONDS", 20)
EMAIL_SWEEP_BATCH = env_int("EMAIL_SWEEP_BATCH", 2000)
EMAIL_SWEEP_BATCH_IN_RUSH = env_int("EMAIL_SWEEP_BATCH_IN_RUSH", 50)

# How long a process serves the whole-event layout it built (ticketing.layout_responses).
LAYOUT_SHARED_SECONDS = float(env_str("LAYOUT_SHARED_SECONDS", "1"))
