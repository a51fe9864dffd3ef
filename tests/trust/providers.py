"""Payment providers for tests that need one other than the fake: they stand in for the outside
provider (never for our database, cache or channel layer)."""

from __future__ import annotations

from evently.payments import FakePaymentProvider


class CardProvider:
    """A provider that is not the demo one: nothing but its type matters to the tests using it."""

    def charge(self, *, amount, currency, token, idempotency_key):  # pragma: no cover - never called
        raise NotImplementedError

    def status(self, *, idempotency_key):  # pragma: no cover
        raise NotImplementedError

    def refund(self, *, idempotency_key, amount, refund_key):  # pragma: no cover
        raise NotImplementedError


class BrokenRefundProvider(FakePaymentProvider):
    """The fake provider, except that refunds of keys in BROKEN_KEYS fail with an unexpected error."""

    BROKEN_KEYS: set[str] = set()

    def refund(self, *, idempotency_key, amount, refund_key):
        if idempotency_key in self.BROKEN_KEYS:
            raise RuntimeError("provider bug: unexpected response")
        return super().refund(idempotency_key=idempotency_key, amount=amount, refund_key=refund_key)
