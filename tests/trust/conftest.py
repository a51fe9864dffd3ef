"""Fixtures for the trust tests: payment provider switching, organizers, door staff."""

from __future__ import annotations

import pytest
from django.core.cache import cache

from evently.payments import get_payment_provider


@pytest.fixture
def use_provider(settings):
    """Switch PAYMENT_PROVIDER for one test (the provider is cached per process)."""

    def switch(dotted_path: str):
        settings.PAYMENT_PROVIDER = dotted_path
        get_payment_provider.cache_clear()

    yield switch
    get_payment_provider.cache_clear()


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    """Rate-limit buckets live in Redis: every test starts with full buckets."""
    cache.clear()
    yield


# E-mail tasks run inline and PDFs go to a temporary directory, as in the tickets tests.
from tests.tickets.conftest import q_sync, tickets_dir  # noqa: E402,F401
