"""Writes for venues: storing a generated layout, and regenerating it safely."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.db import transaction

from venues.exceptions import InvalidLayout
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
    if venue.sections.exists():  # sections, not seats: a general-admission venue has none
        raise ValueError("This venue already has seats.")
    layout = TEMPLATES[template](**(params or {}))
    venue_store_layout(venue=venue, layout=layout)
    return layout


def venue_store_layout(*, venue: Venue, layout: VenueLayout) -> None:
    sections = Section.objects.bulk_create(
        Section(venue=venue, name=spec.name, position=index, outline=spec.outline,
                is_general_admission=spec.is_general_admission, capacity=spec.places)
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


# Apps whose rows point at a venue's seats (ticketing's event inventory) register a release
# function (`seat_dependents_register`, from their AppConfig.ready): called inside the
# regeneration's transaction with the venue row locked, it removes what may go with the old
# seats and returns the ids of the events it touched, or raises VenueHasSales for what may not.
SeatDependentsRelease = Callable[..., list[int]]
_seat_dependents: list[SeatDependentsRelease] = []


def seat_dependents_register(release: SeatDependentsRelease) -> None:
    if release not in _seat_dependents:
        _seat_dependents.append(release)


@transaction.atomic
def venue_regenerate(*, venue: Venue, template: str, params: dict | None = None) -> Regenerated:
    """Replace the venue's seats with a freshly generated layout, never losing a sale.

    What other apps built on the old seats is released first by their registered functions
    (`seat_dependents_register`; ticketing's `venue_inventory_release` deletes the free inventory of
    the venue's events and refuses while seats are held or sold: VenueHasSales). Raises
    InvalidLayout for bad parameters; on any error nothing changes.
    """
    layout = layout_generate(template=template, params=params)
    venue = Venue.objects.select_for_update().get(pk=venue.pk)
    event_ids: set[int] = set()
    for release in _seat_dependents:
        event_ids.update(release(venue=venue))
    Seat.objects.filter(venue=venue)._raw_delete(Seat.objects.db)
    Section.objects.filter(venue=venue)._raw_delete(Section.objects.db)
    venue_store_layout(venue=venue, layout=layout)
    return Regenerated(layout=layout, event_ids=sorted(event_ids))


ACCESSIBILITY_FLAGS = ("is_wheelchair", "is_companion", "is_restricted_view")


def seats_accessibility_set(*, venue_id: int, seat_ids: list[int], flags: dict[str, bool]) -> int:
    """Set accessibility flags on venue seats (one UPDATE); unknown flags raise InvalidLayout. Returns the count."""
    unknown = set(flags) - set(ACCESSIBILITY_FLAGS)
    if unknown or not flags:
        raise InvalidLayout(f"Unknown accessibility flags: {', '.join(sorted(unknown)) or 'none given'}.")
    return Seat.objects.filter(venue_id=venue_id, pk__in=seat_ids).update(**flags)
