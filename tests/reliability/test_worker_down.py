"""The worker is down while a sale runs: buyers notice nothing, and the backlog is worked off exactly once.

Holds expire for buyers without the sweeper (tests/test_holds.py::test_expired_hold_is_free_at_once_without_the_sweeper)
and a sale opens at its time without the lifecycle tick
(tests/test_holds.py::test_sale_opens_at_its_time_without_the_lifecycle_tick). Here: e-mails and PDFs.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from django.core import mail

from tests.reliability.faults import HttpBuyer, Worker
from ticketing.models import OutgoingEmail
from ticketing.services.delivery import emails_retry_due

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_tickets_queued_while_the_worker_was_down_are_sent_once_when_it_returns(
        server, redis_server, sale, settings, tmp_path):
    # given: three bookings confirmed while no worker runs (their tasks wait in Redis)
    event, seat_ids = sale
    addresses = [f"buyer{n}@example.com" for n in range(3)]
    for n, address in enumerate(addresses):
        buyer = HttpBuyer(server.url)
        assert buyer.hold(event.pk, seat_ids[n * 2:n * 2 + 2]).status_code == 200
        assert buyer.confirm(event.pk, email=address).status_code == 201
    assert OutgoingEmail.objects.filter(sent_at=None).count() == 3
    mail_dir, pdf_dir = tmp_path / "mail", tmp_path / "tickets"
    settings.TICKETS_PDF_DIR = pdf_dir
    settings.EMAIL_SWEEP_DELAY_SECONDS = 0

    # when: the worker comes back while the minute's sweep also runs (here, in this process)
    worker = Worker(redis_server.url, EMAIL_BACKEND="django.core.mail.backends.filebased.EmailBackend",
                    EMAIL_FILE_PATH=str(mail_dir), TICKETS_PDF_DIR=str(pdf_dir))
    try:
        deadline = time.monotonic() + 60
        while OutgoingEmail.objects.filter(sent_at=None).exists() and time.monotonic() < deadline:
            emails_retry_due()
            time.sleep(0.2)
        time.sleep(2)  # let the worker finish any task it had claimed
    finally:
        worker.stop()

    # then: every buyer got their tickets exactly once, from one or the other
    sent_by_worker = [_recipient(path) for path in mail_dir.glob("*.log")] if mail_dir.exists() else []
    sent_here = [message.to[0] for message in mail.outbox]
    assert sorted(sent_by_worker + sent_here) == addresses
    assert set(OutgoingEmail.objects.values_list("attempts", flat=True)) == {1}
    # and one PDF per booking (rendered once per content, shared by both paths)
    assert len(list(pdf_dir.glob("booking-*.pdf"))) == 3


def _recipient(path: Path) -> str:
    """The To: of a file the file-based backend wrote (one message per file here: one send per connection)."""
    for line in path.read_text().splitlines():
        if line.startswith("To: "):
            return line[4:].strip()
    raise AssertionError(f"no recipient in {path}")
