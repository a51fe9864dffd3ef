"""Physical places: a venue's sections, rows and seats, shared by every event held there."""

from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.contrib.postgres.constraints import ExclusionConstraint
from django.contrib.postgres.fields import DateTimeRangeField, RangeOperators
from django.core.exceptions import ValidationError
from django.db import models
from django.db.backends.postgresql.psycopg_any import DateTimeTZRange
from django.db.models import Q
from django.db.models.functions import Lower


class VenueType(models.TextChoices):
    THEATER = "theater", "Theater"
    STADIUM = "stadium", "Stadium"
    CONFERENCE = "conference", "Conference hall"
    CLUB = "club", "Club / festival (general admission)"
    OTHER = "other", "Other"


class Venue(models.Model):
    name = models.CharField(max_length=200)
    address = models.CharField(max_length=300, blank=True)
    city = models.CharField(max_length=100, db_index=True)
    # Where the venue is, for "near me" search. The database keeps a point on the earth
    # (earthdistance's ll_to_earth, GiST-indexed) in step with these: see the venues migration 0003.
    latitude = models.FloatField(null=True, blank=True, help_text="Degrees north, −90 to 90.")
    longitude = models.FloatField(null=True, blank=True, help_text="Degrees east, −180 to 180.")
    timezone = models.CharField(max_length=64, default="Europe/Berlin")
    capacity = models.PositiveIntegerField(default=0, help_text="Number of seats; kept in step by the generators.")
    venue_type = models.CharField(max_length=20, choices=VenueType.choices, default=VenueType.OTHER)
    facilities = models.JSONField(default=dict, blank=True)
    is_active = models.BooleanField(default=True)
    # What the seat-map drawing needs around the seats: the stage or field outline and the canvas size.
    map_meta = models.JSONField(default=dict, blank=True)
    # Who may change, regenerate or delete it in the admin (empty: a platform venue, superusers only).
    # Every organizer may book any venue and sell events in it.
    organizer = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                  related_name="venues")

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(condition=Q(latitude__gte=-90, latitude__lte=90), name="venue_latitude_range"),
            models.CheckConstraint(condition=Q(longitude__gte=-180, longitude__lte=180), name="venue_longitude_range"),
            models.CheckConstraint(condition=Q(latitude__isnull=True, longitude__isnull=True)
                                   | Q(latitude__isnull=False, longitude__isnull=False),
                                   name="venue_coordinates_both_or_neither"),
        ]
        indexes = [models.Index(Lower("city"), name="venue_city_lower_idx")]  # search's city filter

    def __str__(self):
        return f"{self.name}, {self.city}"


class Section(models.Model):
    venue = models.ForeignKey(Venue, on_delete=models.CASCADE, related_name="sections")
    name = models.CharField(max_length=100)
    position = models.PositiveIntegerField(default=0)
    # Polygon [[x, y], ...] around the section's seats, for the overview of large venues; for a
    # general-admission area, the area's own shape on the map.
    outline = models.JSONField(default=list, blank=True)
    # General admission (issue 15): a standing area sold by quantity, with no seats.
    is_general_admission = models.BooleanField(
        default=False, help_text="A standing area sold by quantity (no seats): its capacity is the number of places.")
    capacity = models.PositiveIntegerField(default=0, help_text="Places of a general-admission area.")

    class Meta:
        ordering = ["venue", "position", "id"]
        constraints = [models.UniqueConstraint(fields=["venue", "name"], name="section_name_unique_per_venue")]

    def __str__(self):
        return f"{self.venue.name} / {self.name}"

    def clean(self):
        """A general-admission area has places and no seats; a seated section has no capacity of its own."""
        if self.is_general_admission and self.capacity < 1:
            raise ValidationError({"capacity": "A general-admission area needs at least one place."})
        if self.is_general_admission and self.pk and self.seats.exists():
            raise ValidationError({"is_general_admission": "This section has seats; a standing area has none."})
        if not self.is_general_admission and self.capacity:
            raise ValidationError({"capacity": "Only a general-admission area has a capacity (seats count)."})


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


