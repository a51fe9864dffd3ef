"""Writes for venues: storing a generated layout."""

from django.db import transaction

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
