"""Seat-change messages to the event's Channels group, sent after commit."""

from __future__ import annotations

import logging

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

logger = logging.getLogger(__name__)


def seat_group_name(event_id: int) -> str:
    return f"event-{event_id}-seats"


def seat_changes_message(version: int, changes: list[dict]) -> dict:
    return {"version": version, "changes": changes}


def seat_changes_publish_on_commit(event_id: int, version: int, changes: list[dict]) -> None:
    transaction.on_commit(lambda: seat_changes_publish(event_id, version, changes))


def seat_changes_publish(event_id: int, version: int, changes: list[dict]) -> None:
    """Best effort: a lost message costs a client one `changes?since=` call, never a wrong seat."""
    try:
        async_to_sync(get_channel_layer().group_send)(
            seat_group_name(event_id), {"type": "seat.changes", **seat_changes_message(version, changes)}
        )
    except Exception:  # noqa: BLE001 - a broadcast failure must not fail a committed sale
        logger.exception("seat broadcast failed for event %s v%s", event_id, version)
