"""Venue templates: parameterised generators of sections, rows and seats with coordinates.

Generators are pure: they return a `VenueLayout` and touch no database, so they are easy to
preview (admin) and to test. `venues.services.venue_build_from_template` stores a layout.
Coordinates are in an abstract unit (about one seat width = 10) with y growing away from the
stage or down the page; `map_meta` carries the canvas size and the stage/field drawing.
"""

from __future__ import annotations

import math
import string
from dataclasses import dataclass, field


@dataclass(frozen=True)
class SeatSpec:
    row_label: str
    number: int
    x: float
    y: float
    is_wheelchair: bool = False
    is_companion: bool = False
    is_restricted_view: bool = False


@dataclass
class SectionSpec:
    name: str
    seats: list[SeatSpec] = field(default_factory=list)
    # A general-admission area (issue 15): standing places instead of seats, drawn as `shape`.
    places: int = 0
    shape: list[list[float]] | None = None

    @property
    def is_general_admission(self) -> bool:
        return self.places > 0

    @property
    def outline(self) -> list[list[float]]:
        """A padded bounding box: enough for a section overview, cheap to draw (an area: its shape)."""
        if self.shape is not None:
            return [[round(x, 1), round(y, 1)] for x, y in self.shape]
        xs = [seat.x for seat in self.seats]
        ys = [seat.y for seat in self.seats]
        pad = 8
        left, right, top, bottom = min(xs) - pad, max(xs) + pad, min(ys) - pad, max(ys) + pad
        return [[round(left, 1), round(top, 1)], [round(right, 1), round(top, 1)],
                [round(right, 1), round(bottom, 1)], [round(left, 1), round(bottom, 1)]]


@dataclass
class VenueLayout:
    sections: list[SectionSpec]
    map_meta: dict

    @property
    def capacity(self) -> int:
        """Admissions: seats and standing places."""
        return sum(len(section.seats) + section.places for section in self.sections)


def row_labels(count: int) -> list[str]:
    """A, B, … Z, AA, AB, … — the way box offices label rows."""
    letters = string.ascii_uppercase
    labels = []
    for index in range(count):
        label = ""
        n = index
        while True:
            label = letters[n % 26] + label
            n = n // 26 - 1
            if n < 0:
                break
        labels.append(label)
    return labels


def _normalise(sections: list[SectionSpec], margin: float = 40) -> tuple[list[SectionSpec], float, float, float, float]:
    """Shift every seat so the drawing starts at (margin, margin); return the shift and the size."""
    xs = [seat.x for section in sections for seat in section.seats] + [
        x for section in sections for x, _ in (section.shape or [])]
    ys = [seat.y for section in sections for seat in section.seats] + [
        y for section in sections for _, y in (section.shape or [])]
    dx, dy = margin - min(xs), margin - min(ys)
    shifted = [
        SectionSpec(
            section.name,
            [
                SeatSpec(s.row_label, s.number, round(s.x + dx, 1), round(s.y + dy, 1),
                         s.is_wheelchair, s.is_companion, s.is_restricted_view)
                for s in section.seats
            ],
            places=section.places,
            shape=None if section.shape is None else [[x + dx, y + dy] for x, y in section.shape],
        )
        for section in sections
    ]
    width = max(xs) - min(xs) + 2 * margin
    height = max(ys) - min(ys) + 2 * margin
    return shifted, dx, dy, round(width, 1), round(height, 1)


