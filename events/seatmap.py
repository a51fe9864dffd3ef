"""What the event page draws: every seat for small venues, a section overview for large ones.

Pure shaping of selector output for the template; the same rules live in static/js/seatmap.js,
which redraws seats when their status changes (keep the two tables in step).
"""

from __future__ import annotations

from decimal import Decimal
from html import escape

from django.conf import settings
from django.utils.safestring import mark_safe

# Above this many seats the page first draws sections only and loads a section's seats on zoom:
# a 50,000-seat stadium as 100,000 SVG nodes takes seconds to paint on a phone (docs/performance.md).
FULL_MAP_MAX_SEATS = 5000

CURRENCY_SYMBOLS = {"EUR": "€", "USD": "$", "GBP": "£"}

STATUS_WORDS = {
    "available": "available",
    "mine": "selected by you",
    "held": "held by another buyer",
    "sold": "sold",
    "blocked": "not for sale",
}

# A mark drawn over the seat so that status never depends on colour alone.
STATUS_MARKS = {
    "available": "",
    "mine": "M-2.4 0.2L-0.7 2L2.6-1.9",
    "held": "M-2.6 0H2.6",
    "sold": "M-2.2-2.2L2.2 2.2M2.2-2.2L-2.2 2.2",
    "blocked": "M-2.6 2.6L2.6-2.6",
}

ACCESSIBILITY_WORDS = {"wheelchair": "wheelchair space", "companion": "companion seat",
                       "restricted_view": "restricted view"}


def money(amount) -> str:
    """€45 for whole amounts, €45.50 otherwise."""
    value = Decimal(str(amount))
    text = f"{value:,.0f}" if value == value.to_integral_value() else f"{value:,.2f}"
    return f"{CURRENCY_SYMBOLS.get(settings.CURRENCY, settings.CURRENCY + ' ')}{text}"


def seat_base_label(section: str, row: str, number: int, price, accessibility=()) -> str:
    parts = [section, f"row {row}", f"seat {number}", money(price)]
    parts += [ACCESSIBILITY_WORDS[flag] for flag in accessibility if flag in ACCESSIBILITY_WORDS]
    return ", ".join(parts)


def full_map(layout: dict) -> dict:
    """Sections → rows → seats, each seat ready to draw: position, colour, status class, mark, name."""
    colours = {category["id"]: category["colour"] for category in layout["categories"]}
    mine = set(layout["my_holds"])
    sections = []
    available = total = 0
    for section in layout["sections"]:
        rows = []
        for row in section["rows"]:
            seats = []
            for seat in row["seats"]:
                status = "mine" if seat["id"] in mine else seat["status"]
                total += status != "blocked"
                available += status == "available"
                access = seat.get("accessibility", ())
                base = seat_base_label(section["name"], row["label"], seat["number"], seat["price"], access)
                seats.append({
                    "id": seat["id"], "x": seat["x"], "y": seat["y"], "status": status,
                    "colour": colours[seat["category"]], "category": seat["category"], "price": seat["price"],
                    "name": f"{section['name']}, row {row['label']}, seat {seat['number']}",
                    "label": base, "aria": f"{base}, {STATUS_WORDS[status]}", "mark": STATUS_MARKS[status],
                    "is_wheelchair": "wheelchair" in access, "until": seat.get("held_until", ""),
                })
            points = [(seat["x"], seat["y"]) for seat in row["seats"]]
            rows.append({"label": row["label"], "ends": row_label_ends(points), "seats": seats,
                         "seats_svg": mark_safe("".join(seat_svg(seat) for seat in seats))})
        xs = [point[0] for point in section["outline"]] or [0]
        ys = [point[1] for point in section["outline"]] or [0]
        sections.append({"id": section["id"], "name": section["name"], "rows": rows,
                         "label_x": round((min(xs) + max(xs)) / 2, 1), "label_y": round(max(ys) + 10, 1)})
    return {"sections": sections, "available": available, "total": total}


