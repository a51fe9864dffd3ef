"""Live seat map: one websocket per page, one Channels group per event."""

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from events.models import Event, EventStatus
from ticketing.broadcast import seat_group_name

NOT_FOUND_CLOSE_CODE = 4404


@database_sync_to_async
def _event_is_public(event_id: int) -> bool:
    """The same rule as the layout API: any event but a draft (which only its organizer sees)."""
    return Event.objects.filter(pk=event_id).exclude(status=EventStatus.DRAFT).exists()


class SeatMapConsumer(AsyncJsonWebsocketConsumer):
    group = None

    async def connect(self):
        event_id = int(self.scope["url_route"]["kwargs"]["event_id"])
        if not await _event_is_public(event_id):
            await self.close(code=NOT_FOUND_CLOSE_CODE)
            return
        self.group = seat_group_name(event_id)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()

    async def disconnect(self, code):
        if self.group is not None:
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def seat_changes(self, message):
        await self.send_json({"version": message["version"], "changes": message["changes"]})
