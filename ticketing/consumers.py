"""Live seat maps: thin websocket adapters onto `ticketing.live`, whose hub does the fan-out.

    /ws/events/{id}/seats                 every seat change of the event (small venues' full map)
    /ws/events/{id}/seats?section={sid}   the changes of one section (a zoomed-in large venue)
    /ws/events/{id}/sections              per-section availability counts (the large-venue overview)

A page's own messages are ignored. An unknown or draft event, or a section of another venue, is refused
at the handshake (HTTP 403; close code 4404 where the server reports one).
"""

from __future__ import annotations

import asyncio
import socket
import time
from urllib.parse import parse_qs

from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings
from websockets.protocol import Protocol as WebsocketsProtocol
from websockets.protocol import State

from ticketing.live import STALL_SECONDS, LiveNotFound, live_hub, websocket_text_frame

# Refusals before the handshake completes: the server answers 403; Channels' test communicator reports the code.
NOT_FOUND_CLOSE_CODE = 4404
TRY_AGAIN_LATER_CLOSE_CODE = 1013
# Pages have nothing to say on these sockets: a client that talks anyway is cut off (docs/reliability.md).
POLICY_VIOLATION_CLOSE_CODE = 1008
MESSAGE_TOO_BIG_CLOSE_CODE = 1009
MAX_MESSAGE_BYTES = 4096
MESSAGES_PER_MINUTE = 60


class _SocketsPerClient:
    """Open live sockets per client address in this process: one address cannot take a process's sockets."""

    def __init__(self):
        self.open: dict[str, int] = {}

    def try_open(self, address: str) -> bool:
        count = self.open.get(address, 0)
        if settings.LIVE_MAX_SOCKETS_PER_CLIENT and count >= settings.LIVE_MAX_SOCKETS_PER_CLIENT:
            return False
        self.open[address] = count + 1
        return True

    def close(self, address: str) -> None:
        count = self.open.get(address, 0) - 1
        if count > 0:
            self.open[address] = count
        else:
            self.open.pop(address, None)


_sockets_per_client = _SocketsPerClient()  # one event loop per process: no lock needed


