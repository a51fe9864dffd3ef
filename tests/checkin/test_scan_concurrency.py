"""Real-thread races on separate connections: many devices, one ticket, exactly one admit."""

from __future__ import annotations

import threading
import uuid

import pytest
from django.db import connection

from checkin.models import Admission, Scan
from tests.checkin.conftest import Door

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
