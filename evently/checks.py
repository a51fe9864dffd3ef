"""System checks of the deployment (run by `migrate`, `check --deploy` and every server start)."""

from django.conf import settings
from django.core import checks
from django.utils.module_loading import import_string

from evently.payments import FakePaymentProvider, payment_provider_path


@checks.register(checks.Tags.security)
def payment_provider_check(app_configs, **kwargs):
    """Outside local runs the fake provider (which takes any card) is an error: migrate and
    `check --deploy` stop on it before a single ticket is given away."""
    if settings.LOCAL:
        return []
    try:
        provider = import_string(payment_provider_path())
    except ImportError as error:
        return [checks.Error(f"PAYMENT_PROVIDER {settings.PAYMENT_PROVIDER!r} cannot be imported: {error}",
                             id="evently.E001")]
    if isinstance(provider, type) and issubclass(provider, FakePaymentProvider):
        return [checks.Error("PAYMENT_PROVIDER is the fake provider, which accepts any card.",
                             hint="Set PAYMENT_PROVIDER to a real provider's class.", id="evently.E002")]
    return []
