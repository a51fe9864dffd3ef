"""Reads for the event catalogue. Listing and search: events/search.py, which reads the seat counts and prices
that events/summary.py keeps (from the seat trigger's deltas), never the seats."""

from __future__ import annotations

from events.models import EventStatus

PUBLIC_STATUSES = [EventStatus.PUBLISHED, EventStatus.ON_SALE, EventStatus.SOLD_OUT]
