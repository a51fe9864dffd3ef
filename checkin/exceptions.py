"""What can go wrong at the door before a scan has a result, each with a stable code.

A ticket that must not get in is not an error: it is a scan whose result is `invalid` with a
reason (see `checkin.services.REASONS`), logged like any other scan.
"""

from evently.errors import InvalidInput, PermissionDenied


class NotDoorStaff(PermissionDenied):
    code = "forbidden"
    message = "Only door staff assigned to this event can check tickets in."


class UnreadableScan(InvalidInput):
    code = "unreadable_scan"
    message = "This code is not an Evently ticket, and no event_id was sent to log it against."


class ManifestUnavailable(PermissionDenied):
    code = "outside_door_window"
    message = "The offline ticket list is only available around the event's door times."
