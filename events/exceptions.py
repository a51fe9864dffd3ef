"""What can go wrong with an event's lifecycle, each with a stable code."""

from evently.errors import Conflict


class EventWrongStatus(Conflict):
    code = "event_wrong_status"
    message = "The event cannot do that in its current state."
