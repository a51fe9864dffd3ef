from django.apps import AppConfig


class TicketingConfig(AppConfig):
    name = "ticketing"

    def ready(self):
        # Lower layers ask ticketing about seats through providers registered here (docs/architecture.md).
        from ticketing.providers import providers_register

        providers_register()
