"""The waitlist: freed seats of a sold-out event go to the people waiting, first come first served.

How seats move:
- Whatever frees seats (a cancellation, an expired hold or order, a released hold) does it
  through `ticketing.seat_state.seats_free`, which calls `waitlist_offer_freed` in the same
  transaction, right after its UPDATE made them available. The first waiting entry whose party size fits (and whose seat
  category matches, if it named one) gets that many of the freed seats held for it —
  `hold_owner = "waitlist:<entry id>"`, for WAITLIST_OFFER_SECONDS — and an e-mail after commit.
  The rest go to the next entries; what nobody fits stays available (back on public sale).
  Because the offer is made in the freeing transaction, the public never sees those seats free.
- The e-mailed link binds the offer's hold to the buyer's session (`waitlist_claim`); checkout
  then is the ordinary `booking_confirm`.
- An unclaimed offer ends as an expired hold; `holds_expire` frees it, which offers the seats to
  the next entry (the expired entry is marked `expired` first, so it never gets them back).

Concurrency: offering runs under a per-event advisory lock taken after the seat rows are locked
(lock order: EventSeat → waitlist lock → WaitlistEntry), so two concurrent frees
offer one after the other, each seeing the other's offers; a seat is held for an entry only by a
conditional UPDATE from `available`, so no seat is ever offered to two entries.

Tolerated gap: between an offer's expiry and the next `holds_expire` sweep (a minute at most)
its seats count as available like any expired hold, so a quick public buyer may take them
instead of the next entry. No seat is double-sold or double-offered by this.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.utils import timezone

from evently.errors import InvalidInput
from events.models import Event, EventStatus, SeatCategory
from ticketing.exceptions import (
    EventNotFound,
    WaitlistClosed,
    WaitlistDuplicate,
    WaitlistEntryNotFound,
    WaitlistOfferNotAvailable,
    WaitlistSeatsAvailable,
)
from ticketing.models import WaitlistEntry, WaitlistStatus
from ticketing.seat_state import FREE_SEAT_SQL, LIVE_HOLD_SQL, STAMP_SQL, seats_changed, seats_free
from ticketing.services.areas import area_places_give_back, area_places_offer, areas_free_places
from ticketing.services.delivery import email_enqueue
from ticketing.services.pricing import seat_prices_fix
from ticketing.services.waitlist_links import (  # noqa: F401 - the waitlist's public API
    waitlist_claim_url,
    waitlist_confirm_key,
    waitlist_confirm_url,
    waitlist_entry_from_confirm_key,
    waitlist_entry_from_key,
    waitlist_entry_key,
    waitlist_entry_url,
)

HOLD_OWNER_PREFIX = "waitlist:"


# --- joining, leaving, position ------------------------------------------------------------------

def _event_lock(cursor, event_id: int) -> None:
    cursor.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", [f"waitlist:{event_id}"])


def _available_count(cursor, *, event_id: int, category_id: int | None) -> int:
    """Seats a buyer could hold right now (an expired hold counts as available, as in seat_hold)."""
    cursor.execute(
        "SELECT count(*) FROM ticketing_eventseat WHERE event_id = %s AND (%s::bigint IS NULL OR category_id = %s)"
        f"   AND {FREE_SEAT_SQL}",
        [event_id, category_id, category_id],
    )
    return cursor.fetchone()[0] + areas_free_places(cursor, event_id=event_id, category_id=category_id)


def waitlist_join(
    *, event_id: int, email: str, party_size: int, category_id: int | None = None, name: str = "",
) -> WaitlistEntry:
    """Ask to put `email` on the event's waitlist (or one category's) for `party_size` seats.

    Double opt-in: the entry is `pending` and an e-mail with a confirmation link goes to `email`;
    only `waitlist_confirm` (that link) puts it in line. So nothing is handed to whoever joins —
    a bot with addresses but no inboxes gets nowhere — and joining with someone else's address
    cannot block them: a pending entry blocks nobody. One confirmation e-mail per address and
    event per WAITLIST_CONFIRM_RESEND_SECONDS. Raises EventNotFound, WaitlistClosed, InvalidInput
    (party size or category), WaitlistSeatsAvailable (409: enough seats are free — book them).
    """
    event = _event_open_for_waitlist(event_id)
    if not 1 <= party_size <= event.max_seats_per_order:
        raise InvalidInput(f"Party size must be 1 to {event.max_seats_per_order}.", code="invalid_party_size")
    if category_id is not None and not SeatCategory.objects.filter(pk=category_id, event_id=event_id).exists():
        raise InvalidInput("This seat category does not belong to the event.", code="unknown_category")
    email = email.strip().lower()
    with transaction.atomic(), connection.cursor() as cursor:
        _event_lock(cursor, event_id)
        available = _available_count(cursor, event_id=event_id, category_id=category_id)
        if available >= party_size:
            raise WaitlistSeatsAvailable(available=available)
        recent = WaitlistEntry.objects.filter(
            event_id=event_id, email=email, status=WaitlistStatus.PENDING,
            created_at__gt=timezone.now() - timedelta(seconds=settings.WAITLIST_CONFIRM_RESEND_SECONDS),
        ).first()
        if recent is not None:
            # The address was just sent a link: no second e-mail to its inbox. The link it has
            # confirms the latest request (its page shows what it confirms).
            WaitlistEntry.objects.filter(pk=recent.pk).update(category_id=category_id, name=name.strip(),
                                                              party_size=party_size)
            recent.refresh_from_db()
            return recent
        entry = WaitlistEntry.objects.create(
            event=event, category_id=category_id, email=email, name=name.strip(), party_size=party_size,
            status=WaitlistStatus.PENDING,
        )
        email_enqueue(kind="waitlist-confirm", object_id=entry.pk, to=email)
    return entry


def _event_open_for_waitlist(event_id: int) -> Event:
    event = Event.objects.filter(pk=event_id).exclude(status=EventStatus.DRAFT).first()
    if event is None:
        raise EventNotFound()
    if event.status not in (EventStatus.ON_SALE, EventStatus.SOLD_OUT) or event.starts_at <= timezone.now():
        raise WaitlistClosed()
    return event


def waitlist_confirm(*, entry_id: int) -> WaitlistEntry:
    """The e-mailed link was opened: the pending entry joins the line (its place counts from now).

    If the address already waits for this event, that entry is the answer and this one is
    dropped. Confirming twice is a no-op. Raises WaitlistEntryNotFound, WaitlistClosed.
    """
    entry = WaitlistEntry.objects.filter(pk=entry_id).first()
    if entry is None:
        raise WaitlistEntryNotFound()
    if entry.status != WaitlistStatus.PENDING:
        return entry
    _event_open_for_waitlist(entry.event_id)
    with transaction.atomic(), connection.cursor() as cursor:
        # The waitlist lock, as a free takes it: a free sees either none or all of this entry.
        _event_lock(cursor, entry.event_id)
        entry = WaitlistEntry.objects.select_for_update().get(pk=entry_id)
        if entry.status != WaitlistStatus.PENDING:
            return entry
        existing = WaitlistEntry.objects.filter(
            event_id=entry.event_id, email=entry.email,
            status__in=[WaitlistStatus.WAITING, WaitlistStatus.OFFERED],
        ).first()
        if existing is not None:
            WaitlistEntry.objects.filter(pk=entry.pk).update(status=WaitlistStatus.LEFT)
            return existing
        try:
            with transaction.atomic():
                WaitlistEntry.objects.filter(pk=entry.pk).update(status=WaitlistStatus.WAITING,
                                                                 created_at=timezone.now())
        except IntegrityError:
            raise WaitlistDuplicate() from None
    entry.refresh_from_db()
    return entry


def waitlist_position(entry: WaitlistEntry) -> int | None:
    """1 for the first in line; None once the entry no longer waits."""
    if entry.status != WaitlistStatus.WAITING:
        return None
    ahead = WaitlistEntry.objects.filter(event_id=entry.event_id, status=WaitlistStatus.WAITING).filter(
        Q(created_at__lt=entry.created_at) | Q(created_at=entry.created_at, pk__lt=entry.pk)
    ).count()
    return ahead + 1


def waitlist_leave(*, entry_id: int) -> WaitlistEntry:
    """Leave the waitlist. Seats on offer to the entry go to the next in line at once. Idempotent."""
    with transaction.atomic(), connection.cursor() as cursor:
        event_id = WaitlistEntry.objects.filter(pk=entry_id).values_list("event_id", flat=True).first()
        if event_id is None:
            raise WaitlistEntryNotFound()
        # Lock order as in every free: seats, then the event's waitlist lock, then entries. The
        # freed seats go to the next in line (only `waiting` entries get offers, so never back to
        # this one, which is `offered`).
        seats_free(cursor, event_id=event_id,
                   where="hold_owner = %s AND status = 'held' AND booking_id IS NULL",
                   params=[f"{HOLD_OWNER_PREFIX}{entry_id}"])
        # General-admission places on offer (issue 15) go the same way.
        area_places_give_back(cursor, where="event_id = %s AND owner = %s AND booking_id IS NULL",
                              params=[event_id, f"{HOLD_OWNER_PREFIX}{entry_id}"])
        _event_lock(cursor, event_id)
        WaitlistEntry.objects.filter(
            pk=entry_id, status__in=[WaitlistStatus.WAITING, WaitlistStatus.OFFERED]
        ).update(status=WaitlistStatus.LEFT)
    return WaitlistEntry.objects.get(pk=entry_id)


# --- offering freed seats ------------------------------------------------------------------------

@dataclass(frozen=True)
class Offer:
    entry_id: int
    seat_ids: list[int]


def waitlist_offer_freed(cursor, *, event_id: int, seat_ids: list[int]) -> list[int]:
    """Offer just-freed seats to waiting entries, inside the caller's transaction; returns the seats offered.

    Called by `ticketing.seat_state.seats_free` (registered in `TicketingConfig.ready`), right
    after its UPDATE made `seat_ids` available (so their rows are locked); it then stamps and
    broadcasts the offered seats as held. Cheap when nobody waits: one indexed EXISTS.
    """
    return [seat_id for offer in waitlist_offers_make(cursor, event_id=event_id, seat_ids=seat_ids)
            for seat_id in offer.seat_ids]


def _offers_begin(cursor, event_id: int) -> bool:
    """Whether anyone waits (one indexed EXISTS); if so, take the event's waitlist lock and finish
    the offers whose time is over first, so an expired offer never gets seats or places back."""
    cursor.execute(
        "SELECT EXISTS (SELECT 1 FROM ticketing_waitlistentry "
        "                WHERE event_id = %s AND status IN ('waiting', 'offered'))",
        [event_id],
    )
    if not cursor.fetchone()[0]:
        return False
    _event_lock(cursor, event_id)
    cursor.execute(
        "UPDATE ticketing_waitlistentry SET status = 'expired' "
        " WHERE event_id = %s AND status = 'offered' AND offer_expires_at <= now()",
        [event_id],
    )
    return True


def waitlist_offers_make(cursor, *, event_id: int, seat_ids: list[int]) -> list[Offer]:
    """The offers `waitlist_offer_freed` makes, entry by entry."""
    if not seat_ids:
        return []
    if not _offers_begin(cursor, event_id):
        return []
    cursor.execute(
        "SELECT id, category_id FROM ticketing_eventseat WHERE event_id = %s AND id = ANY(%s) AND status = 'available'"
        " ORDER BY id",
        [event_id, list(seat_ids)],
    )
    pool = cursor.fetchall()
    if not pool:
        return []
    cursor.execute(
        "SELECT id, category_id, party_size FROM ticketing_waitlistentry "
        " WHERE event_id = %s AND status = 'waiting' ORDER BY created_at, id FOR UPDATE",
        [event_id],
    )
    offers = []
    offer_until = timezone.now() + timedelta(seconds=settings.WAITLIST_OFFER_SECONDS)
    for entry_id, category_id, party_size in cursor.fetchall():
        fitting = [seat_id for seat_id, seat_category in pool if category_id is None or seat_category == category_id]
        if len(fitting) < party_size:
            continue  # FIFO among those who fit: a party of four does not block a party of two
        chosen = fitting[:party_size]
        owner = f"{HOLD_OWNER_PREFIX}{entry_id}"
        # An offer is a hold: it fixes each seat's price from the tier selling now, as seat_hold does.
        prices, tier_ids = seat_prices_fix(cursor, event_id=event_id, owner=owner, seat_ids=chosen)
        cursor.execute(
            "UPDATE ticketing_eventseat es SET status = 'held', hold_owner = %s, held_until = %s, booking_id = NULL, "
            f"       price = picked.price, tier_id = picked.tier_id, version = {STAMP_SQL} "
            "  FROM unnest(%s::bigint[], %s::numeric[], %s::bigint[]) AS picked(id, price, tier_id) "
            " WHERE es.id = picked.id AND es.event_id = %s AND es.status = 'available' RETURNING es.id",
            [owner, offer_until, chosen, prices, tier_ids, event_id],
        )
        held = sorted(row[0] for row in cursor.fetchall())
        if held != chosen:  # cannot happen while the caller holds the seat rows; refuse to half-offer
            raise RuntimeError(f"waitlist offer for entry {entry_id} found seats taken: {chosen} vs {held}")
        WaitlistEntry.objects.filter(pk=entry_id, status=WaitlistStatus.WAITING).update(
            status=WaitlistStatus.OFFERED, offered_seat_ids=chosen, offered_at=timezone.now(),
            offer_expires_at=offer_until,
        )
        entry_email = WaitlistEntry.objects.values_list("email", flat=True).get(pk=entry_id)
        email_enqueue(kind="waitlist-offer", object_id=entry_id, to=entry_email)
        offers.append(Offer(entry_id=entry_id, seat_ids=chosen))
        pool = [(seat_id, seat_category) for seat_id, seat_category in pool if seat_id not in set(chosen)]
        if not pool:
            break
    return offers


# --- claiming an offer -----------------------------------------------------------------------------

def waitlist_claim(*, entry_id: int, owner: str) -> WaitlistEntry:
    """Bind the entry's offered seats to the buyer session `owner`, who then checks out as usual.

    The hold keeps the offer's expiry. Claiming again from the same session is a no-op. Raises
    WaitlistOfferNotAvailable (409; code offer_expired, offer_claimed or not_offered).
    """
    with transaction.atomic(), connection.cursor() as cursor:
        entry = WaitlistEntry.objects.filter(pk=entry_id).first()
        if entry is None:
            raise WaitlistEntryNotFound()
        if entry.status == WaitlistStatus.CLAIMED and entry.claimed_by == owner:
            return entry
        if entry.status == WaitlistStatus.CLAIMED:
            raise WaitlistOfferNotAvailable("This offer was already claimed.", code="offer_claimed")
        if entry.status != WaitlistStatus.OFFERED:
            raise WaitlistOfferNotAvailable("No seats are on offer for this entry.", code="not_offered")
        cursor.execute(
            "UPDATE ticketing_eventseat SET hold_owner = %s "
            f" WHERE event_id = %s AND hold_owner = %s AND {LIVE_HOLD_SQL} RETURNING id",
            [owner, entry.event_id, entry.hold_owner],
        )
        claimed = [row[0] for row in cursor.fetchall()]
        # General-admission places on offer (issue 15) join the buyer's cart the same way.
        try:
            with transaction.atomic():
                cursor.execute(
                    "UPDATE ticketing_areahold SET owner = %s "
                    " WHERE event_id = %s AND owner = %s AND booking_id IS NULL AND held_until > now() RETURNING id",
                    [owner, entry.event_id, entry.hold_owner],
                )
                claimed_places = cursor.fetchall()
        except IntegrityError:  # the buyer's cart already has places of that area at that price
            raise WaitlistOfferNotAvailable("Release the places of this area from your cart first, then claim.",
                                            code="cart_conflict") from None
        if not claimed and not claimed_places:
            raise WaitlistOfferNotAvailable("This offer has expired.", code="offer_expired")
        seats_changed(cursor, event_id=entry.event_id, seat_ids=claimed)  # still held: now by the buyer
        WaitlistEntry.objects.filter(pk=entry_id, status=WaitlistStatus.OFFERED).update(
            status=WaitlistStatus.CLAIMED, claimed_by=owner
        )
    entry.refresh_from_db()
    return entry



# --- general admission (issue 15): freed places go to the people waiting, like freed seats ---------------

def waitlist_offer_freed_places(cursor, *, event_id: int, freed: dict[int, int]) -> None:
    """Offer just-freed places (event area pk → how many) to waiting entries, in the freeing transaction.

    Registered with `ticketing.services.areas` (`freed_places_claimer_register`). The first waiting
    entry whose party fits in one area (of its category, if it named one) gets its party size of
    places held for it (`owner = "waitlist:<entry id>"`, for WAITLIST_OFFER_SECONDS) and an e-mail;
    the claim link moves them into the claimer's cart. Cheap when nobody waits: one indexed EXISTS.
    """
    if not _offers_begin(cursor, event_id):
        return
    cursor.execute(
        "SELECT area.id, area.category_id, category.price FROM ticketing_eventarea area "
        "  JOIN events_seatcategory category ON category.id = area.category_id "
        " WHERE area.id = ANY(%s) ORDER BY area.id",
        [sorted(freed)],
    )
    areas = cursor.fetchall()
    pool = dict(freed)  # places still to offer, per area
    cursor.execute(
        "SELECT id, category_id, party_size, email FROM ticketing_waitlistentry "
        " WHERE event_id = %s AND status = 'waiting' ORDER BY created_at, id FOR UPDATE",
        [event_id],
    )
    offer_until = timezone.now() + timedelta(seconds=settings.WAITLIST_OFFER_SECONDS)
    for entry_id, category_id, party_size, email in cursor.fetchall():
        for event_area_id, area_category_id, price in areas:
            if pool[event_area_id] < party_size or category_id not in (None, area_category_id):
                continue
            if not area_places_offer(cursor, event_id=event_id, event_area_id=event_area_id,
                                     category_id=area_category_id, category_price=price,
                                     owner=f"{HOLD_OWNER_PREFIX}{entry_id}", quantity=party_size, until=offer_until):
                continue
            pool[event_area_id] -= party_size
            WaitlistEntry.objects.filter(pk=entry_id, status=WaitlistStatus.WAITING).update(
                status=WaitlistStatus.OFFERED, offered_seat_ids=[], offered_at=timezone.now(),
                offer_expires_at=offer_until,
            )
            email_enqueue(kind="waitlist-offer", object_id=entry_id, to=email)
            break
        if not any(pool.values()):
            break
