"""Settings and secrets outside local runs: no built-in secrets or fake payments, HTTPS settings,
`manage.py check --deploy` clean with production environment variables; links expire."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
import time_machine
from django.test import Client

from tests.tickets.conftest import buy
from ticketing.services.delivery import booking_link_key
from ticketing.services.my_bookings import magic_link_token

ROOT = Path(__file__).resolve().parents[2]
# What a production deploy sets (docker-compose.yml): no EVENTLY_LOCAL.
PRODUCTION = {
    "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
    "PAYMENT_WEBHOOK_SECRET": secrets.token_urlsafe(32),
    "PAYMENT_PROVIDER": "tests.trust.providers.CardProvider",
    "ALLOWED_HOSTS": "tickets.example.com",
    "CSRF_TRUSTED_ORIGINS": "https://tickets.example.com",
    "SECURE_PROXY_SSL_HEADER": "HTTP_X_FORWARDED_PROTO",
}
SHOW_SETTINGS = (
    "import django, json; django.setup(); from django.conf import settings as s; "
    "print(json.dumps({name: getattr(s, name, None) for name in ["
    "'SESSION_COOKIE_SECURE', 'CSRF_COOKIE_SECURE', 'SECURE_SSL_REDIRECT', 'SECURE_HSTS_SECONDS', "
    "'SECURE_PROXY_SSL_HEADER', 'DEBUG']}))"
)


def run(args: list[str], **env) -> subprocess.CompletedProcess:
    """A fresh Python with only these variables (plus the database and Redis of this test run)."""
    base = {key: os.environ[key] for key in ("PATH", "HOME", "DATABASE_URL", "REDIS_URL") if key in os.environ}
    return subprocess.run([sys.executable, *args], cwd=ROOT, env={**base, **env, "PYTHONPATH": str(ROOT)},
                          capture_output=True, text=True, timeout=120)


def without(name: str) -> dict:
    return {key: value for key, value in PRODUCTION.items() if key != name}


def test_check_deploy_is_clean_with_production_settings():
    result = run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], **PRODUCTION)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_production_settings_are_https_only():
    result = run(["-c", SHOW_SETTINGS], DJANGO_SETTINGS_MODULE="evently.settings", **PRODUCTION)
    assert result.returncode == 0, result.stderr
    import json

    assert json.loads(result.stdout) == {
        "SESSION_COOKIE_SECURE": True, "CSRF_COOKIE_SECURE": True, "SECURE_SSL_REDIRECT": True,
        "SECURE_HSTS_SECONDS": 31_536_000, "SECURE_PROXY_SSL_HEADER": ["HTTP_X_FORWARDED_PROTO", "https"],
        "DEBUG": False,
    }


@pytest.mark.parametrize("missing", ["PAYMENT_PROVIDER", "DJANGO_SECRET_KEY", "PAYMENT_WEBHOOK_SECRET"])
def test_start_up_fails_without_a_required_setting_even_with_debug_on(missing):
    result = run(["-c", "import django; django.setup()"], DJANGO_SETTINGS_MODULE="evently.settings", DEBUG="1",
                 **without(missing))
    assert result.returncode != 0
    assert f"The environment variable {missing} is required." in result.stderr


def test_check_deploy_fails_with_the_fake_payment_provider():
    result = run(["manage.py", "check", "--deploy"],
                 **{**PRODUCTION, "PAYMENT_PROVIDER": "evently.payments.FakePaymentProvider"})
    assert result.returncode != 0
    assert "evently.E002" in result.stdout + result.stderr


# --- links expire -------------------------------------------------------------------------------------------

def test_emailed_pdf_links_stop_working_a_week_after_the_event(buyer, event, seat_ids,
                                                                django_capture_on_commit_callbacks):
    booking = buy(buyer, event, seat_ids[:1], capture=django_capture_on_commit_callbacks)
    url = f"/api/bookings/{booking.pk}/tickets.pdf?key={booking_link_key(booking.pk)}"
    assert Client().get(url).status_code == 200
    with time_machine.travel(event.ends_at + timedelta(days=8)):
        assert Client().get(url).status_code == 404


def test_magic_links_expire(settings):
    token = magic_link_token("ada@example.com")
    with time_machine.travel(timedelta(seconds=settings.MAGIC_LINK_MAX_AGE_SECONDS + 5)):
        response = Client().get(f"/my-bookings/?token={token}")
    assert response.status_code == 400
    assert "expired" in response.content.decode()


def test_fast_password_hashing_is_for_make_test_only_never_for_a_deploy():
    show_hashers = ("import django, json; django.setup(); from django.conf import settings as s; "
                    "print(json.dumps(s.PASSWORD_HASHERS[0]))")
    deploy = run(["-c", show_hashers], DJANGO_SETTINGS_MODULE="evently.settings", EVENTLY_TEST_FAST_PASSWORDS="1",
                 **PRODUCTION)
    local = run(["-c", show_hashers], DJANGO_SETTINGS_MODULE="evently.settings", EVENTLY_TEST_FAST_PASSWORDS="1",
                EVENTLY_LOCAL="1")
    assert deploy.returncode == 0, deploy.stderr
    assert deploy.stdout.strip() == '"django.contrib.auth.hashers.PBKDF2PasswordHasher"'
    assert local.stdout.strip() == '"django.contrib.auth.hashers.MD5PasswordHasher"'
