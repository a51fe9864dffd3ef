"""Door check-in: who may scan where, when doors open, who got in, and every scan.

Admission state lives here, not on the ticket: `Admission` has at most one row per ticket, and
that row is made by one `INSERT … ON CONFLICT DO NOTHING`, so two devices scanning the same
ticket at the same instant admit it exactly once. `Scan` is the audit log: one row per client
scan nonce, whatever the result, online or synced from an offline device.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q


class DoorAssignment(models.Model):
    """Door staff (group "Door staff") may scan for one event, or for every event at one venue."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="door_assignments")
    event = models.ForeignKey("events.Event", null=True, blank=True, on_delete=models.CASCADE,
                              related_name="door_assignments")
    venue = models.ForeignKey("venues.Venue", null=True, blank=True, on_delete=models.CASCADE,
                              related_name="door_assignments", help_text="Every event at this venue.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=(Q(event__isnull=False) & Q(venue__isnull=True))
                | (Q(event__isnull=True) & Q(venue__isnull=False)),
                name="door_assignment_event_or_venue",
            ),
            models.UniqueConstraint(fields=["user", "event"], name="door_assignment_unique_event"),
            models.UniqueConstraint(fields=["user", "venue"], name="door_assignment_unique_venue"),
        ]

    def __str__(self):
        return f"{self.user} at {self.event or self.venue}"


class DoorSchedule(models.Model):
    """When scanning is allowed for an event, if not the default window
    (settings.CHECKIN_DOORS_OPEN_MINUTES before the start until the event's end)."""

    event = models.OneToOneField("events.Event", on_delete=models.CASCADE, primary_key=True,
                                 related_name="door_schedule")
    doors_open_at = models.DateTimeField()
    closes_at = models.DateTimeField(null=True, blank=True, help_text="Empty: when the event ends.")

    def __str__(self):
        return f"Doors of {self.event_id} open {self.doors_open_at:%Y-%m-%d %H:%M}"


class Admission(models.Model):
    """The one time a ticket was let in. Written only by `checkin.services.checkin_scan`."""

    ticket = models.OneToOneField("ticketing.Ticket", on_delete=models.CASCADE, primary_key=True,
                                  related_name="admission")
    event = models.ForeignKey("events.Event", on_delete=models.CASCADE, related_name="admissions")
    admitted_at = models.DateTimeField()
    gate = models.CharField(max_length=50, blank=True)
    device = models.CharField(max_length=64, blank=True)
    scan_nonce = models.CharField(max_length=64)
    is_offline = models.BooleanField(default=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                             related_name="+")

    class Meta:
        indexes = [models.Index(fields=["event", "admitted_at"], name="admission_event_time_idx")]

    def __str__(self):
        return f"Ticket {self.ticket_id} admitted at {self.admitted_at:%H:%M:%S}"


class ScanResult(models.TextChoices):
    ADMIT = "admit", "Admit"
    ALREADY_ADMITTED = "already_admitted", "Already admitted"
    INVALID = "invalid", "Invalid"


class Scan(models.Model):
    """One scan as the door saw it; `nonce` is the client's id for the scan, so retries and
    offline re-syncs are the same row."""

    nonce = models.CharField(max_length=64, unique=True)
    event = models.ForeignKey("events.Event", null=True, blank=True, on_delete=models.CASCADE, related_name="scans")
    # Not a foreign key: a forged or stale token may name a ticket that does not exist.
    ticket_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                             related_name="+")
    device = models.CharField(max_length=64, blank=True)
    gate = models.CharField(max_length=50, blank=True)
    result = models.CharField(max_length=20, choices=ScanResult.choices)
    reason = models.CharField(max_length=20, blank=True)
    scanned_at = models.DateTimeField(help_text="When the device scanned (the device's clock).")
    received_at = models.DateTimeField(help_text="When the server recorded it.")
    is_offline = models.BooleanField(default=False)
    local_result = models.CharField(max_length=20, blank=True, help_text="What an offline device decided.")
    is_conflict = models.BooleanField(
        default=False, help_text="An offline device let this ticket in, but the server did not admit it.")
    is_manual = models.BooleanField(default=False, help_text="Admitted by ticket id after a search, not a QR code.")

    class Meta:
        ordering = ["-received_at", "-id"]
        indexes = [
            models.Index(fields=["event", "received_at"], name="scan_event_time_idx"),
            models.Index(fields=["event"], name="scan_event_conflict_idx", condition=Q(is_conflict=True)),
        ]

    def __str__(self):
        return f"{self.result} {self.reason} ticket {self.ticket_id}".strip()
