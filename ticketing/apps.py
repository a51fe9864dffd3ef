from django.apps import AppConfig
from django.core import checks


class TicketingConfig(AppConfig):
    name = "ticketing"

    def ready(self):
        from ticketing.seat_state import freed_seats_claimer_register
        from ticketing.services.waitlist import waitlist_offer_freed

        # Freed seats go to the people waiting before the public sees them (ticketing.seat_state).
        freed_seats_claimer_register(waitlist_offer_freed)


@checks.register(checks.Tags.security)
def payment_provider_check(app_configs, **kwargs):
    """Outside local runs the fake provider (which takes any card) is an error: migrate and
    `check --deploy` stop on it before a single ticket is given away."""
    from django.conf import settings
    from django.utils.module_loading import import_string

    from ticketing.payments import FakePaymentProvider

    if settings.LOCAL:
        return []
    try:
        provider = import_string(settings.PAYMENT_PROVIDER)
    except ImportError as error:
        return [checks.Error(f"PAYMENT_PROVIDER {settings.PAYMENT_PROVIDER!r} cannot be imported: {error}",
                             id="evently.E001")]
    if isinstance(provider, type) and issubclass(provider, FakePaymentProvider):
        return [checks.Error("PAYMENT_PROVIDER is the fake provider, which accepts any card.",
                             hint="Set PAYMENT_PROVIDER to a real provider's class.", id="evently.E002")]
    return []