class LiveSeatMapConsumer(AsyncWebsocketConsumer):
    """One page's subscription. The hub calls `live_deliver` with text serialised once for all pages."""

    # The hub fans out within the process, so no Channels channel (one Redis subscription each) per page.
    channel_layer_alias = "live-seat-maps-use-no-channel-layer"
    kind = "event"

    async def connect(self):
        self.feed = self.topic = None
        self._client_address = None
        self._talk_allowance, self._talk_checked = float(MESSAGES_PER_MINUTE), time.monotonic()
        address = (self.scope.get("client") or ["?"])[0]
        if not _sockets_per_client.try_open(address):  # e.g. one client opening 1,000 sockets
            await self.close(code=TRY_AGAIN_LATER_CLOSE_CODE)
            return
        self._client_address = address
        try:
            event_id = int(self.scope["url_route"]["kwargs"]["event_id"])
            section_id = self._section_id()
        except ValueError:
            await self.close(code=NOT_FOUND_CLOSE_CODE)
            return
        kind = "section" if section_id is not None else self.kind
        hub = live_hub()
        try:
            feed, topic = await hub.topic(event_id=event_id, kind=kind, section_id=section_id)
        except LiveNotFound:  # unknown or draft event (the layout API's rule), or a section of another venue
            await self.close(code=NOT_FOUND_CLOSE_CODE)
            return
        except Exception:  # noqa: BLE001 - database or Redis down: refuse; the page polls and retries
            await self.close(code=TRY_AGAIN_LATER_CLOSE_CODE)
            return
        await self.accept()
        self._connection = _server_connection(self.base_send)
        # uvicorn's websockets (sans-I/O) connection: frames can go straight to its transport.
        self._direct = (self._connection is not None and hasattr(self._connection, "close_sent")
                        and isinstance(getattr(self._connection, "conn", None), WebsocketsProtocol))
        self._backlogged_since: float | None = None
        self.feed, self.topic = feed, topic
        hub.join(feed, topic, self)
        await self.joined()

    def _section_id(self) -> int | None:
        if self.kind != "event":
            return None
        values = parse_qs(self.scope.get("query_string", b"").decode("latin-1")).get("section")
        return int(values[0]) if values else None

    async def joined(self) -> None:
        """Pages catch up over HTTP from their page's version; nothing to send on joining."""

    async def disconnect(self, code):
        if self._client_address is not None:
            _sockets_per_client.close(self._client_address)
            self._client_address = None
        if self.topic is not None:
            live_hub().leave(self.feed, self.topic, self)
            self.topic = None

    async def receive(self, text_data=None, bytes_data=None):
        """Pages have nothing to say on this socket: a message is ignored, but one over MAX_MESSAGE_BYTES,
        or more than MESSAGES_PER_MINUTE of them (a token bucket), closes the socket."""
        size = len(text_data.encode()) if text_data is not None else len(bytes_data or b"")
        now = time.monotonic()
        self._talk_allowance = min(float(MESSAGES_PER_MINUTE),
                                   self._talk_allowance + (now - self._talk_checked) * MESSAGES_PER_MINUTE / 60)
        self._talk_checked = now
        self._talk_allowance -= 1
        if size > MAX_MESSAGE_BYTES:
            await self._cut_off(MESSAGE_TOO_BIG_CLOSE_CODE)
        elif self._talk_allowance < 0:
            await self._cut_off(POLICY_VIOLATION_CLOSE_CODE)

    async def _cut_off(self, code: int) -> None:
        await self.disconnect(code)
        await self.close(code=code)

    def live_deliver(self, text: str, frame: bytes):
        """Send one message (`frame`: the same, framed once for every viewer), or drop this page if its
        connection is not keeping up — it reconnects and catches up. Returns an awaitable only where the
        server's connection is not at hand (other servers, tests' communicators).

        Under uvicorn: when more than LIVE_SEND_BUFFER_BYTES are still unsent, or some bytes have stayed
        unsent at every delivery for STALL_SECONDS, the connection is aborted instead of queueing more;
        otherwise the frame is written straight to the socket, as uvicorn itself would, without a copy,
        a coroutine or a frame built per viewer. A send never waits, and one slow page never delays the
        others.
        """
        connection = self._connection
        if connection is None:
            return self.base_send({"type": "websocket.send", "text": text})
        transport = connection.transport
        unsent = transport.get_write_buffer_size()
        writable = getattr(connection, "writable", None)
        stalled = False
        if unsent:
            now = time.monotonic()
            if self._backlogged_since is None:
                self._backlogged_since = now
            stalled = now - self._backlogged_since > STALL_SECONDS
        else:
            self._backlogged_since = None
        if (stalled or unsent > settings.LIVE_SEND_BUFFER_BYTES
                or (isinstance(writable, asyncio.Event) and not writable.is_set())):
            self.drop()
            return None
        if self._direct:
            if not connection.close_sent and connection.conn.state is State.OPEN and not transport.is_closing():
                transport.write(frame)
            return None
        return self.base_send({"type": "websocket.send", "text": text})

    def drop(self) -> None:
        if self.topic is not None:
            hub = live_hub()
            hub.stats["dropped_slow"] += 1
            hub.leave(self.feed, self.topic, self)
            self.topic = None
        self._connection.transport.abort()  # its buffer is full: a closing handshake would queue behind it


class SectionCountsConsumer(LiveSeatMapConsumer):
    """The overview's counts: all sections on joining, then the sections whose counts changed."""

    kind = "counts"

    async def joined(self) -> None:
        text = self.feed.full_counts()
        pending = self.live_deliver(text, websocket_text_frame(text))
        if pending is not None:
            await pending


def _server_connection(send):
    """uvicorn's connection object behind `send` (its transport and write state), or None elsewhere."""
    connection = getattr(send, "__self__", None)
    transport = getattr(connection, "transport", None)
    if transport is None or not hasattr(transport, "get_write_buffer_size"):
        return None
    size = settings.LIVE_SOCKET_SEND_BUFFER
    sock = transport.get_extra_info("socket")
    if size and sock is not None:
        # The kernel's own buffer grows to megabytes for a peer that stops reading; bounded, a stalled
        # page shows up in the transport's buffer after ~size bytes and is dropped.
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, size)
        except OSError:
            pass
    return connection
