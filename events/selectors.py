"""Reads for the event catalogue. Listing and search: events/search.py (it reads the maintained summaries in
events/summary.py, never counting seat rows)."""

from __future__ import annotations

from events.models import EventStatus

PUBLIC_STATUSES = [EventStatus.PUBLISHED, EventStatus.ON_SALE, EventStatus.SOLD_OUT]
