"""Live seat maps on a real websocket server (uvicorn): slow viewers are dropped, the others are not delayed."""

from __future__ import annotations

import base64
import json
import os
import socket
import threading
import time
import urllib.request

import pytest
from websockets.sync.client import connect

from tests.conftest import make_event
from ticketing.broadcast import seat_changes_flush
from ticketing.models import EventSeat
from ticketing.services.blocking import seats_block, seats_unblock

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def stalled_viewer(server_url: str, path: str) -> socket.socket:
    """A websocket whose page stopped reading: handshake done, then nothing read, with a tiny receive buffer."""
    host, port = server_url.removeprefix("http://").split(":")
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect((host, int(port)))
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall(f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                 f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\nOrigin: {server_url}\r\n\r\n".encode())
    response = b""
    while b"\r\n\r\n" not in response:
        response += sock.recv(1)
    assert response.startswith(b"HTTP/1.1 101"), response
    return sock


def closed_by_server(sock: socket.socket, timeout: float) -> bool:
    """Read whatever is buffered; True once the server has closed or reset the connection."""
    sock.settimeout(timeout)
    try:
        while sock.recv(65536):
            pass
        return True
    except ConnectionResetError:
        return True
    except TimeoutError:
        return False


def test_a_viewer_that_stops_reading_is_dropped_without_delaying_the_others(asgi_server_factory, organizer):
    # given a 2,000-seat hall on the websocket-only server, one viewer that reads and one that stopped
    event = make_event(organizer, rows=40, seats_per_block=25, blocks=2)
    seat_ids = list(EventSeat.objects.filter(event=event).order_by("id").values_list("id", flat=True))
    server = asgi_server_factory("evently.asgi:websocket_application")
    path = f"/ws/events/{event.pk}/seats"
    stalled = stalled_viewer(server.url, path)
    arrivals: list[tuple[float, dict]] = []
    reader_closed = threading.Event()

    def read(ws):
        try:
            for text in ws:
                arrivals.append((time.monotonic(), json.loads(text)))
        finally:
            reader_closed.set()

    with connect(server.url.replace("http", "ws") + path, origin=server.url, max_size=None) as healthy:
        threading.Thread(target=read, args=(healthy,), daemon=True).start()
        # when every seat is blocked and unblocked 8 times (~80 kB a message)
        for _ in range(8):
            seats_block(event_id=event.pk, seat_ids=seat_ids)
            seat_changes_flush()
            time.sleep(0.1)
            seats_unblock(event_id=event.pk, seat_ids=seat_ids)
            seat_changes_flush()
            time.sleep(0.1)
        finished = time.monotonic()
        # then the reading viewer gets the final state within a second, and stays connected
        deadline = finished + 5
        while time.monotonic() < deadline and not _all_available(arrivals, seat_ids):
            time.sleep(0.02)
        assert _all_available(arrivals, seat_ids)
        last_seen = max(at for at, message in arrivals if message["changes"])
        assert last_seen - finished < 1.0
        assert len(arrivals) >= 8
        assert not reader_closed.is_set()
        # and the one that stopped reading was cut off
        assert closed_by_server(stalled, timeout=5)
    with urllib.request.urlopen(server.url + "/ws/health") as response:
        health = json.loads(response.read())
    assert health["dropped_slow"] == 1


def _all_available(arrivals, seat_ids) -> bool:
    latest = {}
    for _, message in arrivals:
        for change in message["changes"]:
            latest[change["seat_id"]] = change["status"]
    return len(latest) == len(seat_ids) and set(latest.values()) == {"available"}
