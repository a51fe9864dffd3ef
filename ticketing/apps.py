from django.apps import AppConfig


class TicketingConfig(AppConfig):
    name = "ticketing"

    def ready(self):
        from events.personalization import affinity_source_register
        from ticketing.personalization import booked_categories
        from ticketing.seat_state import freed_seats_claimer_register
        from ticketing.services.waitlist import waitlist_offer_freed

        # Freed seats go to the people waiting before the public sees them (ticketing.seat_state).
        freed_seats_claimer_register(waitlist_offer_freed)
        # Search boosts the categories a returning buyer booked; events cannot import ticketing, so we tell it.
        affinity_source_register(booked_categories)
