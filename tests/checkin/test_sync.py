"""Offline devices: queued scans synced later, idempotently; conflicts reported."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from checkin.models import Admission, Scan
from tests.checkin.conftest import Door, make_door_staff


def _offline_scan(token, nonce, *, minutes_ago=5, gate="Side", local_result="admit"):
    return {"token": token, "nonce": nonce, "gate": gate, "offline": True, "local_result": local_result,
            "scanned_at": (timezone.now() - timedelta(minutes=minutes_ago)).isoformat()}


def test_synced_offline_scan_is_admitted_at_its_scan_time(door, token):
    scanned_at = timezone.now() - timedelta(minutes=5)
    # when
    response = door.sync([
        {**_offline_scan(token, "offline-nonce-1"), "scanned_at": scanned_at.isoformat()}])
    # then
    assert response.status_code == 200, response.content
    [result] = response.json()["results"]
    assert (result["nonce"], result["result"]) == ("offline-nonce-1", "admit")
    admission = Admission.objects.get()
    assert (admission.admitted_at, admission.is_offline, admission.gate) == (scanned_at, True, "Side")
    scan = Scan.objects.get()
    assert (scan.is_offline, scan.local_result, scan.is_conflict) == (True, "admit", False)


def test_sync_sent_twice_changes_nothing_the_second_time(door, token):
    payload = {"scans": [_offline_scan(token, "offline-nonce-1")]}
    first = door.post_json("/api/checkin/sync", payload).json()
    # when the device did not get the answer and syncs again
    again = door.post_json("/api/checkin/sync", payload).json()
    # then
    assert again == first
    assert Scan.objects.count() == 1
    assert Admission.objects.count() == 1


def test_two_offline_devices_admitting_one_ticket_is_a_conflict(door, door_user, token, open_event):
    other_device = Door(door_user, device="door-2")
    door.sync([_offline_scan(token, "device-1-scan", minutes_ago=6)])
    # when the second device, which also let the ticket in while offline, syncs
    response = other_device.sync([
        _offline_scan(token, "device-2-scan", minutes_ago=4, gate="East")])
    # then the server reports the conflict
    [result] = response.json()["results"]
    assert result["result"] == "already_admitted"
    assert result["conflict"] is True
    conflict = Scan.objects.get(is_conflict=True)
    assert (conflict.nonce, conflict.device, conflict.gate) == ("device-2-scan", "door-2", "East")
    stats = door.get(f"/api/checkin/events/{open_event.pk}/stats").json()
    assert stats["conflict_count"] == 1
    assert [c["nonce"] for c in stats["conflicts"]] == ["device-2-scan"]


def test_offline_scan_the_device_refused_is_no_conflict(door, token):
    door.scan(token)
    response = door.sync([
        _offline_scan(token, "refused-offline", local_result="already_admitted")])
    assert response.json()["results"][0]["result"] == "already_admitted"
    assert Scan.objects.filter(is_conflict=True).count() == 0


def test_offline_scan_time_in_the_future_is_clamped_to_now(door, token):
    before = timezone.now()
    door.sync([_offline_scan(token, "future-scan", minutes_ago=-60)])
    assert before <= Admission.objects.get().admitted_at <= timezone.now()


def test_sync_reports_scans_for_events_the_user_may_not_scan(token, other_event):
    staff = make_door_staff("door-other", event=other_event)
    response = Door(staff).sync([_offline_scan(token, "not-mine-1")])
    assert response.status_code == 200
    [result] = response.json()["results"]
    assert (result["result"], result["error"]) == ("error", "forbidden")
    assert Scan.objects.count() == 0
