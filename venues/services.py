"""Writes for venues: storing a generated layout, and regenerating it safely."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import connection, transaction

from venues.exceptions import InvalidLayout, VenueHasSales
from venues.generators import TEMPLATES, VenueLayout
from venues.models import Seat, Section, Venue


@transaction.atomic
def venue_build_from_template(*, venue: Venue, template: str, params: dict | None = None) -> VenueLayout:
    """Replace the venue's (empty) seat layout with one from a template.

    Raises ValueError for an unknown template or bad parameters, and when the venue already has
    seats: regenerating a venue with events on it is the admin's job, with its own safety checks.
    """
    if template not in TEMPLATES:
        raise ValueError(f"Unknown venue template {template!r}; choose one of {', '.join(TEMPLATES)}.")
    if venue.seats.exists():
        raise ValueError("This venue already has seats.")
    layout = TEMPLATES[template](**(params or {}))
    venue_store_layout(venue=venue, layout=layout)
    return layout


def venue_store_layout(*, venue: Venue, layout: VenueLayout) -> None:
    sections = Section.objects.bulk_create(
        Section(venue=venue, name=spec.name, position=index, outline=spec.outline)
        for index, spec in enumerate(layout.sections)
    )
    Seat.objects.bulk_create(
        (
            Seat(venue=venue, section=section, row_label=seat.row_label, number=seat.number, x=seat.x, y=seat.y,
                 is_wheelchair=seat.is_wheelchair, is_companion=seat.is_companion,
                 is_restricted_view=seat.is_restricted_view)
            for section, spec in zip(sections, layout.sections, strict=False)
            for seat in spec.seats
        ),
        batch_size=5000,
    )
    venue.capacity = layout.capacity
    venue.map_meta = layout.map_meta
    venue.save(update_fields=["capacity", "map_meta"])


def layout_generate(*, template: str, params: dict | None = None) -> VenueLayout:
    """Run a template generator (no database writes); bad input raises InvalidLayout."""
    if template not in TEMPLATES:
        raise InvalidLayout(f"Unknown venue template {template!r}; choose one of {', '.join(TEMPLATES)}.")
    try:
        return TEMPLATES[template](**(params or {}))
    except (TypeError, ValueError) as error:
        raise InvalidLayout(str(error)) from None


@dataclass(frozen=True)
class Regenerated:
    layout: VenueLayout
    # Events whose (unsold) inventory was dropped: they need `event_inventory_create` again.
    event_ids: list[int]


# Inventory rows that may go with the old seats: nobody holds or bought them, and no booking
# (not even a cancelled one) points at them. An expired hold counts as available, as everywhere.
_DELETE_FREE_INVENTORY = """
DELETE FROM ticketing_eventseat es
 USING venues_seat seat
 WHERE es.seat_id = seat.id AND seat.venue_id = %s
   AND (es.status IN ('available', 'blocked')
        OR (es.status = 'held' AND es.booking_id IS NULL AND es.held_until <= now()))
   AND NOT EXISTS (SELECT 1 FROM ticketing_bookingseat bs WHERE bs.event_seat_id = es.id)
RETURNING es.event_id
"""

_REMAINING_INVENTORY = """
SELECT event.title, event.ends_at > now() AS is_future, es.status, count(*)
  FROM ticketing_eventseat es
  JOIN venues_seat seat ON seat.id = es.seat_id
  JOIN events_event event ON event.id = es.event_id
 WHERE seat.venue_id = %s
 GROUP BY event.title, is_future, es.status
 ORDER BY is_future DESC, event.title, es.status
"""


@transaction.atomic
def venue_regenerate(*, venue: Venue, template: str, params: dict | None = None) -> Regenerated:
    """Replace the venue's seats with a freshly generated layout, never losing a sale.

    Free inventory (available, blocked, expired holds with no booking history) of the venue's
    events is deleted with the old seats; if any other inventory remains — seats held or sold for
    a future event, or booking history of a past one — nothing changes and VenueHasSales lists it.
    The DELETE locks the rows it removes, so a hold racing this call either lands first (and is
    reported) or finds its seat gone. Raises InvalidLayout for bad parameters.
    """
    layout = layout_generate(template=template, params=params)
    venue = Venue.objects.select_for_update().get(pk=venue.pk)
    with connection.cursor() as cursor:
        cursor.execute(_DELETE_FREE_INVENTORY, [venue.pk])
        event_ids = sorted({row[0] for row in cursor.fetchall()})
        cursor.execute(_REMAINING_INVENTORY, [venue.pk])
        remaining = cursor.fetchall()
    if remaining:
        details = "; ".join(
            f"{title}{'' if is_future else ' (past)'}: {count} {status}"
            for title, is_future, status, count in remaining
        )
        raise VenueHasSales(
            f"The seats of {venue.name} cannot be regenerated while tickets depend on them — {details}. "
            "Release or cancel those first, or create a new venue.",
            seats=[{"event": title, "is_future": is_future, "status": status, "count": count}
                   for title, is_future, status, count in remaining],
        )
    Seat.objects.filter(venue=venue)._raw_delete(Seat.objects.db)
    Section.objects.filter(venue=venue)._raw_delete(Section.objects.db)
    venue_store_layout(venue=venue, layout=layout)
    return Regenerated(layout=layout, event_ids=event_ids)


ACCESSIBILITY_FLAGS = ("is_wheelchair", "is_companion", "is_restricted_view")


def seats_accessibility_set(*, venue_id: int, seat_ids: list[int], flags: dict[str, bool]) -> int:
    """Set accessibility flags on venue seats (one UPDATE); unknown flags raise InvalidLayout. Returns the count."""
    unknown = set(flags) - set(ACCESSIBILITY_FLAGS)
    if unknown or not flags:
        raise InvalidLayout(f"Unknown accessibility flags: {', '.join(sorted(unknown)) or 'none given'}.")
    return Seat.objects.filter(venue_id=venue_id, pk__in=seat_ids).update(**flags)
