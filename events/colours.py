"""Seat category colours must not look like a seat status.

The seat map fills available seats with their category's colour and draws the other statuses in
fixed colours (static/css/seatmap.css): selected by you near-black with an amber ring, held light
grey, sold dark grey, not for sale very pale grey. A category in grey would read as "sold" or
"held" at a glance (the status mark is small on a phone), so greys, near-black and near-white are
refused, and so is anything close to a status colour.
"""

from __future__ import annotations

import colorsys
import re

# Keep in step with static/css/seatmap.css (.seat.is-*).
STATUS_COLOURS = {
    "selected by you": "#111827", "held by another buyer": "#d1d5db",
    "sold": "#4b5563", "not for sale": "#f3f4f6",
}
HEX_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")
MIN_SATURATION = 0.25  # below this a colour reads as grey
MIN_DISTANCE = 50  # RGB distance to a status colour (#123456, a dark navy, is fine)


def _rgb(colour: str) -> tuple[int, int, int]:
    return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)


def category_colour_problem(colour: str) -> str | None:
    """Why `colour` cannot be a seat category's colour, or None when it can."""
    if not HEX_COLOUR.match(colour or ""):
        return "Enter a colour as # and six hex digits, e.g. #2563eb."
    red, green, blue = _rgb(colour)
    _, lightness, saturation = colorsys.rgb_to_hls(red / 255, green / 255, blue / 255)
    for status, status_colour in STATUS_COLOURS.items():
        distance = sum((a - b) ** 2 for a, b in zip(_rgb(colour), _rgb(status_colour), strict=True)) ** 0.5
        if distance < MIN_DISTANCE:
            return f"{colour} looks like the colour of seats that are {status}: choose a clearly different colour."
    if saturation < MIN_SATURATION or lightness < 0.12 or lightness > 0.92:
        return (f"{colour} is a grey, near-black or near-white, which the seat map uses for held, sold and "
                "blocked seats: choose a clear colour.")
    return None
