"""Physical places: a venue's sections, rows and seats, shared by every event held there."""

from django.db import models


class VenueType(models.TextChoices):
    THEATER = "theater", "Theater"
    STADIUM = "stadium", "Stadium"
    CONFERENCE = "conference", "Conference hall"
    OTHER = "other", "Other"


class Venue(models.Model):
    name = models.CharField(max_length=200)
    address = models.CharField(max_length=300, blank=True)
    city = models.CharField(max_length=100, db_index=True)
    latitude = models.FloatField(null=True, blank=True)
    longitude = models.FloatField(null=True, blank=True)
    timezone = models.CharField(max_length=64, default="Europe/Berlin")
    capacity = models.PositiveIntegerField(default=0, help_text="Number of seats; kept in step by the generators.")
    venue_type = models.CharField(max_length=20, choices=VenueType.choices, default=VenueType.OTHER)
    facilities = models.JSONField(default=dict, blank=True)
    is_active = models.BooleanField(default=True)
    # What the seat-map drawing needs around the seats: the stage or field outline and the canvas size.
    map_meta = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return f"{self.name}, {self.city}"


class Section(models.Model):
    venue = models.ForeignKey(Venue, on_delete=models.CASCADE, related_name="sections")
    name = models.CharField(max_length=100)
    position = models.PositiveIntegerField(default=0)
    # Polygon [[x, y], ...] around the section's seats, for the overview of large venues.
    outline = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["venue", "position", "id"]
        constraints = [models.UniqueConstraint(fields=["venue", "name"], name="section_name_unique_per_venue")]

    def __str__(self):
        return f"{self.venue.name} / {self.name}"


class Seat(models.Model):
    venue = models.ForeignKey(Venue, on_delete=models.CASCADE, related_name="seats")
    section = models.ForeignKey(Section, on_delete=models.CASCADE, related_name="seats")
    row_label = models.CharField(max_length=10)
    number = models.PositiveIntegerField()
    x = models.FloatField()
    y = models.FloatField()
    is_wheelchair = models.BooleanField(default=False)
    is_companion = models.BooleanField(default=False)
    is_restricted_view = models.BooleanField(default=False)

    class Meta:
        ordering = ["section", "id"]
        constraints = [
            models.UniqueConstraint(fields=["section", "row_label", "number"], name="seat_unique_per_section_row"),
        ]

    def __str__(self):
        return f"{self.section.name}, row {self.row_label}, seat {self.number}"

    @property
    def label(self) -> str:
        return f"{self.section.name}, row {self.row_label}, seat {self.number}"
