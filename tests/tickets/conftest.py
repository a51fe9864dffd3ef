"""Fixtures for e-tickets, delivery, my bookings, transfer and waitlist tests.

django-q2 runs tasks synchronously here (`Q_CLUSTER["sync"]`), still against the real
Postgres and Redis; `on_commit` callbacks are run by `django_capture_on_commit_callbacks`.
"""

from __future__ import annotations

import pypdfium2
import pytest
import zxingcpp
from django_q.conf import Conf

from ticketing.models import Booking


@pytest.fixture(autouse=True)
def q_sync(settings, monkeypatch):
    """Tasks run inline: django-q2 reads Q_CLUSTER once at import, so its Conf is switched too."""
    settings.Q_CLUSTER = {**settings.Q_CLUSTER, "sync": True}
    monkeypatch.setattr(Conf, "SYNC", True)


@pytest.fixture(autouse=True)
def tickets_dir(settings, tmp_path):
    settings.TICKETS_PDF_DIR = tmp_path / "tickets"
    settings.PUBLIC_URL = "http://testserver"
    return settings.TICKETS_PDF_DIR


@pytest.fixture(autouse=True)
def clear_cache():
    from django.core.cache import cache

    cache.clear()


def buy(buyer, event, seat_ids, *, capture) -> Booking:
    """Hold and pay for `seat_ids` through the API, running after-commit work (the e-mail task)."""
    assert buyer.hold(event, seat_ids).status_code == 200
    with capture(execute=True):
        response = buyer.confirm(event)
    assert response.status_code == 201, response.content
    return Booking.objects.get(pk=response.json()["booking_id"])


@pytest.fixture
def paid_booking(buyer, event, seat_ids, django_capture_on_commit_callbacks):
    """Ada's paid booking of the first two seats (its tickets e-mail already sent)."""
    return buy(buyer, event, seat_ids[:2], capture=django_capture_on_commit_callbacks)


def pdf_qr_codes(pdf_bytes: bytes) -> list[list[str]]:
    """Every page rendered at 150 dpi and read by zxing-cpp: the QR texts found on each page."""
    document = pypdfium2.PdfDocument(pdf_bytes)
    pages = []
    for page in document:
        image = page.render(scale=150 / 72).to_pil()
        pages.append([result.text for result in zxingcpp.read_barcodes(image) if result.format.name == "QRCode"])
    return pages


def pdf_text(pdf_bytes: bytes) -> list[str]:
    document = pypdfium2.PdfDocument(pdf_bytes)
    return [page.get_textpage().get_text_range() for page in document]


def waitlist_joined(**join_arguments):
    """Join the waitlist and confirm through the e-mailed link (double opt-in): the entry, in line."""
    from ticketing.services.waitlist import waitlist_confirm, waitlist_join

    return waitlist_confirm(entry_id=waitlist_join(**join_arguments).pk)
