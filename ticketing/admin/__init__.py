"""Ticketing in the admin: bookings and the records services write (`records`), and ticketing's
screens on events (`events`: inventory, seat map and box office, reports, cancellation)."""

from ticketing.admin import events, records  # noqa: F401  (importing registers them)
