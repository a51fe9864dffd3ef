"""Demo data: three venues, events on sale, venue bookings, door staff, a catalogue of a few hundred smaller
events in nine cities (_demo_catalogue.py, for search) and the demo users. Safe to run again.

It lives in checkin, the top layer, because it sets up every app.
"""

from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.contrib.auth.models import Group, Permission, User
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from checkin.management.commands._demo_catalogue import catalogue_sales, catalogue_seed
from checkin.models import DoorAssignment, DoorSchedule
from events.models import CancellationPolicy, Event, EventCategory, EventStatus, PricingTier, SeatCategory
from events.summary import event_summaries_tick
from ticketing.models import EventArea
from ticketing.services import event_inventory_create
from venues.bookings import venue_booking_add_on_add, venue_booking_pay_deposit, venue_booking_request
from venues.exceptions import VenueBookingConflict
from venues.models import Venue, VenueBooking, VenueType
from venues.services import venue_build_from_template

VENUES = [
    {"name": "Lindenhof Theater", "city": "Berlin", "address": "Lindenstraße 12, 10969 Berlin",
     "latitude": 52.5033, "longitude": 13.3966, "timezone": "Europe/Berlin", "venue_type": VenueType.THEATER,
     "template": "theater",
     "params": {"orchestra_rows": 12, "mezzanine_rows": 6, "balcony_rows": 6, "seats_per_row": 34, "row_growth": 1},
     "facilities": {"cloakroom": True, "bar": True, "step_free": True}},
    {"name": "Olympia Arena", "city": "Munich", "address": "Spiridon-Louis-Ring 21, 80809 München",
     "latitude": 48.1731, "longitude": 11.5466, "timezone": "Europe/Berlin", "venue_type": VenueType.STADIUM,
     "template": "stadium",
     "params": {"sections_per_side": 12, "end_sections": 8, "rows_per_section": 50, "seats_per_row": 25,
                "standing_places": 4000},
     "facilities": {"parking": True, "food": True}},
    {"name": "Harbour Conference Hall", "city": "Hamburg", "address": "Am Sandtorkai 1, 20457 Hamburg",
     "latitude": 53.5430, "longitude": 9.9890, "timezone": "Europe/Berlin", "venue_type": VenueType.CONFERENCE,
     "template": "conference", "params": {"rows": 20, "seats_per_block": 8, "blocks": 3},
     "facilities": {"wifi": True, "av": True}},
    # General admission only (issue 15): no seats, areas sold by quantity.
    {"name": "Tresor Club", "city": "Berlin", "address": "Köpenicker Str. 70, 10179 Berlin",
     "latitude": 52.5104, "longitude": 13.4197, "timezone": "Europe/Berlin", "venue_type": VenueType.CLUB,
     "template": "club", "params": {"floor_places": 900, "front_places": 200, "balcony_places": 150},
     "facilities": {"bar": True, "cloakroom": True}},
]

# Seat categories per event: (name, colour, price, sections it covers — None = the rest).
EVENTS = [
    {"title": "Hamlet — Lindenhof Ensemble", "venue": "Lindenhof Theater", "category": EventCategory.THEATER,
     "days": 21, "hours": 3,
     "description": "Shakespeare's tragedy in a new production, with live music.",
     "categories": [("Orchestra", "#2563eb", "69.00", ["Orchestra"]), ("Mezzanine", "#16a34a", "49.00", ["Mezzanine"]),
                    ("Balcony", "#d97706", "29.00", None)]},
    {"title": "Championship Final", "venue": "Olympia Arena", "category": EventCategory.SPORTS,
     "days": 35, "hours": 3,
     "description": "The season's final, live at the Olympia Arena.",
     "categories": [("Long side", "#dc2626", "120.00", "long"),
                    ("Standing floor", "#059669", "55.00", ["Standing floor"]),
                    ("Behind the goals", "#7c3aed", "65.00", None)]},
    {"title": "PyData Harbour 2027", "venue": "Harbour Conference Hall", "category": EventCategory.CONFERENCE,
     "days": 50, "hours": 8,
     "description": "Two tracks of talks on data engineering and machine learning.",
     "categories": [("Center block", "#0891b2", "249.00", ["Center"]), ("Standard", "#c026d3", "179.00", None)]},
    {"title": "Warehouse Nights — Techno Open Air", "venue": "Tresor Club", "category": EventCategory.CONCERT,
     "days": 28, "hours": 8,
     "description": "All night long on three floors. General admission: pick how many tickets, no seat map.",
     "categories": [("Front of stage", "#e11d48", "45.00", ["Front of stage"]),
                    ("General admission", "#0f766e", "30.00", None)]},
]


# Category colours earlier demos used that look like a seat status (events.colours).
OLD_CLASHING_COLOURS = ["#4b5563"]


def _demo_sales_rules(event, *, now):
    """Sales waves for every category (Early Bird: 50 seats or one week, then Standard at the base
    price, Last Chance +20% in the final two days) and a cancellation policy with a fee."""
    for category in event.categories.all():
        early, last = (category.price * factor for factor in (Decimal("0.8"), Decimal("1.2")))
        PricingTier.objects.create(category=category, name="Early Bird", price=early.quantize(Decimal("1")),
                                   available_until=now + timedelta(days=7), quota=50, position=0)
        PricingTier.objects.create(category=category, name="Standard", price=category.price,
                                   available_until=event.starts_at - timedelta(days=2), position=1)
        PricingTier.objects.create(category=category, name="Last Chance", price=last.quantize(Decimal("1")),
                                   position=2)
    CancellationPolicy.objects.create(event=event, deadline_hours=48, fee_fixed=Decimal("2.00"),
                                      fee_percent=Decimal("10"), notes="Refunds reach your card within 5 days.")


