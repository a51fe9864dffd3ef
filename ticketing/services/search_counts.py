"""Search's seat counts recounted from the seats themselves: the repair path next to the trigger.

Ticketing owns the seats, so the recount is ticketing's; events keeps the summaries and takes the
counts through `events.summary.category_counts_replace`. The seats are share-locked for the length
of the recount (holds and sales wait, briefly), and the fold lock is taken by the replace, so no
delta is counted twice or lost meanwhile.
"""

from __future__ import annotations

from django.db import connection, transaction

from events.summary import category_counts_replace

RECOUNT_SQL = """
SELECT category_id, event_id, count(*) FILTER (WHERE status = 'available'), count(*) FILTER (WHERE status = 'held'),
       count(*) FILTER (WHERE status = 'sold'), count(*) FILTER (WHERE status = 'blocked')
  FROM ticketing_eventseat GROUP BY category_id, event_id
"""


def search_summaries_recount() -> int:
    """Recount every event's and category's seats for search and re-price them; returns the events summarised."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("LOCK TABLE ticketing_eventseat IN SHARE MODE")
        cursor.execute(RECOUNT_SQL)
        return category_counts_replace(cursor.fetchall())
