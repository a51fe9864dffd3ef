"""The served app answers HTTP and websockets on one port."""

import asyncio
import json

import pytest
import websockets


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_one_port_serves_http_and_the_seat_websocket(asgi_server, event, seat_ids):
    # given a websocket subscribed to the event's seats on the served app
    async def hold_and_listen():
        uri = asgi_server.url.replace("http", "ws") + f"/ws/events/{event.pk}/seats"
        async with websockets.connect(uri, origin=asgi_server.url) as socket:
            await asyncio.sleep(0.3)
            # when a buyer holds a seat through the HTTP API of the same server
            await asyncio.to_thread(_hold_over_http, asgi_server.url, event.pk, seat_ids[0])
            return json.loads(await asyncio.wait_for(socket.recv(), timeout=5))

    message = asyncio.run(hold_and_listen())
    # then the change arrives on the websocket
    assert message["changes"][0]["seat_id"] == seat_ids[0]
    assert message["changes"][0]["status"] == "held"
    assert message["version"] >= 1


def _hold_over_http(base_url, event_id, seat_id):
    import httpx

    with httpx.Client(base_url=base_url) as client:
        token = client.get("/api/session").json()["csrf_token"]
        response = client.post("/api/seats/hold", json={"event_id": event_id, "seat_ids": [seat_id]},
                               headers={"X-CSRFToken": token, "Referer": base_url})
        assert response.status_code == 200, response.text
