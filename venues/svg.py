"""Server-rendered SVG of a seat layout: the preview in the admin, before anything is saved.

Pure functions over generator output (`VenueLayout`) or plain seat tuples; they return markup
that Django templates mark safe. Large layouts are drawn as section outlines with seat counts,
so a 50,000-seat stadium preview stays a few kilobytes.
"""

from __future__ import annotations

from html import escape

from venues.generators import VenueLayout

SEAT_DETAIL_LIMIT = 6000  # above this, draw sections rather than seats


def _stage(map_meta: dict) -> str:
    stage = map_meta.get("stage")
    if not stage:
        return ""
    fill = "#bbf7d0" if stage.get("shape") == "field" else "#e5e7eb"
    cx, cy = stage["x"] + stage["width"] / 2, stage["y"] + stage["height"] / 2
    return (f'<rect x="{stage["x"]}" y="{stage["y"]}" width="{stage["width"]}" height="{stage["height"]}" '
            f'rx="6" fill="{fill}" stroke="#9ca3af"/>'
            f'<text x="{cx:.1f}" y="{cy:.1f}" text-anchor="middle" dominant-baseline="middle" '
            f'font-size="{max(10, min(stage["height"] / 3, 60)):.0f}" fill="#374151">'
            f'{escape(stage.get("label", ""))}</text>')


def layout_svg(layout: VenueLayout, *, title: str = "Seat map preview") -> str:
    """The whole layout: seats as dots (wheelchair spaces blue, companion seats teal,
    restricted view amber), or section outlines with counts for very large venues."""
    meta = layout.map_meta
    width, height = meta.get("width", 400), meta.get("height", 300)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" class="seatmap-preview" '
             f'role="img" aria-label="{escape(title)}"><title>{escape(title)}</title>', _stage(meta)]
    detailed = layout.capacity <= SEAT_DETAIL_LIMIT
    for section in layout.sections:
        (left, top), _, (right, bottom), _ = section.outline
        if detailed:
            parts.append(f'<g class="section"><title>{escape(section.name)}: {len(section.seats)} seats</title>')
            for seat in section.seats:
                fill = ("#2563eb" if seat.is_wheelchair else "#0d9488" if seat.is_companion
                        else "#d97706" if seat.is_restricted_view else "#6b7280")
                parts.append(f'<circle cx="{seat.x}" cy="{seat.y}" r="4" fill="{fill}"/>')
            parts.append("</g>")
        else:
            size = max(8.0, min(right - left, bottom - top) / 4)
            parts.append(
                f'<g class="section"><rect x="{left}" y="{top}" width="{right - left:.1f}" height="{bottom - top:.1f}" '
                f'fill="#c7d2fe" stroke="#4f46e5"/><text x="{(left + right) / 2:.1f}" y="{(top + bottom) / 2:.1f}" '
                f'text-anchor="middle" dominant-baseline="middle" font-size="{size:.0f}" fill="#1e1b4b">'
                f'{escape(section.name)} · {len(section.seats)}</text></g>'
            )
    parts.append("</svg>")
    return "".join(parts)
