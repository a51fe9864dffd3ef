"""The abuse limits of buyers' requests (settings.RATE_LIMITS, docs/security.md), for views and the API.

Each helper is one Redis round trip (see evently.ratelimit); the hot paths (hold, confirm) make
exactly one. Views call them before the service; a limit reached raises RateLimited or
SeatCapReached (429 with Retry-After), which the API and the pages show like any DomainError.
"""

from __future__ import annotations

import contextlib

from evently.errors import DomainError
from evently.ratelimit import RateLimited, SeatCap, buckets, buckets_take, client_addresses, rate_limit
from ticketing.exceptions import PaymentDeclined


@contextlib.contextmanager
def hold_throttled(request, *, owner: str, event_id: int, seat_ids: list[int]):
    """Around a hold: the hold buckets and the per-IP seat cap, counted in one round trip; seats
    counted for a hold that then fails are uncounted again (a second round trip, on failure only)."""
    ip = client_addresses(request)[0]
    added = rate_limit("hold", request=request, session=owner,
                       seat_cap=SeatCap(event_id=event_id, ip=ip, owner=owner, mode="add",
                                        seat_ids=tuple(sorted(set(seat_ids)))))
    try:
        yield
    except DomainError:
        if added:
            buckets_take([], seat_cap=SeatCap(event_id=event_id, ip=ip, owner=owner, mode="drop",
                                               seat_ids=tuple(added)))
        raise


def seats_released(request, *, owner: str, event_id: int, seat_ids: list[int]) -> None:
    """Released seats no longer count against the IP's cap."""
    if seat_ids:
        buckets_take([], seat_cap=SeatCap(event_id=event_id, ip=client_addresses(request)[0], owner=owner,
                                          mode="drop", seat_ids=tuple(seat_ids)))


@contextlib.contextmanager
def confirm_throttled(request, *, owner: str, event_id: int):
    """Around a confirm: the confirm buckets, and no payment attempt at all once this buyer or IP had
    too many declined cards (checked, not taken: a decline takes one afterwards). The buyer's seats
    leave the IP's seat cap here, in the same round trip (they are being paid for)."""
    rate_limit("confirm", request=request, session=owner,
               also=buckets("payment_declined", request=request, session=owner, cost=0),
               seat_cap=SeatCap(event_id=event_id, ip=client_addresses(request)[0], owner=owner, mode="drop"))
    try:
        yield
    except PaymentDeclined:
        with contextlib.suppress(RateLimited):
            buckets_take(buckets("payment_declined", request=request, session=owner))
        raise


@contextlib.contextmanager
def best_hold_throttled(request, *, owner: str, event_id: int):
    """Around a best-available hold: the hold buckets first; the seats (known only once held) are then
    added to the per-IP seat cap. Yields a function the caller gives the held seat ids; if the cap
    refuses them, the caller releases the hold (SeatCapReached, 429)."""
    rate_limit("hold", request=request, session=owner)
    ip = client_addresses(request)[0]

    def seats_count(seat_ids: list[int]) -> None:
        buckets_take([], seat_cap=SeatCap(event_id=event_id, ip=ip, owner=owner, mode="add",
                                          seat_ids=tuple(sorted(seat_ids))))

    yield seats_count


def voucher_tried(request, *, owner: str) -> None:
    """A voucher code is about to be looked up (RateLimited, 429, once this buyer or network tried too many)."""
    rate_limit("voucher", request=request, session=owner)
