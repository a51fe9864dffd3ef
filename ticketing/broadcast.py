"""Seat-change messages to the event's Channels group, sent after commit."""

from __future__ import annotations

import logging

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

logger = logging.getLogger(__name__)


def seat_group_name(event_id: int) -> str:
    return f"event-{event_id}-seats"


def seat_changes_publish_on_commit(event_id: int, changes: list[dict]) -> None:
    transaction.on_commit(lambda: seat_changes_publish(event_id, changes))


def seat_changes_publish(event_id: int, changes: list[dict]) -> None:
    """Best effort: a lost message costs a client one `changes?since=` call, never a wrong seat.

    The message's `version` is a cursor taken after commit, so `changes?since=version` returns
    everything committed later (see `seat_changes_since`).
    """
    from ticketing.selectors import seat_changes_cursor

    try:
        message = {"type": "seat.changes", "version": seat_changes_cursor(), "changes": changes}
        async_to_sync(get_channel_layer().group_send)(seat_group_name(event_id), message)
    except Exception:  # noqa: BLE001 - a broadcast failure must not fail a committed sale
        logger.exception("seat broadcast failed for event %s", event_id)
