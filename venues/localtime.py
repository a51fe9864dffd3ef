"""Times in a venue's time zone: the one home of "what does the clock on the venue's wall say".

Everything an organizer, a buyer or the door staff read or type about an event happens where the
venue is, so every date and time they see is the venue's local time, labelled with its zone
("2030-12-01 20:00 CET"), and every time they type is read in that zone. The database keeps UTC.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from django.utils import timezone

DEFAULT_FORMAT = "%Y-%m-%d %H:%M"


def zone_of(venue_or_name) -> ZoneInfo:
    """The venue's zone (a Venue, a zone name or None); an unknown or empty name falls back to UTC
    rather than failing a page: the venue form refuses such names (`zone_name_validate`)."""
    name = getattr(venue_or_name, "timezone", venue_or_name)
    try:
        return ZoneInfo(name) if name else ZoneInfo("UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def zone_abbreviation(moment: datetime, zone: ZoneInfo) -> str:
    """"CET", "CEST", "EST"; the zone's name where it has no letters of its own ("+04")."""
    short = moment.astimezone(zone).tzname() or ""
    return short if short.isalpha() else zone.key


def venue_local(moment: datetime | None, venue_or_name) -> datetime | None:
    """`moment` on the venue's clock (aware, in the venue's zone)."""
    if moment is None:
        return None
    return moment.astimezone(zone_of(venue_or_name))


def venue_time_label(moment: datetime | None, venue_or_name, fmt: str = DEFAULT_FORMAT, *,
                     empty: str = "—") -> str:
    """`moment` as the venue's wall clock shows it, with the zone: "2030-12-01 20:00 CET"."""
    if moment is None:
        return empty
    zone = zone_of(venue_or_name)
    return f"{moment.astimezone(zone).strftime(fmt)} {zone_abbreviation(moment, zone)}"


def venue_time_at(venue_or_name, *args: int) -> datetime:
    """The aware moment when the venue's wall clock shows `args` (year, month, day, hour, minute);
    a time that a DST change skips or repeats is read as Python's `fold=0` reading of it."""
    return datetime(*args, tzinfo=zone_of(venue_or_name))


def zone_name_validate(name: str) -> str:
    """`name` if it is an IANA zone name ("Europe/Berlin"); ValueError otherwise."""
    if name not in available_zone_names():
        raise ValueError(f"“{name}” is not a time zone name such as Europe/Berlin.")
    return name


_ZONE_NAMES: frozenset[str] | None = None


def available_zone_names() -> frozenset[str]:
    global _ZONE_NAMES
    if _ZONE_NAMES is None:
        _ZONE_NAMES = frozenset(available_timezones())
    return _ZONE_NAMES


def zone_choices() -> list[tuple[str, str]]:
    """Every IANA zone, for a venue form's select (sorted, "UTC" included)."""
    return [(name, name.replace("_", " ")) for name in sorted(available_zone_names())]


class override_zone(timezone.override):
    """`timezone.override` for a venue (or a zone name, or None: leave the current zone)."""

    def __init__(self, venue_or_name):
        super().__init__(zone_of(venue_or_name) if venue_or_name else timezone.get_current_timezone())