# Map units from a row's end seat to its label, along the row (static/js/seatmap.js rowLabelEnds).
ROW_LABEL_GAP = 9


def row_label_ends(points: list[tuple[float, float]]) -> list[dict]:
    """Where a row's two labels go: just beyond its first and its last seat, continuing the row's line.

    Rows run any way (a theater's arcs end almost vertical, a stadium's end stands run top to bottom), so
    each label steps ROW_LABEL_GAP out along the row and is anchored on the side facing its seat.
    """
    def step(origin, towards):
        dx, dy = origin[0] - towards[0], origin[1] - towards[1]
        length = (dx * dx + dy * dy) ** 0.5
        dx, dy = (dx / length, dy / length) if length else (-1.0, 0.0)
        anchor = "end" if dx < -0.7 else "start" if dx > 0.7 else "middle"
        return {"x": round(origin[0] + dx * ROW_LABEL_GAP, 1), "y": round(origin[1] + dy * ROW_LABEL_GAP, 1),
                "anchor": anchor}

    first, last = points[0], points[-1]
    if len(points) == 1:
        return [step(first, (first[0] + 1, first[1])), step(first, (first[0] - 1, first[1]))]
    return [step(first, points[1]), step(last, points[-2])]


def overview_map(summaries: list[dict]) -> dict:
    """Sections as polygons coloured by how many seats are left, with a text label as the second signal."""
    sections = []
    available = total = 0
    for summary in summaries:
        outline = summary["outline"]
        if not outline:
            continue
        available += summary["available"]
        total += summary["seats"]
        xs = [point[0] for point in outline]
        ys = [point[1] for point in outline]
        prices = price_range(summary["price_min"], summary["price_max"])
        sections.append({
            **summary, "availability": availability_class(summary["available"], summary["seats"]),
            "available_text": f"{summary['available']:,}",
            "points": " ".join(f"{x},{y}" for x, y in outline), "prices": prices,
            "centre_x": round((min(xs) + max(xs)) / 2, 1), "centre_y": round((min(ys) + max(ys)) / 2, 1),
            "aria": f"Section {summary['name']}: {summary['available']:,} of {summary['seats']:,} seats available, "
                    f"{prices}",
        })
    return {"sections": sections, "available": available, "total": total}


def price_range(price_min, price_max) -> str:
    if price_min is None:
        return "no seats for sale"
    if price_min == price_max:
        return money(price_min)
    return f"{money(price_min)}–{money(price_max)}"


def availability_class(available: int, seats: int) -> str:
    """many / some / few / none — matched by colours and a pattern in static/css/seatmap.css."""
    if available <= 0 or seats <= 0:
        return "none"
    share = available / seats
    return "many" if share >= 0.5 else "some" if share >= 0.15 else "few"


def seat_svg(seat: dict) -> str:
    """One seat as SVG markup (the same as seatMarkup in static/js/seatmap.js); every text is escaped.

    Built with f-strings rather than a template loop: a 1,000-seat map renders ~10× faster.
    """
    status = seat["status"]
    fill = escape(seat["colour"])
    shape = (f'<rect x="-4.5" y="-4.5" width="9" height="9" rx="1.5" fill="{fill}"></rect>' if seat["is_wheelchair"]
             else f'<circle r="4.5" fill="{fill}"></circle>')
    disabled = "" if status in ("mine", "available") else ' aria-disabled="true"'
    until = f' data-until="{escape(seat["until"])}"' if seat["until"] else ""
    pressed = "true" if status == "mine" else "false"
    return (
        f'<g class="seat is-{status}" data-id="{int(seat["id"])}" data-cat="{int(seat["category"])}" '
        f'data-name="{escape(seat["name"])}" data-status="{status}"{until} '
        f'transform="translate({float(seat["x"])} {float(seat["y"])})" role="button" tabindex="-1" '
        f'aria-pressed="{pressed}"{disabled} aria-label="{escape(seat["aria"])}">'
        f'{shape}<path d="{seat["mark"]}"></path></g>'
    )
