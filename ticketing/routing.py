from django.urls import path

from ticketing.consumers import LiveSeatMapConsumer, SectionCountsConsumer

websocket_urlpatterns = [
    path("ws/events/<int:event_id>/seats", LiveSeatMapConsumer.as_asgi()),
    path("ws/events/<int:event_id>/sections", SectionCountsConsumer.as_asgi()),
]
