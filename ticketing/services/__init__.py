"""Every seat-state change goes through these services.

Rules kept by every function:
- a state change is one conditional UPDATE or one short transaction;
- no payment call (or any other outside call) runs while seat rows are locked;
- every change stamps its seats with its transaction id and is broadcast after commit.
"""

from ticketing.services.blocking import seats_block, seats_unblock  # noqa: F401
from ticketing.services.bookings import (  # noqa: F401
    Customer,
    booking_confirm,
    booking_finalize,
    booking_is_visible_to,
    booking_reconcile,
    bookings_reconcile_due,
)
from ticketing.services.boxoffice import boxoffice_sell, boxoffice_sell_card  # noqa: F401
from ticketing.services.cancellation import (  # noqa: F401
    booking_cancel,
    booking_cancel_preview,
    booking_cancellations,
    booking_seats_cancel,
    cancellation_policy_as_dict,
    event_cancel,
)
from ticketing.services.inventory import event_inventory_create  # noqa: F401
from ticketing.services.refunds import booking_refund_owed  # noqa: F401
from ticketing.services.seats import (  # noqa: F401
    Hold,
    holds_expire,
    seat_hold,
    seat_release,
)
from ticketing.services.tickets import (  # noqa: F401
    event_public_keys,
    event_signing_key,
    event_signing_key_rotate,
    ticket_token_issue,
    tickets_issue_for,
)
from ticketing.services.vouchers import cart_voucher_quote  # noqa: F401