class Command(BaseCommand):
    help = "Create demo venues, events on sale and the users organizer and door (idempotent)."

    def handle(self, *args, **options):
        with transaction.atomic():
            organizer, door = self._users()
            venues = {spec["name"]: self._venue(spec, organizer) for spec in VENUES}
            for spec in EVENTS:
                self._event(spec, venues[spec["venue"]], organizer)
            self._door_staff(door)
        catalogue_seed(organizer=organizer, size=settings.DEMO_CATALOGUE_EVENTS, stdout=self.stdout)
        self._venue_bookings(organizer)  # outside the transaction: paying a deposit calls the payment provider
        catalogue_sales(seller=organizer, stdout=self.stdout)
        event_summaries_tick()  # search's counts, prices and trending ready before the first visitor
        self.stdout.write(self.style.SUCCESS("Demo data ready."))

    def _venue_bookings(self, organizer):
        """The demo theater booked for Hamlet (setup, teardown, add-ons, deposit paid); idempotent."""
        event = Event.objects.filter(title=EVENTS[0]["title"]).select_related("venue").first()
        if event is None or VenueBooking.objects.filter(event=event).exists():
            return
        try:
            booking = venue_booking_request(
                venue=event.venue, event=event, title=event.title, start=event.starts_at, end=event.ends_at,
                setup_hours=24, teardown_hours=6, organizer=organizer, rental_fee=Decimal("4000.00"),
                deposit_amount=Decimal("1000.00"))
        except VenueBookingConflict:
            return
        venue_booking_add_on_add(booking_id=booking.pk, type="av", description="Sound desk and lighting rig",
                                 cost=Decimal("1850.00"))
        venue_booking_add_on_add(booking_id=booking.pk, type="catering", description="Interval bar staff",
                                 cost=Decimal("620.00"))
        venue_booking_pay_deposit(booking_id=booking.pk, payment_token="tok_ok")
        self.stdout.write(f"  venue booking: {booking.title} at {event.venue.name} (confirmed)")

    def _users(self):
        password = settings.DEMO_PASSWORD
        organizers, _ = Group.objects.get_or_create(name="Organizers")
        organizers.permissions.set(
            Permission.objects.filter(content_type__app_label__in=["venues", "events", "ticketing", "checkin"])
        )
        door_staff, _ = Group.objects.get_or_create(name="Door staff")
        organizer, created = User.objects.get_or_create(
            username="organizer", defaults={"is_staff": True, "email": "organizer@example.com"}
        )
        if created:
            organizer.set_password(password)
            organizer.save()
        organizer.groups.add(organizers)
        door, created = User.objects.get_or_create(username="door", defaults={"email": "door@example.com"})
        if created:
            door.set_password(password)
            door.save()
        door.groups.add(door_staff)
        return organizer, door

    def _door_staff(self, door):
        """`door` scans at every demo event, and doors are open now so the check-in page can be tried."""
        now = timezone.now()
        for event in Event.objects.filter(title__in=[spec["title"] for spec in EVENTS]):
            DoorAssignment.objects.get_or_create(user=door, event=event)
            DoorSchedule.objects.get_or_create(event=event, defaults={"doors_open_at": now - timedelta(hours=1)})

    def _venue(self, spec, organizer):
        """The demo organizer's own venues (so the demo shows venue editing too)."""
        venue, created = Venue.objects.get_or_create(
            name=spec["name"],
            defaults={"organizer": organizer, **{key: spec[key] for key in
                      ("city", "address", "latitude", "longitude", "timezone", "venue_type", "facilities")}},
        )
        if created or not venue.sections.exists():
            venue_build_from_template(venue=venue, template=spec["template"], params=spec["params"])
            self.stdout.write(f"  venue {venue.name}: {venue.capacity} places")
        return venue

    def _event(self, spec, venue, organizer):
        if Event.objects.filter(title=spec["title"], venue=venue).exists():
            # Demo databases from before issue 17 drew the conference's Standard seats in the "sold" grey.
            for name, colour, _, _ in spec["categories"]:
                SeatCategory.objects.filter(event__title=spec["title"], event__venue=venue, name=name).exclude(
                    colour=colour).filter(colour__in=OLD_CLASHING_COLOURS).update(colour=colour)
            return
        now = timezone.now()
        starts_at = (now + timedelta(days=spec["days"])).replace(hour=18, minute=0, second=0, microsecond=0)
        event = Event.objects.create(
            organizer=organizer, venue=venue, title=spec["title"], description=spec["description"],
            category=spec["category"], status=EventStatus.ON_SALE, starts_at=starts_at,
            ends_at=starts_at + timedelta(hours=spec["hours"]), sales_open_at=now - timedelta(days=1),
            sales_close_at=starts_at, single_seat_rule=True,
        )
        sections = list(venue.sections.order_by("position"))
        mapping = {}
        for position, (name, colour, price, covers) in enumerate(spec["categories"]):
            category = SeatCategory.objects.create(event=event, name=name, colour=colour, price=Decimal(price),
                                                   position=position)
            for section in sections:
                if section.pk in mapping:
                    continue
                if covers is None or (isinstance(covers, list) and section.name in covers) \
                        or (covers == "long" and section.name[0] in "13"):
                    mapping[section.pk] = category.pk
        created = event_inventory_create(event=event, section_categories=mapping)
        _demo_sales_rules(event, now=now)
        places = sum(EventArea.objects.filter(event=event).values_list("capacity", flat=True))
        standing = f" and {places} general-admission places" if places else ""
        self.stdout.write(f"  event {event.title}: {created} seats{standing} on sale")
