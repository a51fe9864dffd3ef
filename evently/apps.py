from django.apps import AppConfig


class EventlyConfig(AppConfig):
    """Shared infrastructure as an app, for the one model it owns (the fake payment ledger)."""

    name = "evently"
    verbose_name = "Evently"

    def ready(self):
        from evently import checks  # noqa: F401  (registers the deployment checks)
