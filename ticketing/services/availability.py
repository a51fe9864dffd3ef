"""Sold out and back: the event's status after a sale or a cancellation, and what the lifecycle
asks about seats (`events.services.SeatInventory`, registered in `TicketingConfig.ready`)."""

from __future__ import annotations

from django.db import connection

from evently.prepared import prepared_cursor
from events.models import EventStatus
from events.services import SeatInventory, event_status_refresh
from ticketing.models import EventSeat


def event_has_free_seats(event_id: int) -> bool:
    """Whether any seat is available or held (a held seat may come back); sold and blocked ones are gone."""
    with connection.cursor() as cursor:
        # Ordered by id so that the unsold-seats index answers it: a scan of the table would walk
        # past every seat sold so far.
        cursor.execute(
            "SELECT 1 FROM ticketing_eventseat WHERE event_id = %s AND status IN ('available', 'held') "
            " ORDER BY id LIMIT 1",
            [event_id],
        )
        return cursor.fetchone() is not None


def event_has_seats(event_id: int) -> bool:
    return EventSeat.objects.filter(event_id=event_id).exists()


SEAT_INVENTORY = SeatInventory(has_seats=event_has_seats, has_free_seats=event_has_free_seats)


# The common case in one prepared statement: the event's status and, only when it is on sale, whether a
# seat is left (ordered by id so that the unsold-seats index answers it: a scan of the table would walk
# past every seat sold so far).
_STATUS_AND_ANY_SEAT_LEFT_SQL = """
SELECT e.status,
       CASE WHEN e.status = %s THEN (SELECT 1 FROM ticketing_eventseat es
                                      WHERE es.event_id = e.id AND es.status IN ('available', 'held')
                                      ORDER BY es.id LIMIT 1) IS NOT NULL END
  FROM events_event e WHERE e.id = %s
"""


def event_availability_refresh(*, event_id: int) -> str:
    """The cheap hook for booking services, run after a sale or a cancellation commits:
    sold_out when the last seat is sold, on_sale again when one frees up.

    The common case — an event on sale with seats left — costs one short read and takes no lock,
    so confirms of a big sale do not queue on the event row.
    """
    with prepared_cursor() as cursor:
        cursor.execute(_STATUS_AND_ANY_SEAT_LEFT_SQL, [EventStatus.ON_SALE.value, event_id])
        row = cursor.fetchone()
    if row is None:
        return ""
    status, seat_left = row
    if status not in (EventStatus.ON_SALE, EventStatus.SOLD_OUT) or seat_left:
        return status
    return event_status_refresh(event_id=event_id)