class VenueBookingStatus(models.TextChoices):
    REQUESTED = "requested", "Requested"
    CONFIRMED = "confirmed", "Confirmed"
    CANCELLED = "cancelled", "Cancelled"
    EXPIRED = "expired", "Expired (deposit not paid in time)"


# Bookings in these states no longer hold the venue.
VENUE_FREEING_STATUSES = [VenueBookingStatus.CANCELLED, VenueBookingStatus.EXPIRED]


class VenueBooking(models.Model):
    """A venue reserved for an event, with setup before and teardown after.

    `blocked_period` is the padded range [start − setup, end + teardown), kept in step by `save()`
    (Postgres cannot compute it in a generated column: timestamptz − interval is not immutable).
    The exclusion constraint on (venue, blocked_period) makes two overlapping non-cancelled bookings
    impossible, even for two requests racing each other.
    """

    venue = models.ForeignKey(Venue, on_delete=models.PROTECT, related_name="bookings")
    event = models.ForeignKey("events.Event", null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="venue_bookings")
    organizer = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                  related_name="venue_bookings")
    title = models.CharField(max_length=200, help_text="What the venue is booked for.")
    start = models.DateTimeField(help_text="When the event itself starts.")
    end = models.DateTimeField(help_text="When the event itself ends.")
    setup_hours = models.PositiveSmallIntegerField(default=0)
    teardown_hours = models.PositiveSmallIntegerField(default=0)
    status = models.CharField(max_length=10, choices=VenueBookingStatus.choices, default=VenueBookingStatus.REQUESTED)
    rental_fee = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0"))
    deposit_amount = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0"))
    deposit_payment_reference = models.CharField(max_length=100, blank=True)
    blocked_period = DateTimeRangeField(editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["start", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(end__gt=models.F("start")), name="venue_booking_ends_after_start"),
            models.CheckConstraint(condition=Q(deposit_amount__gte=0), name="venue_booking_deposit_not_negative"),
            models.CheckConstraint(condition=Q(rental_fee__gte=0), name="venue_booking_fee_not_negative"),
            ExclusionConstraint(
                name="venue_booking_no_overlap",
                expressions=[("venue", RangeOperators.EQUAL), ("blocked_period", RangeOperators.OVERLAPS)],
                condition=~Q(status__in=["cancelled", "expired"]),
            ),
        ]

    def __str__(self):
        return f"{self.title} at {self.venue.name} ({self.start:%Y-%m-%d %H:%M})"

    def save(self, *args, **kwargs):
        self.blocked_period = self.padded_range()
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "blocked_period" not in update_fields and (
            {"start", "end", "setup_hours", "teardown_hours"} & set(update_fields)
        ):
            kwargs["update_fields"] = [*update_fields, "blocked_period"]
        super().save(*args, **kwargs)

    def padded_range(self) -> DateTimeTZRange:
        return DateTimeTZRange(self.blocked_from, self.blocked_until, "[)")

    @property
    def blocked_from(self):
        return self.start - timedelta(hours=self.setup_hours)

    @property
    def blocked_until(self):
        return self.end + timedelta(hours=self.teardown_hours)

    @property
    def add_ons_total(self) -> Decimal:
        return sum((add_on.cost for add_on in self.add_ons.all()), Decimal("0"))

    @property
    def invoice_total(self) -> Decimal:
        return self.rental_fee + self.add_ons_total


class AddOnType(models.TextChoices):
    CATERING = "catering", "Catering"
    AV = "av", "AV equipment"
    SECURITY = "security", "Security staff"
    CLEANING = "cleaning", "Cleaning"
    FURNITURE = "furniture", "Furniture"
    OTHER = "other", "Other"


class VenueBookingAddOn(models.Model):
    booking = models.ForeignKey(VenueBooking, on_delete=models.CASCADE, related_name="add_ons")
    type = models.CharField(max_length=20, choices=AddOnType.choices, default=AddOnType.OTHER)
    description = models.CharField(max_length=200)
    cost = models.DecimalField(max_digits=12, decimal_places=2)

    class Meta:
        ordering = ["booking", "id"]
        verbose_name = "add-on"
        constraints = [models.CheckConstraint(condition=Q(cost__gte=0), name="venue_add_on_cost_not_negative")]

    def __str__(self):
        return f"{self.get_type_display()}: {self.description}"
