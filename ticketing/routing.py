from django.urls import path

from ticketing.consumers import SeatMapConsumer

websocket_urlpatterns = [
    path("ws/events/<int:event_id>/seats", SeatMapConsumer.as_asgi()),
]
