"""Best available: N adjacent seats in one row, the best first, held all-or-nothing.

The hold itself is `seat_hold` (one conditional UPDATE, all-or-nothing, prices fixed, limits
checked, published after commit), so a best-available hold is exactly a manual hold of the seats
this module picked. Picking reads the free seats once (no locks); if another buyer takes one of
the picked seats first, the hold fails as a whole and the next-best block is tried.

**The score** of a block is the distance, in map units, from the middle of the block to the
centre of the stage (or field) in `venue.map_meta` — the canvas centre when a venue has none:
closest to the action and centred first. Ties go to the earlier section, row and seat number.

Which seats are candidates: free seats (the free-seat rule of `ticketing.seat_state`) that are not
wheelchair spaces or companion seats (those are picked on purpose, on the map), optionally of one
category, one section, or categories whose price selling now is at most `max_price`. Adjacent means
consecutive seat numbers in one row of one section, no farther apart on the map than 1.6 times the
row's closest pair (an aisle between two numbers breaks a block). With the event's single-seat rule
on, a block that would leave one free seat alone between taken seats is not offered.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal

from django.db import connection

from events.models import Event, SeatCategory
from ticketing.exceptions import NoAdjacentSeats, SeatsUnavailable
from ticketing.seat_state import free_seat_sql
from ticketing.services.limits import order_limit_check
from ticketing.services.pricing import categories_current_price
from ticketing.services.seats import Hold, event_selling, seat_hold, seat_release

# How many blocks to try when others take the best ones first (each try is one hold statement).
BEST_HOLD_ATTEMPTS = 5
ADJACENT_GAP_FACTOR = 1.6

SEATS_SQL = f"""
SELECT es.id, s.section_id, s.row_label, s.number, s.x, s.y, es.category_id,
       {free_seat_sql("es")} AS is_free, (s.is_wheelchair OR s.is_companion) AS is_special
  FROM ticketing_eventseat es JOIN venues_seat s ON s.id = es.seat_id
 WHERE es.event_id = %(event_id)s AND (%(section_id)s::bigint IS NULL OR s.section_id = %(section_id)s)
 ORDER BY s.section_id, s.row_label, s.number
