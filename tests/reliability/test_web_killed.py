"""A web process is SIGKILLed while buyers confirm: reconciliation leaves no seat sold without payment and
no payment kept without seats, and a buyer's retry with the same idempotency key gets the same booking.

The deterministic crash points (after each confirm phase) are in tests/test_confirm.py and
docs/booking-states.md; here a real server process is killed at random moments under load, three times.
"""

from __future__ import annotations

import itertools
import os
import signal
import threading
import time
import uuid
from datetime import timedelta

import httpx
import pytest
import time_machine
from django.utils import timezone

from tests.conftest import make_event
from tests.reliability.faults import HttpBuyer
from tests.sales.conftest import assert_money_matches_seats
from ticketing.models import Booking, BookingStatus, EventSeat
from ticketing.services.bookings import bookings_reconcile_due

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

TOKENS = ["tok_ok", "tok_ok", "tok_ok", "tok_error_after_charge", "tok_timeout", "tok_declined"]


def test_killing_the_web_process_mid_confirm_loses_nothing(asgi_server_factory, organizer):
    # given: 200 seats, eight buyers holding and paying with every payment outcome
    event = make_event(organizer, rows=10, seats_per_block=10, blocks=2)
    seats = iter(EventSeat.objects.filter(event=event).order_by("id").values_list("id", flat=True))
    seats_lock = threading.Lock()
    tokens = itertools.cycle(TOKENS)
    cut_off: list[tuple[HttpBuyer, str, str]] = []  # (buyer, idempotency key, token) whose confirm got no answer
    answers: list[int] = []

    def buyer_loop(server):
        while True:
            with seats_lock:
                seat_id, token = next(seats, None), next(tokens)
            if seat_id is None:
                return
            key = uuid.uuid4().hex
            try:
                buyer = HttpBuyer(server.url)
                if buyer.hold(event.pk, [seat_id]).status_code != 200:
                    continue
            except httpx.TransportError:
                return
            try:
                answers.append(buyer.confirm(event.pk, token=token, email=f"{key}@example.com",
                                             idempotency_key=key).status_code)
            except httpx.TransportError:
                cut_off.append((buyer, key, token))
                return

    # when: the server is SIGKILLed under that load, three times, and started again each time
    for _ in range(3):
        server = asgi_server_factory(RATE_LIMITS_ENABLED="0")
        threads = [threading.Thread(target=buyer_loop, args=(server,)) for _ in range(8)]
        for thread in threads:
            thread.start()
        time.sleep(1.5)
        os.kill(server.process.pid, signal.SIGKILL)
        for thread in threads:
            thread.join(30)
    server = asgi_server_factory(RATE_LIMITS_ENABLED="0")

    # then: buyers cut off retry with the same key and get the booking that key made (if it made one)
    retried = {}
    for buyer, key, token in cut_off:
        buyer.http.base_url = server.url
        retry = buyer.confirm(event.pk, token=token, email=f"{key}@example.com", idempotency_key=key)
        assert retry.status_code in (201, 202, 402, 409, 422), retry.text
        made = Booking.objects.filter(client_key=key).first()
        if made is not None and retry.status_code in (201, 202):
            retried[key] = (retry.json()["booking_id"], made.pk)
    assert all(answer_id == made_id for answer_id, made_id in retried.values())
    assert 500 not in answers

    # and after the order time, reconciliation has settled every booking: nothing pending, money matches seats
    with time_machine.travel(timezone.now() + timedelta(seconds=60 * 16)):
        bookings_reconcile_due()
    assert not Booking.objects.filter(status=BookingStatus.PENDING).exists()
    assert Booking.objects.filter(status=BookingStatus.PAID).exists()
    assert_money_matches_seats(event)
    print(f"\n[web killed] confirms answered: {len(answers)}, cut off by SIGKILL: {len(cut_off)}, "
          f"retried to a booking: {len(retried)}, bookings: {Booking.objects.count()}")
