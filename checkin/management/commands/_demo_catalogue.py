"""The demo's catalogue: a few hundred events in nine cities, so search, filters, near-me and trending
have something to find. Deterministic (a seeded random generator) and idempotent; built with a handful
of bulk statements, so it adds seconds, not minutes, to `make run`.

Venues are small (40–120 seats) and sit at real coordinates in their cities; dates spread over the next
five months at local evening (or, for families, afternoon) times; prices vary by category. Some events
sell seats at the box office as the demo starts — real paid bookings with tickets — so trending,
"few seats left" and "sold out" have data from the first minute.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.db import connection, transaction
from django.utils import timezone

from events.models import Event, EventCategory, EventStatus, PricingTier, SeatCategory
from events.services import event_status_refresh
from ticketing.models import BoxOfficeSale, EventSeat
from ticketing.services.blocking import seats_block
from ticketing.services.bookings import Customer
from ticketing.services.boxoffice import boxoffice_sell
from venues.models import Venue, VenueType
from venues.services import venue_build_from_template

SEED = 2026

# (city, time zone, [(venue, latitude, longitude, template)]) — coordinates of real places in each city.
CITIES = [
    ("Berlin", "Europe/Berlin", [("Spreeufer Club", 52.5005, 13.4430, "club"),
                                 ("Kiezbühne Kreuzberg", 52.4986, 13.4187, "theater")]),
    ("Munich", "Europe/Berlin", [("Isar Kammerspiele", 48.1374, 11.5755, "theater"),
                                 ("Schwabing Jazzkeller", 48.1620, 11.5860, "club")]),
    ("Hamburg", "Europe/Berlin", [("Elbufer Music Hall", 53.5413, 9.9841, "hall"),
                                  ("St. Pauli Lachbühne", 53.5497, 9.9633, "club")]),
    ("Köln", "Europe/Berlin", [("Rheinhalle Köln", 50.9413, 6.9583, "hall"),
                               ("Südstadt Theater", 50.9219, 6.9578, "theater")]),
    ("Frankfurt", "Europe/Berlin", [("Mainufer Forum", 50.1075, 8.6840, "hall"),
                                    ("Bockenheim Bühne", 50.1197, 8.6485, "club")]),
    ("Vienna", "Europe/Vienna", [("Donau Konzertsaal", 48.2100, 16.3800, "hall"),
                                 ("Theater am Naschmarkt", 48.1983, 16.3625, "theater")]),
    ("Zürich", "Europe/Zurich", [("Limmat Saal", 47.3780, 8.5400, "hall"),
                                 ("Kreis 5 Keller", 47.3880, 8.5180, "club")]),
    ("Amsterdam", "Europe/Amsterdam", [("Grachtenzaal", 52.3702, 4.8900, "hall"),
                                       ("Noord Podium", 52.3840, 4.9020, "club")]),
    ("London", "Europe/London", [("Southbank Studio", 51.5065, -0.1160, "theater"),
                                 ("Camden Cellar", 51.5390, -0.1426, "club")]),
]

TEMPLATES = {
    "club": ("conference", {"rows": 4, "seats_per_block": 6, "blocks": 2}, VenueType.OTHER),
    "hall": ("conference", {"rows": 6, "seats_per_block": 7, "blocks": 3}, VenueType.CONFERENCE),
    "theater": ("theater", {"orchestra_rows": 4, "mezzanine_rows": 2, "balcony_rows": 2, "seats_per_row": 9,
                            "row_growth": 1, "wheelchair_spaces": 2}, VenueType.THEATER),
}

# Which venue kinds each category plays in, its price range (euros), local start times and hours.
CATEGORY_RULES = {
    EventCategory.CONCERT: (("club", "hall"), (18, 95), ("19:30", "20:00", "21:00"), 3),
    EventCategory.THEATER: (("theater",), (15, 79), ("19:00", "19:30"), 3),
    EventCategory.COMEDY: (("club", "theater"), (12, 39), ("20:00", "20:30"), 2),
    EventCategory.SPORTS: (("hall",), (15, 60), ("15:30", "18:00", "19:00"), 2),
    EventCategory.CONFERENCE: (("hall",), (49, 399), ("09:00",), 8),
    EventCategory.FAMILY: (("theater", "hall"), (8, 25), ("11:00", "15:00"), 2),
    EventCategory.OTHER: (("club", "hall"), (10, 45), ("18:00", "19:00"), 3),
}

TITLES = {
    EventCategory.CONCERT: [
        "The Midnight Owls", "Lena Vogel", "Blue Harbour Quartet", "Nordlicht", "Sofía Álvarez Trio",
        "Brass Attack", "The Velvet Foxes", "Jazz at Nightfall", "Kammerorchester Süd", "Electric Tundra",
        "Zoë & the Zeppelins", "Mariachi Sol", "Dvořák Evening", "Bach by Candlelight", "Rocket Garage",
        "Anouk de Vries", "The Quiet Storms", "Big Band Blast", "Fado Nights", "Synthwave Society",
    ],
    EventCategory.THEATER: [
        "Hamlet", "Faust I", "Die Dreigroschenoper", "A Midsummer Night's Dream", "Macbeth", "Romeo und Julia",
        "Der Besuch der alten Dame", "Waiting for Godot", "Cyrano de Bergerac", "La Traviata", "Don Giovanni",
        "The Importance of Being Earnest", "Woyzeck", "Peer Gynt", "Medea", "The Seagull",
    ],
    EventCategory.COMEDY: [
        "Stand-up Night", "Improv Jam", "Open Mic Comedy", "Late Laughs", "Comedy Roulette",
        "Kabarett am Abend", "The Pun Slingers", "Sketch Show Live",
    ],
    EventCategory.SPORTS: [
        "Basketball: Harbour Hawks vs Alpine Bears", "Handball Derby", "Ice Hockey: Eisbären vs Löwen",
        "Table Tennis Masters", "Volleyball Cup Semi-final", "Futsal Night", "Boxing: Title Fight Night",
    ],
    EventCategory.CONFERENCE: [
        "PyData Meetup", "Data Engineering Day", "Frontend Summit", "DevOps Days", "Product Camp",
        "AI in Practice", "Postgres Conference", "Security Forum", "Green Tech Summit",
    ],
    EventCategory.FAMILY: [
        "Zirkus Fantastico", "The Gruffalo on Stage", "Kasperl Puppet Theatre", "Science Show for Kids",
        "Magic Matinee", "Dinosaur Discovery", "Pippi Longstocking", "Fairy-tale Concert",
    ],
    EventCategory.OTHER: [
        "Wine Tasting: Riesling & Grüner Veltliner", "Vinyl Market", "Poetry Slam", "Photography Walk & Talk",
        "Craft Beer Festival", "Silent Disco", "Book Launch & Reading",
    ],
}

DESCRIPTIONS = {
    EventCategory.CONCERT: [
        "An evening of {genre} with a full band and guests, in the intimate room of {venue}.",
        "{genre} live: new songs and old favourites, with a support act from {city}.",
        "The tour stops in {city} for one night only. Expect {genre}, lights and a sing-along encore.",
    ],
    EventCategory.THEATER: [
        "A new production of the classic, with live music and a young ensemble.",
        "The {city} ensemble's acclaimed staging returns for a few nights, in the original language with surtitles.",
        "A bold, stripped-back version of the play: two hours, no interval.",
    ],
    EventCategory.COMEDY: [
        "Five comedians, one host, no mercy. Stand-up and improvisation in {city}.",
        "The funniest night of the month: sketches, songs and audience suggestions.",
    ],
    EventCategory.SPORTS: [
        "League match at {venue}: doors open an hour before the start, family seats available.",
        "The season's big fixture in {city}, live and loud.",
    ],
    EventCategory.CONFERENCE: [
        "Talks and workshops on {topic}, with lunch and an evening meetup.",
        "One day, two tracks: practitioners share what worked (and what did not) with {topic}.",
    ],
    EventCategory.FAMILY: [
        "A show for children from four years and their grown-ups: songs, puppets and plenty of laughter.",
        "Hands-on fun for the whole family in {city}; short enough for small children.",
    ],
    EventCategory.OTHER: [
        "Meet, taste and talk: an evening at {venue} for the curious.",
        "Something different for a free evening in {city}.",
    ],
}
GENRES = ["jazz", "rock", "classical music", "folk", "electronic music", "pop", "soul", "chamber music", "indie"]
TOPICS = ["data engineering", "machine learning", "web performance", "databases", "security", "cloud costs"]


def catalogue_seed(*, organizer, size: int, stdout) -> int:
    """Create the catalogue (once); returns how many events it created."""
    if size <= 0 or Venue.objects.filter(name=CITIES[0][2][0][0]).exists():
        return 0
    rng = random.Random(SEED)
    with transaction.atomic():
        venues = _venues()
        events = _events(rng, organizer=organizer, venues=venues, size=size)
        _inventory(events)
    stdout.write(f"  catalogue: {len(venues)} venues in {len(CITIES)} cities, {len(events)} events")
    return len(events)


def _venues() -> list[tuple[Venue, str]]:
    venues = []
    for city, zone, specs in CITIES:
        for name, latitude, longitude, kind in specs:
            template, params, venue_type = TEMPLATES[kind]
            venue = Venue.objects.create(name=name, city=city, latitude=latitude, longitude=longitude, timezone=zone,
                                         venue_type=venue_type, address=f"{name}, {city}")
            venue_build_from_template(venue=venue, template=template, params=params)
            venues.append((venue, kind))
    return venues


def _events(rng: random.Random, *, organizer, venues, size: int) -> list[Event]:
    now = timezone.now()
    categories = list(CATEGORY_RULES)
    weights = [6, 4, 2, 2, 1, 2, 1]
    planned = []
    for index in range(size):
        category = rng.choices(categories, weights)[0]
        kinds, (low, high), times, hours = CATEGORY_RULES[category]
        venue, kind = rng.choice([(venue, kind) for venue, kind in venues if kind in kinds])
        zone = ZoneInfo(venue.timezone)
        day = (now.astimezone(zone) + timedelta(days=1 + (index * 150) // size + rng.randint(0, 4))).date()
        hour, minute = map(int, rng.choice(times).split(":"))
        starts_at = datetime(day.year, day.month, day.day, hour, minute, tzinfo=zone)
        title = rng.choice(TITLES[category])
        if category == EventCategory.CONCERT:
            title = f"{title} {rng.choice(['Live', 'in Concert', 'Unplugged', '— Farewell Tour', '& Friends'])}"
        elif category == EventCategory.CONFERENCE:
            title = f"{title} {venue.city} {starts_at.year}"
        description = rng.choice(DESCRIPTIONS[category]).format(
            genre=rng.choice(GENRES), topic=rng.choice(TOPICS), venue=venue.name, city=venue.city)
        base = Decimal(rng.randint(low, high))
        planned.append((kind, Event(
            organizer=organizer, venue=venue, title=title, description=description, category=category,
            status=EventStatus.ON_SALE, starts_at=starts_at, ends_at=starts_at + timedelta(hours=hours),
            sales_open_at=now - timedelta(days=3), sales_close_at=starts_at,
        ), base, rng.random() < 0.3))
    events = Event.objects.bulk_create([event for _, event, _, _ in planned])
    seat_categories, early_birds = [], []
    for kind, event, base, _ in planned:
        if kind == "theater":
            names = [("Stalls", "#2563eb", base), ("Circle", "#16a34a", (base * Decimal("0.7")).quantize(1))]
        else:
            names = [("Standard", "#0d9488", base)]
        for position, (name, colour, price) in enumerate(names):
            seat_categories.append(SeatCategory(event=event, name=name, colour=colour, price=price, position=position))
    SeatCategory.objects.bulk_create(seat_categories)
    early = {event.pk for _, event, _, has_early_bird in planned if has_early_bird}
    for category in seat_categories:
        if category.event_id in early:
            early_birds.append(PricingTier(category=category, name="Early Bird", quota=10, position=0,
                                           price=(category.price * Decimal("0.8")).quantize(Decimal("1")),
                                           available_until=category.event.starts_at - timedelta(days=14)))
    PricingTier.objects.bulk_create(early_birds)
    return events


def _inventory(events: list[Event]) -> None:
    """Every seat of each event's venue on sale: theaters' orchestra as Stalls, the rest as the other category."""
    with connection.cursor() as cursor:
        cursor.execute("""
            INSERT INTO ticketing_eventseat (event_id, seat_id, category_id, status, hold_owner, version)
            SELECT event.id, seat.id,
                   coalesce(CASE WHEN section.name = 'Orchestra' THEN first.id END, last.id), 'available', '', 0
              FROM events_event event
              JOIN venues_seat seat ON seat.venue_id = event.venue_id
              JOIN venues_section section ON section.id = seat.section_id
              JOIN LATERAL (SELECT id FROM events_seatcategory WHERE event_id = event.id
                             ORDER BY position LIMIT 1) AS first ON true
              JOIN LATERAL (SELECT id FROM events_seatcategory WHERE event_id = event.id
                             ORDER BY position DESC LIMIT 1) AS last ON true
             WHERE event.id = ANY(%s)
        """, [[event.pk for event in events]])


def catalogue_sales(*, seller, stdout) -> int:
    """Box-office sales for some catalogue events (once), so trending and the availability badges show:
    two events sold out and four nearly (the organizer holds the other seats back — blocked), and a
    handful of tickets for eighteen more. Returns the number of bookings (one e-mail each, in var/mail)."""
    venue_names = [name for _, _, specs in CITIES for name, _, _, _ in specs]
    events = list(Event.objects.filter(venue__name__in=venue_names).order_by("starts_at", "id"))
    if not events or BoxOfficeSale.objects.filter(booking__event__in=events).exists():
        return 0
    rng = random.Random(SEED + 1)
    chosen = rng.sample(events, k=min(24, len(events)))
    customer = Customer(name="Box office (demo)", email="box-office-demo@example.com")
    with transaction.atomic():  # one commit for all of them: the demo starts faster
        for position, event in enumerate(chosen):
            _sell(event, position, rng=rng, customer=customer, seller=seller)
    stdout.write(f"  catalogue sales: {len(chosen)} box-office bookings")
    return len(chosen)


def _sell(event: Event, position: int, *, rng: random.Random, customer, seller) -> None:
    """Positions 0–1 sell out, 2–5 keep a few seats, the rest sell 1–8 tickets."""
    free = list(EventSeat.objects.filter(event=event, status="available").order_by("id").values_list("id", flat=True))
    sell = rng.randint(4, 8) if position < 6 else rng.randint(1, 8)
    keep_free = 0 if position < 2 else rng.randint(2, 6) if position < 6 else len(free)
    if position < 6:
        seats_block(event_id=event.pk, seat_ids=free[sell + keep_free:])
    boxoffice_sell(event_id=event.pk, seat_ids=free[:sell], customer=customer, method="cash", sold_by=seller)
    event_status_refresh(event_id=event.pk)
