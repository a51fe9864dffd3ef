"""Server-rendered buyer pages: the event page, checkout and confirmation; after the purchase, my bookings and the
waitlist."""

from ticketing.views.after_purchase import (  # noqa: F401
    my_bookings,
    waitlist_claim_page,
    waitlist_confirm_page,
    waitlist_entry_page,
    waitlist_join_page,
)
from ticketing.views.checkout import booking_calendar, booking_confirmation, buyer_page, checkout  # noqa: F401
from ticketing.views.event_page import event_detail  # noqa: F401
