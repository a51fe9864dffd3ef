"""What ticketing tells the layers below it, registered once at startup (`TicketingConfig.ready`).

Events and venues may not import ticketing (docs/architecture.md), yet the event lifecycle needs
to know whether seats are left, the catalogue shows free seats and prices, and regenerating a
venue must not pull seats from under a sale. Each of those lower modules exposes a typed
registration function; ticketing plugs its answers in here.
"""

from __future__ import annotations

from events.selectors import sales_figures_register
from events.services import seat_inventory_register
from ticketing.catalogue import event_sales_figures
from ticketing.services.availability import SEAT_INVENTORY
from ticketing.services.inventory import venue_inventory_release
from venues.services import seat_dependents_register


def providers_register() -> None:
    seat_inventory_register(SEAT_INVENTORY)
    sales_figures_register(event_sales_figures)
    seat_dependents_register(venue_inventory_release)
