from django.urls import path

from ticketing import views

urlpatterns = [
    path("events/<int:event_id>/", views.event_detail, name="event_detail"),
    path("events/<int:event_id>/checkout/", views.checkout, name="checkout"),
    path("bookings/<int:booking_id>/", views.booking_confirmation, name="booking_confirmation"),
    path("bookings/<int:booking_id>/calendar.ics", views.booking_calendar, name="booking_calendar"),
    path("terms/", views.buyer_page, {"page": "terms"}, name="terms"),
    path("privacy/", views.buyer_page, {"page": "privacy"}, name="privacy"),
    path("my-bookings/", views.my_bookings, name="my_bookings"),
    path("events/<int:event_id>/waitlist/", views.waitlist_join_page, name="waitlist_join"),
    path("waitlist/<str:key>/", views.waitlist_entry_page, name="waitlist_entry"),
    path("waitlist/<str:key>/claim/", views.waitlist_claim_page, name="waitlist_claim"),
    path("waitlist/<str:key>/confirm/", views.waitlist_confirm_page, name="waitlist_confirm"),
]
