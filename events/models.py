"""What is on: events at venues, and the seat categories they sell."""

from django.conf import settings
from django.contrib.postgres.indexes import GistIndex, OpClass
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.db.models.functions import Now

from events.colours import category_colour_problem


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


def default_max_seats_per_order() -> int:
    return settings.MAX_SEATS_PER_ORDER


def default_max_seats_per_email() -> int | None:
    return settings.MAX_SEATS_PER_EMAIL or None


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
    single_seat_rule = models.BooleanField(
        # Off for events made in code (tests, imports); the admin's new-event form starts with it on.
        default=False, db_default=False, verbose_name="No single empty seats",
        help_text="Refuse orders that would leave one empty seat alone between taken seats in a row "
                  "(best available never leaves one).",
    )
    max_seats_per_order = models.PositiveSmallIntegerField(
        default=default_max_seats_per_order, help_text="Most seats one booking (and one hold) may contain."
    )
    max_seats_per_email = models.PositiveSmallIntegerField(
        null=True, blank=True, default=default_max_seats_per_email,
        help_text="Most seats one customer e-mail may buy for this event across bookings; empty for no limit.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["starts_at", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(ends_at__gt=models.F("starts_at")), name="event_ends_after_start"),
            models.CheckConstraint(condition=Q(max_seats_per_order__gte=1), name="event_max_seats_per_order_positive"),
        ]
        indexes = [
            # Search and the home page list public events by date (events/search.py).
            models.Index(fields=["starts_at", "id"], name="event_public_starts_idx",
                         condition=Q(status__in=["published", "on_sale", "sold_out"])),
        ]

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        return f"/events/{self.pk}/"

    def is_in_sales_window(self, at) -> bool:
        """Sales run from sales_open_at (empty: once published) until sales_close_at (empty: the end)."""
        return (
            (self.sales_open_at is None or self.sales_open_at <= at)
            and (self.sales_close_at is None or at < self.sales_close_at)
            and at < self.ends_at
        )

    def is_selling(self, at) -> bool:
        """The one sales-window rule for buyers: on sale (or published and due to go on sale), opened,
        not closed, not ended.

        Holds, confirms, the event page and the API all ask this, so a lifecycle tick that comes
        a minute late never sells a seat outside the window — nor keeps buyers waiting at the
        opening time: a published event whose opening time has passed sells at once, whether or
        not the worker's tick has moved it to on_sale yet (docs/reliability.md, "Worker down").
        """
        return self.status in (EventStatus.ON_SALE, EventStatus.PUBLISHED) and self.is_in_sales_window(at)


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

    def clean(self):
        super().clean()
        problem = category_colour_problem(self.colour)
        if problem:
            raise ValidationError({"colour": problem})

    def __str__(self):
        return f"{self.name} ({self.event})"


class PricingTier(models.Model):
    """A sales wave of one seat category: Early Bird, Standard, Last Chance…

    The active tier of a category is the first (by position) whose window contains now and whose
    quota — seats held or sold at this tier — is not used up; with none active, the category's
    own price applies. A seat's price is fixed when it is held (`EventSeat.price`).
    """

    category = models.ForeignKey(SeatCategory, on_delete=models.CASCADE, related_name="tiers")
    name = models.CharField(max_length=100)
    price = models.DecimalField(max_digits=10, decimal_places=2)
    available_from = models.DateTimeField(null=True, blank=True, help_text="Empty: from the start of sales.")
    available_until = models.DateTimeField(null=True, blank=True, help_text="Empty: until sales close.")
    quota = models.PositiveIntegerField(null=True, blank=True, help_text="Seats sold at this tier; empty: no limit.")
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["category", "position", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(price__gte=0), name="pricing_tier_price_not_negative"),
            models.CheckConstraint(
                condition=Q(available_from__isnull=True) | Q(available_until__isnull=True)
                | Q(available_until__gt=models.F("available_from")),
                name="pricing_tier_window_ordered",
            ),
        ]

    def __str__(self):
        return f"{self.name} ({self.category.name})"

    def is_in_window(self, at) -> bool:
        return (self.available_from is None or self.available_from <= at) and (
            self.available_until is None or at < self.available_until
        )


class CancellationPolicy(models.Model):
    """How buyers may cancel: until `deadline_hours` before the start, for a fee per seat.

    The fee per seat is `fee_fixed + price × fee_percent / 100`, never more than the seat's price.
    Seats of non-refundable categories or tiers can be given back but refund nothing. An event
    without a policy row gets the defaults below.
    """

    event = models.OneToOneField(Event, on_delete=models.CASCADE, related_name="cancellation_policy")
    allows_cancellation = models.BooleanField(default=True)
    deadline_hours = models.PositiveIntegerField(
        default=48, help_text="Buyers may cancel until this many hours before the event starts."
    )
    fee_fixed = models.DecimalField(max_digits=10, decimal_places=2, default=0, help_text="Per seat.")
    fee_percent = models.DecimalField(max_digits=5, decimal_places=2, default=0, help_text="Of each seat's price.")
    non_refundable_categories = models.ManyToManyField(SeatCategory, blank=True, related_name="+")
    non_refundable_tiers = models.ManyToManyField(PricingTier, blank=True, related_name="+")
    notes = models.TextField(blank=True, help_text="Shown to buyers after the generated policy text.")

    class Meta:
        verbose_name_plural = "cancellation policies"
        constraints = [
            models.CheckConstraint(condition=Q(fee_fixed__gte=0), name="cancellation_fee_fixed_not_negative"),
            models.CheckConstraint(
                condition=Q(fee_percent__gte=0, fee_percent__lte=100), name="cancellation_fee_percent_range"
            ),
        ]

    def __str__(self):
        return f"Cancellation policy of {self.event}"


