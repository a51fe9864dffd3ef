from django.apps import AppConfig


class TicketingConfig(AppConfig):
    name = "ticketing"

    def ready(self):
        # Search boosts the categories a returning buyer booked; events cannot import ticketing, so we tell it.
        from events.personalization import affinity_source_register
        from ticketing.personalization import booked_categories

        affinity_source_register(booked_categories)