def theater(*, orchestra_rows: int = 14, mezzanine_rows: int = 8, balcony_rows: int = 8,
            seats_per_row: int = 34, row_growth: int = 2, wheelchair_spaces: int = 4) -> VenueLayout:
    """Curved rows facing a stage: orchestra, then mezzanine, then balcony further back.

    Each row is an arc around the stage centre; rows further back get `row_growth` more seats.
    The outermost orchestra row ends hold wheelchair spaces with a companion seat beside each.
    """
    if min(orchestra_rows, mezzanine_rows, balcony_rows) < 1 or seats_per_row < 2:
        raise ValueError("A theater needs at least one row per level and two seats per row.")
    levels = [("Orchestra", orchestra_rows, 60.0), ("Mezzanine", mezzanine_rows, 40.0), ("Balcony", balcony_rows, 40.0)]
    radius = 120.0
    sections = []
    for level_index, (name, rows, gap_before) in enumerate(levels):
        radius += gap_before if level_index else 0
        section = SectionSpec(name)
        labels = row_labels(rows)
        for row_index, label in enumerate(labels):
            count = seats_per_row + row_growth * row_index + (level_index * row_growth * 2)
            # Seats 11 units apart along the arc, centred on the stage axis.
            spread = (count - 1) * 11.0 / radius
            for seat_index in range(count):
                angle = -spread / 2 + spread * seat_index / max(count - 1, 1)
                x = radius * math.sin(angle)
                y = radius * math.cos(angle)
                is_end = seat_index in (0, count - 1)
                # Wheelchair spaces alternate with companion seats at the start of the last orchestra row.
                is_access_row = name == "Orchestra" and row_index == rows - 1 and seat_index < wheelchair_spaces * 2
                is_wheelchair = is_access_row and seat_index % 2 == 0
                is_companion = is_access_row and seat_index % 2 == 1
                restricted = name == "Balcony" and is_end
                section.seats.append(SeatSpec(label, seat_index + 1, x, y, is_wheelchair, is_companion, restricted))
            radius += 12.0
        sections.append(section)
    sections, dx, dy, width, height = _normalise(sections)
    stage_half = 90
    map_meta = {
        "width": width, "height": height + 0,
        "stage": {"shape": "rect", "label": "Stage", "x": round(dx - stage_half, 1), "y": round(dy + 20, 1),
                  "width": stage_half * 2, "height": 50},
    }
    # The stage sits at the arc centre, which is above the first row; grow the canvas to include it.
    map_meta = _include_stage(sections, map_meta)
    return VenueLayout(sections, map_meta)


def _include_stage(sections: list[SectionSpec], map_meta: dict) -> dict:
    stage = map_meta["stage"]
    top = min(stage["y"], min(seat.y for section in sections for seat in section.seats)) - 20
    if top < 0:
        shift = -top
        for section in sections:
            section.seats = [SeatSpec(s.row_label, s.number, s.x, round(s.y + shift, 1), s.is_wheelchair,
                                      s.is_companion, s.is_restricted_view) for s in section.seats]
        stage["y"] = round(stage["y"] + shift, 1)
        map_meta["height"] = round(map_meta["height"] + shift, 1)
    return map_meta


def stadium(*, sections_per_side: int = 10, end_sections: int = 5, rows_per_section: int = 50,
            seats_per_row: int = 25, field_width: float = 1050, field_height: float = 680,
            standing_places: int = 0) -> VenueLayout:
    """Rectangular blocks of seats around a field: two long sides and two ends.

    Defaults give 30 sections × 50 rows × 25 seats + … ≈ 37,500 + end sections; with the
    seed's parameters about 50,000 seats. `standing_places` > 0 adds a general-admission
    "Standing floor" on the middle of the field (a concert's pitch), sold by quantity.
    """
    if sections_per_side < 1 or end_sections < 1 or rows_per_section < 1 or seats_per_row < 1:
        raise ValueError("A stadium needs at least one section per side, one row and one seat per row.")
    pitch, row_step, gap, setback = 10.0, 10.0, 16.0, 30.0
    block_w = seats_per_row * pitch
    sections: list[SectionSpec] = []
    labels = row_labels(rows_per_section)

    def block(name: str, origin_x: float, origin_y: float, direction: str) -> SectionSpec:
        # direction: where the field is, seen from the section ("down", "up", "left", "right").
        section = SectionSpec(name)
        for row_index, label in enumerate(labels):
            depth = row_index * row_step  # row A is nearest the field
            for seat_index in range(seats_per_row):
                along = seat_index * pitch
                if direction == "down":
                    x, y = origin_x + along, origin_y - depth
                elif direction == "up":
                    x, y = origin_x + along, origin_y + depth
                elif direction == "right":
                    x, y = origin_x - depth, origin_y + along
                else:
                    x, y = origin_x + depth, origin_y + along
                section.seats.append(SeatSpec(label, seat_index + 1, x, y))
        return section

    side_total = sections_per_side * block_w + (sections_per_side - 1) * gap
    end_total = end_sections * block_w + (end_sections - 1) * gap
    # The stands must not overlap at the corners: the field is at least as long as a long side and as
    # wide as an end stand (the demo's 12 × 8 sections would otherwise draw ends over the sides).
    field_width = max(field_width, side_total)
    field_height = max(field_height, end_total)
    start_x = (field_width - side_total) / 2
    number = 100
    for i in range(sections_per_side):  # north stand, field below it
        number += 1
        sections.append(block(f"{number}", start_x + i * (block_w + gap), -setback, "down"))
    start_y = (field_height - end_total) / 2
    number = 200
    for i in range(end_sections):  # east stand
        number += 1
        sections.append(block(f"{number}", field_width + setback, start_y + i * (block_w + gap), "left"))
    number = 300
    for i in range(sections_per_side):  # south stand
        number += 1
        sections.append(block(f"{number}", start_x + (sections_per_side - 1 - i) * (block_w + gap),
                              field_height + setback, "up"))
    number = 400
    for i in range(end_sections):  # west stand
        number += 1
        sections.append(block(f"{number}", -setback, start_y + (end_sections - 1 - i) * (block_w + gap), "right"))
    if standing_places > 0:  # the standing floor: the middle of the field, clear of the stands
        left, top = field_width * 0.2, field_height * 0.2
        right, bottom = field_width * 0.8, field_height * 0.8
        sections.append(SectionSpec("Standing floor", places=standing_places,
                                    shape=[[left, top], [right, top], [right, bottom], [left, bottom]]))
    # Wheelchair platforms: the front row ends of every long-side section.
    for section in sections[:sections_per_side]:
        section.seats = [
            SeatSpec(s.row_label, s.number, s.x, s.y, s.row_label == "A" and s.number == 1,
                     s.row_label == "A" and s.number == 2)
            for s in section.seats
        ]
    sections, dx, dy, width, height = _normalise(sections)
    map_meta = {
        "width": width, "height": height,
        "stage": {"shape": "field", "label": "Field", "x": round(dx, 1), "y": round(dy, 1),
                  "width": field_width, "height": field_height},
    }
    return VenueLayout(sections, map_meta)


