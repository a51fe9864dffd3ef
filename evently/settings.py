"""Evently settings: everything that differs between machines comes from the environment.

`make run` and `make test` go through `evently.embedded`, which sets DATABASE_URL and
REDIS_URL (starting embedded servers when they are unset) and EVENTLY_LOCAL=1.
"""

from pathlib import Path

import dj_database_url

from evently.env import env_bool, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("EVENTLY_VAR_DIR", str(BASE_DIR / "var")))

LOCAL = env_bool("EVENTLY_LOCAL")
DEBUG = env_bool("DEBUG")
# Outside local runs a missing key must stop the process at start, not sign cookies with a default.
SECRET_KEY = env_str("DJANGO_SECRET_KEY", "local-only-insecure-key-change-me" if LOCAL or DEBUG else None)
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
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
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
# and save a connect per request.
DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/evently"),
        conn_max_age=env_int("DB_CONN_MAX_AGE", 600),
    )
}
DATABASES["default"].setdefault("OPTIONS", {})
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

# One publish per group, not one push per client: see docs/architecture.md.
CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
        "CONFIG": {"hosts": [REDIS_URL], "prefix": env_str("CHANNEL_PREFIX", "evently")},
    }
}

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

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]
LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/"

LANGUAGE_CODE = "en"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
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
PAYMENT_WEBHOOK_SECRET = env_str("PAYMENT_WEBHOOK_SECRET", "local-webhook-secret" if LOCAL or DEBUG else None)
PAYMENT_WEBHOOK_TOLERANCE_SECONDS = env_int("PAYMENT_WEBHOOK_TOLERANCE_SECONDS", 300)
PAYMENT_PROVIDER = env_str("PAYMENT_PROVIDER", "evently.payments.FakePaymentProvider")
CURRENCY = env_str("CURRENCY", "EUR")
DEMO_PASSWORD = env_str("DEMO_PASSWORD", "evently-demo")
DEMO_CATALOGUE_EVENTS = env_int("DEMO_CATALOGUE_EVENTS", 300)  # the demo's smaller events in nine cities; 0: none

# Search (docs/architecture.md, "Search"): a search first folds pending seat-count changes into the summaries,
# at most once per this many seconds per process (0: before every search; the worker folds every minute anyway).
SUMMARY_FOLD_SECONDS = env_int("SUMMARY_FOLD_SECONDS", 1)
TRENDING_KEY_PREFIX = env_str("TRENDING_KEY_PREFIX", CACHES["default"]["KEY_PREFIX"] + ":trending")  # Redis keys
TRENDING_CACHE_SECONDS = env_int("TRENDING_CACHE_SECONDS", 5)  # a process reuses the trending ranking this long

# E-tickets, e-mail, my bookings, transfers, waitlist (docs/tickets.md)
PUBLIC_URL = env_str("PUBLIC_URL", f"http://localhost:{env_int('PORT', 8000)}").rstrip("/")  # links in e-mails
TICKETS_PDF_DIR = Path(env_str("TICKETS_PDF_DIR", str(VAR_DIR / "tickets")))  # private: not under MEDIA_ROOT
TICKET_DOORS_BEFORE_MINUTES = env_int("TICKET_DOORS_BEFORE_MINUTES", 60)
MAGIC_LINK_MAX_AGE_SECONDS = env_int("MAGIC_LINK_MAX_AGE_SECONDS", 3600)
WAITLIST_OFFER_SECONDS = env_int("WAITLIST_OFFER_SECONDS", 1800)
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
CHECKIN_DOORS_OPEN_MINUTES = env_int("CHECKIN_DOORS_OPEN_MINUTES", 120)

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
