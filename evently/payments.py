"""The payment provider interface, and a fake provider for tests and the demo.

Shared infrastructure: ticketing charges bookings and venues charge deposits through it. Every
call carries an idempotency key, so a retry after a timeout never charges twice. Callers talk
only to `get_payment_provider()`; a real provider (Stripe) plugs in through the PAYMENT_PROVIDER
setting without touching their code. The fake provider keeps its ledger in `evently.models`.

Fake provider tokens:
  tok_ok                  charged
  tok_declined            declined (nothing charged)
  tok_insufficient_funds  declined for insufficient funds (nothing charged)
  tok_timeout             the call times out before the provider saw it (nothing charged)
  tok_error_after_charge  charged, then the call errors: only `status()` tells the truth
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from typing import Protocol

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.utils.module_loading import import_string

from evently.models import PaymentAttempt
from evently.prepared import prepared_cursor

# Why the fake provider declines a token (what a real provider's decline code would say).
FAKE_DECLINES = {"tok_declined": "Card declined", "tok_insufficient_funds": "Insufficient funds"}


class PaymentError(Exception):
    """The outcome is unknown (timeout, network error): ask `status()` later."""


@dataclass(frozen=True)
class ChargeResult:
    succeeded: bool
    reference: str
    decline_reason: str = ""
    # What the provider actually charged; callers check both against what they asked for, so a
    # charge made for something else (another amount, another order) never pays for a booking.
    amount: Decimal | None = None
    currency: str = ""

    def matches(self, *, amount: Decimal, currency: str) -> bool:
        return self.amount is not None and Decimal(self.amount) == Decimal(amount) and self.currency == currency


class PaymentProvider(Protocol):
    def charge(self, *, amount: Decimal, currency: str, token: str, idempotency_key: str) -> ChargeResult: ...

    def status(self, *, idempotency_key: str) -> ChargeResult | None:
        """The charge made under this key, or None if the provider never saw it."""

    def refund(self, *, idempotency_key: str, amount: Decimal, refund_key: str) -> str:
        """Refund part or all of a charge; returns the refund reference. Same refund_key, same refund."""


class FakePaymentProvider:
    """Accepts any token but a few magic ones as paid: only for `make run`, `make test` and demos.

    Refuses to start outside local runs (EVENTLY_LOCAL), so a production deploy that forgot to
    configure a real provider fails loudly instead of giving tickets away.
    """

    is_demo = True
    # The browser side of the provider: turns the card form into a token (static/js/payments_fake.js).
    # A real provider names its own script, which mounts its hosted fields and returns its tokens.
    client_script = "js/payments_fake.js"

    # One statement per charge, committed without waiting for the disk: this ledger stands in for
    # a remote provider's. If a crash loses a charge, the booking's reconciliation finds no charge
    # and gives the seats up — nothing was taken from anyone (the paid booking's own commit
    # flushes this row first, so a sold booking never outlives its charge).
    # One statement, its own transaction (the set_config is local to it, so only this commit is relaxed).
    CHARGE_SQL = """
    WITH relaxed AS (SELECT set_config('synchronous_commit', 'off', true))
    INSERT INTO ticketing_paymentattempt (idempotency_key, amount, currency, token, status, reference,
                                          refunded_amount, refunds, created_at)
    SELECT %s, %s, %s, %s, %s, %s, 0, '{}', now() FROM relaxed
    ON CONFLICT (idempotency_key) DO NOTHING
    RETURNING status, reference
    """

    def __init__(self):
        if not settings.LOCAL:
            raise ImproperlyConfigured(
                "The fake payment provider accepts any card: it runs only in local runs and tests "
                "(EVENTLY_LOCAL=1). Set PAYMENT_PROVIDER to a real provider."
            )

    def charge(self, *, amount, currency, token, idempotency_key):
        if token == "tok_timeout":
            raise PaymentError("The payment provider did not answer in time.")
        status = "declined" if token in FAKE_DECLINES else "succeeded"
        with prepared_cursor() as cursor:
            cursor.execute(self.CHARGE_SQL, [idempotency_key, amount, currency, token, status,
                                             "pay_" + secrets.token_hex(8)])
            row = cursor.fetchone()
        if token == "tok_error_after_charge":
            raise PaymentError("The connection to the payment provider broke after the charge.")
        if row is None:  # this key was charged before: the same answer again
            return self.status(idempotency_key=idempotency_key)
        if row[0] == "succeeded":
            return ChargeResult(True, row[1], amount=amount, currency=currency)
        return ChargeResult(False, row[1], FAKE_DECLINES[token], amount=amount, currency=currency)

    def status(self, *, idempotency_key):
        attempt = PaymentAttempt.objects.filter(idempotency_key=idempotency_key).first()
        return self._result(attempt) if attempt else None

    def refund(self, *, idempotency_key, amount, refund_key):
        with transaction.atomic():
            attempt = PaymentAttempt.objects.select_for_update().filter(idempotency_key=idempotency_key).first()
            if attempt is None or attempt.status != "succeeded":
                raise PaymentError("There is no charge to refund under this key.")
            refunds = attempt.refunds
            if refund_key not in refunds:
                if attempt.refunded_amount + amount > attempt.amount:
                    raise PaymentError("Refund exceeds the charge.")
                refunds[refund_key] = {"amount": str(amount), "reference": "re_" + secrets.token_hex(8)}
                attempt.refunded_amount += amount
                attempt.save(update_fields=["refunds", "refunded_amount"])
        return refunds[refund_key]["reference"]

    @staticmethod
    def _result(attempt) -> ChargeResult:
        if attempt.status == "succeeded":
            return ChargeResult(True, attempt.reference, amount=attempt.amount, currency=attempt.currency)
        return ChargeResult(False, attempt.reference, FAKE_DECLINES.get(attempt.token, "Card declined"),
                            amount=attempt.amount, currency=attempt.currency)


# Paths settings or the environment may still name from before the provider moved here.
PROVIDER_ALIASES = {"ticketing.payments.FakePaymentProvider": "evently.payments.FakePaymentProvider"}


@lru_cache(maxsize=1)
def get_payment_provider() -> PaymentProvider:
    return import_string(payment_provider_path())()


def payment_provider_path() -> str:
    path = settings.PAYMENT_PROVIDER
    return PROVIDER_ALIASES.get(path, path)


def payment_provider_is_demo() -> bool:
    """True when the configured provider is the fake one: pages then show the demo card tokens."""
    return bool(getattr(import_string(payment_provider_path()), "is_demo", False))


def payment_client_script() -> str | None:
    """The static path of the configured provider's browser script (its hosted fields and tokenizer), if any.

    The checkout page loads it; it registers `window.eventlyPayments.tokenize(card)` (docs/buyer-ui.md).
    """
    return getattr(import_string(payment_provider_path()), "client_script", None)
