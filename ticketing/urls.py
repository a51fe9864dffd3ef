from django.urls import path

from ticketing import views

urlpatterns = [
    path("events/<int:event_id>/checkout/", views.checkout, name="checkout"),
    path("bookings/<int:booking_id>/", views.booking_confirmation, name="booking_confirmation"),
]
