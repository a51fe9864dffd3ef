"""Slow or hostile clients: oversized bodies, chatty or oversized websocket messages, a client opening
socket after socket. (A viewer that never reads is dropped without delaying the others:
tests/test_live_server.py::test_a_viewer_that_stops_reading_is_dropped_without_delaying_the_others.)"""

from __future__ import annotations

import json

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from channels.testing.websocket import WebsocketCommunicator

from evently.asgi import application
from ticketing import consumers
from ticketing.broadcast import seat_changes_flush
from ticketing.models import EventSeat
from ticketing.services import seat_hold

HEADERS = [(b"origin", b"http://127.0.0.1"), (b"host", b"127.0.0.1")]


def test_an_oversized_request_body_is_refused_with_413_json(buyer, event, seat_ids, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 64 * 1024
    body = json.dumps({"event_id": event.pk, "seat_ids": [seat_ids[0]], "padding": "x" * 100_000})

    response = buyer.post_json("/api/seats/hold", raw=body)

    assert response.status_code == 413
    assert response.json()["error"] == "payload_too_large"
    assert not EventSeat.objects.filter(event=event, status="held").exists()


async def _open(path: str) -> tuple[WebsocketCommunicator, bool, int | None]:
    communicator = WebsocketCommunicator(application, path, headers=HEADERS)
    is_connected, code = await communicator.connect(timeout=10)
    return communicator, is_connected, code


@pytest.mark.django_db(transaction=True)
def test_a_websocket_client_that_keeps_talking_is_cut_off(event):
    async def scenario():
        page, is_connected, _ = await _open(f"/ws/events/{event.pk}/seats")
        assert is_connected
        for _ in range(consumers.MESSAGES_PER_MINUTE + 1):
            await page.send_to(text_data="hello")
        closed = await page.receive_output(timeout=5)
        await page.disconnect()
        return closed

    assert async_to_sync(scenario)() == {"type": "websocket.close", "code": consumers.POLICY_VIOLATION_CLOSE_CODE}


@pytest.mark.django_db(transaction=True)
def test_a_websocket_message_over_the_size_limit_closes_the_socket(event):
    async def scenario():
        page, _, _ = await _open(f"/ws/events/{event.pk}/seats")
        await page.send_to(text_data="x" * (consumers.MAX_MESSAGE_BYTES + 1))
        closed = await page.receive_output(timeout=5)
        await page.disconnect()
        return closed

    assert async_to_sync(scenario)() == {"type": "websocket.close", "code": consumers.MESSAGE_TOO_BIG_CLOSE_CODE}


@pytest.mark.django_db(transaction=True)
def test_a_client_opening_socket_after_socket_gets_its_share_and_those_keep_working(event, seat_ids, settings):
    settings.LIVE_MAX_SOCKETS_PER_CLIENT = 5

    async def scenario():
        opened = [await _open(f"/ws/events/{event.pk}/seats") for _ in range(20)]
        accepted = [page for page, is_connected, _ in opened if is_connected]
        refused = [code for _, is_connected, code in opened if not is_connected]
        await sync_to_async(seat_hold)(event_id=event.pk, seat_ids=seat_ids[:1], owner="buyer-1")
        await sync_to_async(seat_changes_flush)()
        received = [await page.receive_json_from(timeout=5) for page in accepted]
        await accepted[0].disconnect()
        again, is_connected_again, _ = await _open(f"/ws/events/{event.pk}/seats")  # a freed place is reusable
        for page in [*accepted[1:], again] if is_connected_again else accepted[1:]:
            await page.disconnect()
        return len(accepted), refused, received, is_connected_again

    accepted, refused, received, is_connected_again = async_to_sync(scenario)()
    assert accepted == 5
    assert refused == [consumers.TRY_AGAIN_LATER_CLOSE_CODE] * 15
    assert all((message["changes"][0]["seat_id"], message["changes"][0]["status"]) == (seat_ids[0], "held")
               for message in received)
    assert is_connected_again
