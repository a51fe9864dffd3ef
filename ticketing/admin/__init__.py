"""Ticketing in the admin: bookings and the records services write (`records`), and ticketing's
screens on events (`events`: inventory, seat map and box office, reports, cancellation), and
managing an order from its booking (`orders`: cancel seats, resend tickets, holder names, history),
and discount codes (`vouchers`)."""

from ticketing.admin import events, orders, records, vouchers  # noqa: F401  (importing registers them)
