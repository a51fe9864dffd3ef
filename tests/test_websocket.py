"""Seat changes reach subscribed pages over Channels (real Redis channel layer) and changes-since."""

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from channels.testing.websocket import WebsocketCommunicator

from evently.asgi import application
from ticketing.services import seat_hold

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_hold_is_pushed_to_the_events_group(event, seat_ids):
    async_to_sync(_hold_is_pushed)(event, seat_ids)


async def _hold_is_pushed(event, seat_ids):
    communicator = WebsocketCommunicator(application, f"/ws/events/{event.pk}/seats",
                                         headers=[(b"origin", b"http://127.0.0.1"), (b"host", b"127.0.0.1")])
    connected, _ = await communicator.connect()
    assert connected

    await sync_to_async(seat_hold)(event_id=event.pk, seat_ids=seat_ids[:2], owner="buyer-1")

    message = await communicator.receive_json_from(timeout=5)
    assert message["version"] > 0
    assert [(c["seat_id"], c["status"]) for c in message["changes"]] == [(seat_ids[0], "held"), (seat_ids[1], "held")]
    assert all("held_until" in c for c in message["changes"])
    await communicator.disconnect()


def test_changes_since_returns_what_a_client_missed(buyer, event, seat_ids):
    buyer.hold(event, seat_ids[:1])
    version_after_first = buyer.get(f"/api/events/{event.pk}/seats/changes?since=0").json()["version"]
    buyer.hold(event, seat_ids[1:2])

    missed = buyer.get(f"/api/events/{event.pk}/seats/changes?since={version_after_first}").json()

    assert missed["version"] > version_after_first
    assert [(c["seat_id"], c["status"]) for c in missed["changes"]] == [(seat_ids[1], "held")]
    caught_up = buyer.get(f"/api/events/{event.pk}/seats/changes?since={missed['version']}").json()
    assert caught_up["changes"] == []


def test_a_version_from_the_future_asks_the_client_to_reload(buyer, event):
    response = buyer.get(f"/api/events/{event.pk}/seats/changes?since={2**62}").json()
    assert response["reset"] is True and response["changes"] == []


def test_layout_restores_the_buyers_own_holds(buyer, other_buyer, event, seat_ids):
    buyer.hold(event, seat_ids[:2])
    other_buyer.hold(event, seat_ids[2:3])

    layout = buyer.get(f"/api/events/{event.pk}/layout").json()

    assert layout["my_holds"] == seat_ids[:2]
    assert layout["hold_expires_at"] is not None
    assert layout["version"] > 0
    statuses = {seat["id"]: seat["status"] for s in layout["sections"] for r in s["rows"] for seat in r["seats"]}
    assert len(statuses) == 40
    assert [statuses[i] for i in seat_ids[:4]] == ["held", "held", "held", "available"]
