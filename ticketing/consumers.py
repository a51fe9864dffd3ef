"""Live seat map: one websocket per page, one Channels group per event."""

from channels.generic.websocket import AsyncJsonWebsocketConsumer

from ticketing.broadcast import seat_group_name


class SeatMapConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self):
        self.group = seat_group_name(int(self.scope["url_route"]["kwargs"]["event_id"]))
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()

    async def disconnect(self, code):
        await self.channel_layer.group_discard(self.group, self.channel_name)

    async def seat_changes(self, message):
        await self.send_json({"version": message["version"], "changes": message["changes"]})
