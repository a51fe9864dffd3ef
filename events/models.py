"""What is on: events at venues, and the seat categories they sell."""

from django.conf import settings
from django.db import models
from django.db.models import Q


class EventCategory(models.TextChoices):
    CONCERT = "concert", "Concert"
    THEATER = "theater", "Theater"
    SPORTS = "sports", "Sports"
    CONFERENCE = "conference", "Conference"
    COMEDY = "comedy", "Comedy"
    FAMILY = "family", "Family"
    OTHER = "other", "Other"


class EventStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    PUBLISHED = "published", "Published"
    ON_SALE = "on_sale", "On sale"
    SOLD_OUT = "sold_out", "Sold out"
    FINISHED = "finished", "Finished"
    CANCELLED = "cancelled", "Cancelled"


class Event(models.Model):
    organizer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="organized_events")
    venue = models.ForeignKey("venues.Venue", on_delete=models.PROTECT, related_name="events")
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    category = models.CharField(max_length=20, choices=EventCategory.choices, default=EventCategory.OTHER)
    status = models.CharField(max_length=20, choices=EventStatus.choices, default=EventStatus.DRAFT, db_index=True)
    starts_at = models.DateTimeField(db_index=True)
    ends_at = models.DateTimeField()
    sales_open_at = models.DateTimeField(null=True, blank=True)
    sales_close_at = models.DateTimeField(null=True, blank=True)
    age_restriction = models.PositiveSmallIntegerField(null=True, blank=True, help_text="Minimum age, if any.")
    cover_image = models.ImageField(upload_to="events/covers/", blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["starts_at", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(ends_at__gt=models.F("starts_at")), name="event_ends_after_start"),
        ]

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        return f"/events/{self.pk}/"


class SeatCategory(models.Model):
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="categories")
    name = models.CharField(max_length=100)
    colour = models.CharField(max_length=7, default="#3b82f6", help_text="Hex colour on the seat map, e.g. #3b82f6.")
    price = models.DecimalField(max_digits=10, decimal_places=2)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["event", "position", "id"]
        verbose_name_plural = "seat categories"
        constraints = [
            models.CheckConstraint(condition=Q(price__gte=0), name="seat_category_price_not_negative"),
            models.UniqueConstraint(fields=["event", "name"], name="seat_category_name_unique_per_event"),
        ]

    def __str__(self):
        return f"{self.name} ({self.event})"