# --- discovery: what search reads instead of counting seats (docs/architecture.md, "Search") ---------------------
#
# Search never counts EventSeat rows. Every statement that changes seats makes a trigger on ticketing_eventseat
# (ticketing migration 0010) append one SeatCountChange row per event and category it touched: an INSERT that
# never waits on another transaction, so a sale-start stampede on one event does not queue on a counter row.
# `events.summary.seat_counts_fold` moves those deltas into CategorySummary / EventSummary (and tickets sold into
# EventSalesHour, which trending is rebuilt from) — before a search reads them, and every minute from the worker.
# The title, description, venue and city are indexed in `events_event.search_vector` (a tsvector column kept by a
# trigger, unknown to the ORM so that event rows stay light; events migration 0004).


class SeatCountChange(models.Model):
    """Seats that changed status in one statement, per event and category: +n for the new status, −n for the old."""

    id = models.BigAutoField(primary_key=True)
    event_id = models.BigIntegerField()  # no foreign keys: the trigger must never fail a seat change
    category_id = models.BigIntegerField()
    available = models.IntegerField(default=0)
    held = models.IntegerField(default=0)
    sold = models.IntegerField(default=0)
    blocked = models.IntegerField(default=0)
    created_at = models.DateTimeField(db_default=Now())

    def __str__(self):
        return f"event {self.event_id} category {self.category_id}: {self.available:+} available"


class CategorySummary(models.Model):
    """Seat counts of one seat category, and the price its next seat sells at now."""

    category = models.OneToOneField(SeatCategory, primary_key=True, on_delete=models.CASCADE, related_name="summary")
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="+")
    available_seats = models.IntegerField(default=0)
    held_seats = models.IntegerField(default=0)
    sold_seats = models.IntegerField(default=0)
    blocked_seats = models.IntegerField(default=0)
    price = models.DecimalField(max_digits=10, decimal_places=2, null=True, help_text="Empty: not computed yet.")
    # The price changes by the clock at the next tier boundary, and by sales while a tier has a quota.
    price_valid_until = models.DateTimeField(null=True)
    has_quota_tier = models.BooleanField(default=False)

    class Meta:
        verbose_name_plural = "category summaries"
        indexes = [
            models.Index(fields=["price_valid_until"], name="category_summary_price_due_idx"),
            models.Index(fields=["category"], name="category_summary_unpriced_idx", condition=Q(price__isnull=True)),
        ]

    def __str__(self):
        return f"{self.category_id}: {self.available_seats} available at {self.price}"


class EventSummary(models.Model):
    """What a result card and the search filters need about an event's seats: counts and the price range now."""

    event = models.OneToOneField(Event, primary_key=True, on_delete=models.CASCADE, related_name="summary")
    available_seats = models.IntegerField(default=0)
    held_seats = models.IntegerField(default=0)
    sold_seats = models.IntegerField(default=0)
    blocked_seats = models.IntegerField(default=0)
    # The cheapest and dearest seat selling now, over the categories with seats available (all when none is).
    min_price = models.DecimalField(max_digits=10, decimal_places=2, null=True)
    max_price = models.DecimalField(max_digits=10, decimal_places=2, null=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "event summaries"
        indexes = [models.Index(fields=["min_price"], name="event_summary_min_price_idx")]

    def __str__(self):
        return f"{self.event_id}: {self.available_seats} available from {self.min_price}"

    @property
    def total_seats(self) -> int:
        return self.available_seats + self.held_seats + self.sold_seats + self.blocked_seats


class EventSalesHour(models.Model):
    """Tickets sold per event and hour: what trending is rebuilt from when Redis lost it."""

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="+")
    hour = models.DateTimeField()
    tickets = models.IntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["event", "hour"], name="event_sales_hour_unique")]
        indexes = [models.Index(fields=["hour"], name="event_sales_hour_hour_idx")]

    def __str__(self):
        return f"{self.event_id} {self.hour:%Y-%m-%d %H}h: {self.tickets}"


class SearchTerm(models.Model):
    """Every word of every event's title, description, venue and city, unaccented and lowercase:
    the vocabulary that typo tolerance corrects a query word to (pg_trgm similarity)."""

    term = models.CharField(primary_key=True, max_length=40, db_collation="C")  # "C": prefix LIKE uses the index

    class Meta:
        indexes = [GistIndex(OpClass(models.F("term"), name="gist_trgm_ops"), name="search_term_trgm_idx")]  # KNN: <->

    def __str__(self):
        return self.term