def conference(*, rows: int = 20, seats_per_block: int = 8, blocks: int = 3) -> VenueLayout:
    """Flat straight rows split by aisles into blocks (Left / Center / Right …), facing a stage."""
    if rows < 1 or seats_per_block < 1 or blocks < 1:
        raise ValueError("A conference hall needs at least one row, one block and one seat per block.")
    names = {1: ["Center"], 2: ["Left", "Right"], 3: ["Left", "Center", "Right"]}.get(
        blocks, [f"Block {i + 1}" for i in range(blocks)])
    pitch, row_step, aisle = 10.0, 12.0, 24.0
    labels = row_labels(rows)
    sections = []
    for block_index, name in enumerate(names):
        section = SectionSpec(name)
        origin_x = block_index * (seats_per_block * pitch + aisle)
        for row_index, label in enumerate(labels):
            for seat_index in range(seats_per_block):
                first_row = row_index == 0
                section.seats.append(SeatSpec(
                    label, seat_index + 1, origin_x + seat_index * pitch, 80 + row_index * row_step,
                    is_wheelchair=first_row and seat_index == 0 and block_index == 0,
                    is_companion=first_row and seat_index == 1 and block_index == 0,
                ))
        sections.append(section)
    sections, dx, dy, width, height = _normalise(sections)
    stage_w = width - 80
    map_meta = {
        "width": width, "height": height,
        "stage": {"shape": "rect", "label": "Stage", "x": 40, "y": 4, "width": round(stage_w, 1), "height": 26},
    }
    return VenueLayout(sections, _include_stage(sections, map_meta))


def club(*, floor_places: int = 800, front_places: int = 200, balcony_places: int = 150) -> VenueLayout:
    """A club or festival ground: general admission only (issue 15) — no seats, areas sold by quantity.

    A front-of-stage pit, the main floor behind it and a balcony at the back; an area with 0 places
    is left out. Events here need no seat map: buyers pick a quantity per area.
    """
    if floor_places < 1 or front_places < 0 or balcony_places < 0:
        raise ValueError("A club needs a main floor with at least one place; other areas may have none.")
    width = 600.0
    areas = [("Front of stage", front_places, 60.0, 90.0), ("Main floor", floor_places, 160.0, 220.0),
             ("Balcony", balcony_places, 400.0, 80.0)]
    sections = [SectionSpec(name, places=places, shape=[[40, top], [40 + width, top], [40 + width, top + height],
                                                        [40, top + height]])
                for name, places, top, height in areas if places > 0]
    map_meta = {
        "width": width + 80, "height": 520.0,
        "stage": {"shape": "rect", "label": "Stage", "x": 40, "y": 10, "width": width, "height": 40},
    }
    return VenueLayout(sections, map_meta)


TEMPLATES = {"theater": theater, "stadium": stadium, "conference": conference, "club": club}
