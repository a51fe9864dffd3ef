"""Data for the admin seat map of a venue's own seats, as JSON-ready dicts.

Large venues are shown one section at a time: above `SECTION_VIEW_THRESHOLD` seats the page
opens on a section overview and the map draws only the chosen section. An event's seats with
their status are drawn the same way by `ticketing.event_seatmap`, using the helpers here.
"""

from __future__ import annotations

from django.db import connection

from venues.models import Section, Venue

SECTION_VIEW_THRESHOLD = 5000


def seat_flags(is_wheelchair: bool, is_companion: bool, is_restricted: bool) -> str:
    return " ".join(name for name, on in (("wheelchair", is_wheelchair), ("companion", is_companion),
                                          ("restricted", is_restricted)) if on)


def seatmap_viewbox(venue: Venue, seats: list[list], section_id: int | None) -> list[float]:
    meta = venue.map_meta or {}
    if section_id is None and meta.get("width"):
        return [0, 0, meta["width"], meta["height"]]
    if not seats:
        return [0, 0, 100, 100]
    xs, ys = [seat[1] for seat in seats], [seat[2] for seat in seats]
    return [min(xs) - 12, min(ys) - 12, max(xs) - min(xs) + 24, max(ys) - min(ys) + 24]


def seatmap_data(*, venue: Venue, section_id: int | None = None) -> dict:
    """The venue's seats as [id, x, y, 'available', section_id, row, number, '', flags] (`id` is the Seat id)."""
    params: list = [venue.pk]
    section_filter = ""
    if section_id is not None:
        section_filter = " AND seat.section_id = %s"
        params.append(section_id)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT seat.id, seat.x, seat.y, 'available', seat.section_id, seat.row_label, seat.number, '', "
            "       seat.is_wheelchair, seat.is_companion, seat.is_restricted_view "
            "  FROM venues_seat seat WHERE seat.venue_id = %s" + section_filter + " ORDER BY seat.id",
            params,
        )
        seats = seatmap_rows(cursor.fetchall())
    return seatmap_payload(venue=venue, seats=seats, section_id=section_id)


def seatmap_rows(rows) -> list[list]:
    """(id, x, y, status, section, row, number, colour, wheelchair, companion, restricted) → the map's rows."""
    return [[row[0], row[1], row[2], row[3], row[4], row[5], row[6], row[7], seat_flags(*row[8:11])] for row in rows]


def seatmap_payload(*, venue: Venue, seats: list[list], section_id: int | None) -> dict:
    sections = list(Section.objects.filter(venue=venue).values_list("id", "name"))
    meta = venue.map_meta or {}
    return {
        "viewbox": seatmap_viewbox(venue, seats, section_id),
        "stage": meta.get("stage") if section_id is None else None,
        "seats": seats,
        "sectionNames": {section_pk: name for section_pk, name in sections},
    }


def section_overview(*, venue: Venue) -> list[dict]:
    """Per section: outline and seat count — the large-venue entry page."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT section.id, count(seat.id), 0, 0, 0 FROM venues_section section "
            "  LEFT JOIN venues_seat seat ON seat.section_id = section.id "
            " WHERE section.venue_id = %s GROUP BY section.id", [venue.pk])
        counts = {row[0]: row[1:] for row in cursor.fetchall()}
    return section_overview_rows(venue=venue, counts=counts)


def section_overview_rows(*, venue: Venue, counts: dict[int, tuple]) -> list[dict]:
    """`counts` {section id: (total, sold, held, blocked)} → the overview's rows, in section order."""
    overview = []
    for section in Section.objects.filter(venue=venue).order_by("position", "id"):
        total, sold, held, blocked = counts.get(section.pk, (0, 0, 0, 0))
        (left, top), _, (right, bottom), _ = section.outline or [[0, 0], [0, 0], [0, 0], [0, 0]]
        overview.append({"id": section.pk, "name": section.name, "total": total, "sold": sold, "held": held,
                         "blocked": blocked, "x": left, "y": top, "width": right - left, "height": bottom - top,
                         "fill": "#86efac" if total and sold == total else "#c7d2fe"})
    return overview
