"""What ticketing tells the layers below it, registered once at startup (`TicketingConfig.ready`).

Events and venues may not import ticketing (docs/architecture.md), yet the event lifecycle needs
to know whether seats are left, search prices need each quota tier's use, personalization needs
what a visitor booked, and regenerating a venue must not pull seats from under a sale. Each of
those lower modules exposes a typed registration function; ticketing plugs its answers in here.
"""

from __future__ import annotations

from events.personalization import affinity_source_register
from events.services import seat_inventory_register
from events.summary import tier_use_register
from ticketing.personalization import booked_categories
from ticketing.services.availability import SEAT_INVENTORY
from ticketing.services.inventory import venue_inventory_release
from ticketing.services.pricing import tier_seats_used
from venues.services import seat_dependents_register


def providers_register() -> None:
    seat_inventory_register(SEAT_INVENTORY)
    tier_use_register(tier_seats_used)
    affinity_source_register(booked_categories)
    seat_dependents_register(venue_inventory_release)
