from django.apps import AppConfig


class TicketingConfig(AppConfig):
    name = "ticketing"

    def ready(self):
        from ticketing.seat_state import freed_seats_claimer_register
        from ticketing.services.areas import freed_places_claimer_register
        from ticketing.services.waitlist import waitlist_offer_freed, waitlist_offer_freed_places

        # Freed seats go to the people waiting before the public sees them (ticketing.seat_state).
        freed_seats_claimer_register(waitlist_offer_freed)
        # The same for general-admission places (ticketing.services.areas, issue 15).
        freed_places_claimer_register(waitlist_offer_freed_places)

        # Lower layers ask ticketing about seats through providers registered here (docs/architecture.md).
        from ticketing.providers import providers_register

        providers_register()
