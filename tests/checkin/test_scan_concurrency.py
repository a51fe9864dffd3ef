"""Real-thread races on separate connections: many devices, one ticket, exactly one admit."""

from __future__ import annotations

import threading
import uuid

import pytest
from django.contrib.auth.models import User
from django.db import connection, transaction

from checkin.models import Admission, Scan
from tests.checkin.conftest import Door
from ticketing.models import Ticket
from ticketing.services.cancellation import booking_cancel

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.concurrency]


def _race(door_user, token, nonces) -> list[dict]:
    barrier = threading.Barrier(len(nonces))
    results: list[dict | None] = [None] * len(nonces)

    def scan(index):
        try:
            door = Door(door_user, device=f"device-{index}")
            barrier.wait()
            results[index] = door.scan(token, nonce=nonces[index], gate=f"G{index}").json()
        finally:
            connection.close()

    threads = [threading.Thread(target=scan, args=(index,)) for index in range(len(nonces))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return results


def test_fifty_devices_scanning_one_ticket_admit_it_once(door_user, token):
    # when 50 devices scan the same ticket at the same instant
    results = _race(door_user, token, [uuid.uuid4().hex for _ in range(50)])
    # then exactly one is admitted; every other sees the first admission's time and gate
    assert sorted(r["result"] for r in results).count("admit") == 1
    assert [r["result"] for r in results].count("already_admitted") == 49
    admission = Admission.objects.get()
    assert {(r["first_scan"]["at"], r["first_scan"]["gate"]) for r in results if r["result"] != "admit"} == {
        (admission.admitted_at.isoformat(), admission.gate)}
    assert Scan.objects.count() == 50
    assert Scan.objects.filter(result="admit").count() == 1


def test_one_scan_retried_concurrently_is_one_scan(door_user, token):
    # when the same scan (one nonce) arrives 10 times at once
    results = _race(door_user, token, ["same-nonce-retried"] * 10)
    # then every answer is that scan's "admit", logged once
    assert [r["result"] for r in results] == ["admit"] * 10
    assert Admission.objects.count() == 1
    assert Scan.objects.count() == 1


def test_a_scan_waiting_on_a_cancel_in_flight_does_not_admit_the_cancelled_ticket(door_user, booking):
    """The invariant "no admitted ticket is cancelled" when a scan and a cancel meet at the same instant."""
    superuser = User.objects.create_superuser("boss", "boss@example.com", "a-long-password-1")
    token = booking["tickets"][0]["token"]
    cancel_holds_locks, cancel_may_commit = threading.Event(), threading.Event()
    results: dict = {}

    def cancel():
        try:
            with transaction.atomic():  # the cancel has locked and cancelled the tickets, not yet committed
                booking_cancel(booking_id=booking["booking_id"], owner=None, user=superuser)
                cancel_holds_locks.set()
                cancel_may_commit.wait(20)
        finally:
            connection.close()

    def scan():
        try:
            cancel_holds_locks.wait(20)
            results["scan"] = Door(door_user, device="gate-1").scan(token).json()
        finally:
            connection.close()

    threads = [threading.Thread(target=cancel), threading.Thread(target=scan)]
    for thread in threads:
        thread.start()
    cancel_holds_locks.wait(20)
    threading.Event().wait(1.0)  # the scan is now waiting on the cancel's lock
    cancel_may_commit.set()
    for thread in threads:
        thread.join(60)
    # then the scan reads the ticket as the cancel left it: not admitted, and nothing admitted is cancelled
    assert results["scan"]["result"] == "invalid", results
    assert not Ticket.objects.filter(status="cancelled", admitted_at__isnull=False).exists()
    assert not Admission.objects.exists()