"""


@dataclass(frozen=True)
class Block:
    seat_ids: tuple[int, ...]
    score: float
    order: tuple


def seats_best_hold(*, event_id: int, quantity: int, owner: str, category: int | str | None = None,
                    max_price: Decimal | None = None, section_id: int | None = None) -> Hold:
    """Hold the best `quantity` adjacent seats in one row for `owner`, all of them or none.

    Raises NoAdjacentSeats (409, with `largest_block`: the most seats together that the filters
    allow now) when no row has that many together, OrderLimitExceeded, SaleNotActive, EventNotFound.
    """
    event = event_selling(event_id)
    order_limit_check(event=event, seats=quantity)
    category_ids = _categories_allowed(event_id, category=category, max_price=max_price)
    rows = _rows(event_id, section_id=section_id)
    single_seat_rule, map_meta = Event.objects.filter(pk=event_id).values_list(
        "single_seat_rule", "venue__map_meta").get()
    blocks, largest = _blocks(rows, quantity=quantity, category_ids=category_ids,
                              focus=_focus(map_meta or {}), single_seat_rule=single_seat_rule)
    taken: set[int] = set()
    for block in blocks[:BEST_HOLD_ATTEMPTS * 4]:
        if taken.intersection(block.seat_ids):
            continue
        try:
            hold = seat_hold(event_id=event_id, seat_ids=list(block.seat_ids), owner=owner)
        except SeatsUnavailable as error:  # someone was faster: nothing was held, try the next block
            taken.update(error.extra.get("seat_ids", block.seat_ids))
            continue
        if max_price is not None and any(price > max_price for price in hold.prices.values()):
            # A tier ran out between reading and holding: the seats now cost more than allowed.
            seat_release(event_id=event_id, seat_ids=hold.seat_ids, owner=owner)
            continue
        return hold
    raise NoAdjacentSeats(
        f"No row has {quantity} seats together right now"
        + (f"; the most together is {largest}." if largest else "; nothing matches these filters."),
        quantity=quantity, largest_block=largest,
    )


def _categories_allowed(event_id: int, *, category, max_price) -> set[int] | None:
    if category is None and max_price is None:
        return None
    categories = list(SeatCategory.objects.filter(event_id=event_id))
    if category is not None:
        categories = [c for c in categories if c.pk == category or (isinstance(category, str)
                                                                     and c.name.lower() == category.strip().lower())]
    if max_price is not None:
        current = categories_current_price(categories)
        categories = [c for c in categories if current[c.pk]["price"] <= max_price]
    return {c.pk for c in categories}


def _focus(meta: dict) -> tuple[float, float]:
    stage = meta.get("stage")
    if stage and {"x", "y", "width", "height"} <= stage.keys():
        return stage["x"] + stage["width"] / 2, stage["y"] + stage["height"] / 2
    return meta.get("width", 0) / 2, meta.get("height", 0) / 2


def _rows(event_id: int, *, section_id: int | None) -> list[list[tuple]]:
    with connection.cursor() as cursor:
        cursor.execute(SEATS_SQL, {"event_id": event_id, "section_id": section_id})
        rows: list[list[tuple]] = []
        key = None
        for seat in cursor.fetchall():
            if (seat[1], seat[2]) != key:
                key = (seat[1], seat[2])
                rows.append([])
            rows[-1].append(seat)
    return rows


def _runs(row: list[tuple], category_ids: set[int] | None) -> list[tuple[list[tuple], bool, bool]]:
    """The row's runs of adjacent candidate seats, each with whether a taken seat closes it on the left/right."""
    gaps = [math.dist(a[4:6], b[4:6]) for a, b in zip(row, row[1:], strict=False) if b[3] == a[3] + 1]
    pitch = min(gaps) if gaps else 0

    def next_to(a, b) -> bool:
        return b[3] == a[3] + 1 and math.dist(a[4:6], b[4:6]) <= pitch * ADJACENT_GAP_FACTOR + 1e-6

    def is_candidate(seat) -> bool:
        return seat[7] and not seat[8] and (category_ids is None or seat[6] in category_ids)

    def is_taken(seat) -> bool:  # wheelchair/companion spaces and filtered-out free seats are not "taken"
        return not seat[7]

    runs = []
    index = 0
    while index < len(row):
        if not is_candidate(row[index]):
            index += 1
            continue
        start = index
        while index + 1 < len(row) and is_candidate(row[index + 1]) and next_to(row[index], row[index + 1]):
            index += 1
        left = start > 0 and next_to(row[start - 1], row[start]) and is_taken(row[start - 1])
        right = index + 1 < len(row) and next_to(row[index], row[index + 1]) and is_taken(row[index + 1])
        runs.append((row[start:index + 1], left, right))
        index += 1
    return runs


def _blocks(rows, *, quantity: int, category_ids, focus, single_seat_rule: bool) -> tuple[list[Block], int]:
    """Every block of `quantity` adjacent candidate seats, best first, and the longest run seen."""
    blocks: list[Block] = []
    largest = 0
    for row_index, row in enumerate(rows):
        for run, closed_left, closed_right in _runs(row, category_ids):
            largest = max(largest, len(run))
            for start in range(len(run) - quantity + 1):
                left_over, right_over = start, len(run) - start - quantity
                # The single-seat rule: never leave one free seat alone against a taken seat.
                if single_seat_rule and ((left_over == 1 and closed_left) or (right_over == 1 and closed_right)):
                    continue
                seats = run[start:start + quantity]
                centre = (sum(s[4] for s in seats) / quantity, sum(s[5] for s in seats) / quantity)
                blocks.append(Block(tuple(s[0] for s in seats), math.dist(centre, focus),
                                    (row_index, seats[0][3])))
    blocks.sort(key=lambda block: (round(block.score, 6), block.order))
    return blocks, largest
