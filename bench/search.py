"""Search speed on a catalogue of 100,000 events: typical queries through the whole Django request cycle.

    make bench-search                                   # the bench's embedded Postgres/Redis (var/bench)
    make bench-search BENCH_ARGS="--events 100000 --rounds 40"

The catalogue lives in its own database, `evently_bench_search` on the bench's Postgres (or, with DATABASE_URL
set, `<its name>_bench_search` on that server), created and migrated on first use, then reused: 100,000 events
in 60 cities at 2,000 venues, a year of dates, titles and descriptions from pools of names and sentence patterns
(a genre or a title matches a few percent of events, as in a real catalogue), summaries with prices and free
seats, and a day of sales for trending. Events have no seat rows: search never reads them
(tests/discovery/test_summaries.py); the summaries are what a catalogue that size would have. Each query runs
`--rounds` times in shuffled order through Django's test client (URL routing, middleware, sessions, the API
view, JSON) in this process, after one warm-up round. Writes p50/p95/p99 per query and over all to
bench/results/search.json. The machine may be shared: the load average is recorded with the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

BASE_DIR = Path(__file__).resolve().parent.parent
RESULTS = BASE_DIR / "bench" / "results"

QUERIES = {
    "browse: all, by date": "",
    "browse: a city": "city=Berlin",
    "browse: category + city + dates": "category=concert&city=Hamburg&date_from={d30}&date_to={d90}",
    "text: one common word": "q=jazz",
    "text: two words": "q=jazz+berlin",
    "text: a title": "q=hamlet",
    "text: prefix while typing (3 letters)": "q=ham",
    "text: prefix while typing (5 letters)": "q=beeth",
    "text: typo": "q=hamlte",
    "text: short-word typo": "q=jaz+piano",
    "text: rare word": "q=zeppelin",
    "text + filters: price, available, category": "q=live&category=concert,other&price_max=60&available=1",
    "text: a broad word (a third of all events)": "q=live",
    "near me: 25 km, by distance": "near=52.52,13.40&radius_km=25&sort=distance",
    "price: cheapest first, available": "sort=price&available=1",
    "trending: all cities": "sort=trending",
    "trending: a city": "sort=trending&city=Munich",
    "deep page (50)": "page=50",
    "instant results box (6)": "q=hamle&page_size=6",
}

CITIES = [  # name, time zone, latitude, longitude
    ("Berlin", "Europe/Berlin", 52.52, 13.405), ("Hamburg", "Europe/Berlin", 53.551, 9.994),
    ("Munich", "Europe/Berlin", 48.135, 11.582), ("Köln", "Europe/Berlin", 50.938, 6.960),
    ("Frankfurt", "Europe/Berlin", 50.110, 8.682), ("Stuttgart", "Europe/Berlin", 48.776, 9.183),
    ("Düsseldorf", "Europe/Berlin", 51.228, 6.774), ("Leipzig", "Europe/Berlin", 51.340, 12.375),
    ("Dresden", "Europe/Berlin", 51.050, 13.738), ("Nürnberg", "Europe/Berlin", 49.452, 11.077),
    ("Vienna", "Europe/Vienna", 48.208, 16.374), ("Graz", "Europe/Vienna", 47.071, 15.439),
    ("Salzburg", "Europe/Vienna", 47.809, 13.055), ("Zürich", "Europe/Zurich", 47.377, 8.542),
    ("Basel", "Europe/Zurich", 47.560, 7.589), ("Geneva", "Europe/Zurich", 46.204, 6.143),
    ("Amsterdam", "Europe/Amsterdam", 52.368, 4.904), ("Rotterdam", "Europe/Amsterdam", 51.924, 4.478),
    ("Utrecht", "Europe/Amsterdam", 52.091, 5.122), ("Brussels", "Europe/Brussels", 50.850, 4.352),
    ("Antwerp", "Europe/Brussels", 51.219, 4.402), ("Paris", "Europe/Paris", 48.857, 2.352),
    ("Lyon", "Europe/Paris", 45.764, 4.836), ("Marseille", "Europe/Paris", 43.296, 5.370),
    ("London", "Europe/London", 51.507, -0.128), ("Manchester", "Europe/London", 53.481, -2.243),
    ("Edinburgh", "Europe/London", 55.953, -3.189), ("Dublin", "Europe/Dublin", 53.350, -6.260),
    ("Copenhagen", "Europe/Copenhagen", 55.676, 12.568), ("Stockholm", "Europe/Stockholm", 59.329, 18.069),
    ("Oslo", "Europe/Oslo", 59.914, 10.752), ("Helsinki", "Europe/Helsinki", 60.170, 24.938),
    ("Warsaw", "Europe/Warsaw", 52.230, 21.012), ("Kraków", "Europe/Warsaw", 50.065, 19.945),
    ("Prague", "Europe/Prague", 50.076, 14.438), ("Brno", "Europe/Prague", 49.195, 16.607),
    ("Budapest", "Europe/Budapest", 47.498, 19.040), ("Ljubljana", "Europe/Ljubljana", 46.056, 14.506),
    ("Milan", "Europe/Rome", 45.464, 9.190), ("Rome", "Europe/Rome", 41.903, 12.496),
    ("Turin", "Europe/Rome", 45.070, 7.687), ("Bologna", "Europe/Rome", 44.494, 11.343),
    ("Madrid", "Europe/Madrid", 40.417, -3.704), ("Barcelona", "Europe/Madrid", 41.385, 2.173),
    ("Valencia", "Europe/Madrid", 39.470, -0.376), ("Seville", "Europe/Madrid", 37.389, -5.984),
    ("Lisbon", "Europe/Lisbon", 38.722, -9.139), ("Porto", "Europe/Lisbon", 41.158, -8.629),
    ("Athens", "Europe/Athens", 37.984, 23.728), ("Bucharest", "Europe/Bucharest", 44.427, 26.103),
    ("Sofia", "Europe/Sofia", 42.698, 23.322), ("Zagreb", "Europe/Zagreb", 45.815, 15.982),
    ("Bratislava", "Europe/Bratislava", 48.149, 17.107), ("Tallinn", "Europe/Tallinn", 59.437, 24.754),
    ("Riga", "Europe/Riga", 56.950, 24.105), ("Vilnius", "Europe/Vilnius", 54.687, 25.280),
    ("Gothenburg", "Europe/Stockholm", 57.709, 11.975), ("Aarhus", "Europe/Copenhagen", 56.163, 10.204),
    ("Bergen", "Europe/Oslo", 60.391, 5.322), ("Innsbruck", "Europe/Vienna", 47.269, 11.404),
]

# Text like a real catalogue's: names and titles from pools, descriptions from sentence patterns whose words come
# from a vocabulary of several hundred, so a genre or a title matches a few percent of events, not a third.
FIRST = ("Lena", "Jonas", "Sofía", "Anouk", "Mats", "Zoë", "Ines", "Tomás", "Greta", "Yusuf", "Maja", "Elif", "Noah",
         "Clara", "Björn", "Aurélie", "Piotr", "Hana", "Marco", "Freya", "Luca", "Amira", "Oskar", "Nina", "Jules")
LAST = ("Vogel", "de Vries", "Álvarez", "Nowak", "Lindqvist", "Moreau", "Rossi", "Keller", "Novák", "Dubois",
        "Schmidt", "Kowalski", "Jansen", "Horváth", "Petrov", "Costa", "Berg", "Weiss", "Müller", "Fontaine")
BANDS = ("Midnight Owls", "Blue Harbour", "Nordlicht", "Brass Attack", "Velvet Foxes", "Rocket Garage",
         "Quiet Storms", "Electric Tundra", "Zeppelin Kids", "Mariachi Sol", "Paper Lanterns", "Iron Tulips",
         "Static Bloom", "Golden Hour", "Neon Harbour", "Silver Maple", "Salt & Smoke", "Glass Animals Tribute",
         "Wild Orchids", "Northern Lights Orchestra", "Kammerorchester Süd", "Fado Nights", "Jazzkantine")
GENRES = ("jazz", "blues", "soul", "funk", "rock", "punk", "metal", "indie", "folk", "country", "pop", "electronic",
          "techno", "house", "ambient", "hip-hop", "reggae", "ska", "latin", "salsa", "tango", "flamenco", "fado",
          "klezmer", "gospel", "chanson", "baroque", "romantic", "contemporary", "minimal", "chamber", "choral",
          "symphonic", "opera", "operetta", "musical", "swing", "bebop", "bluegrass", "synthwave", "dub", "afrobeat")
COMPOSERS = ("Beethoven", "Mozart", "Bach", "Brahms", "Schubert", "Chopin", "Dvořák", "Mahler", "Vivaldi", "Händel",
             "Tchaikovsky", "Sibelius", "Grieg", "Debussy", "Ravel", "Bartók", "Schumann", "Haydn", "Liszt", "Verdi")
SHOWS = ("Hamlet", "Faust", "Macbeth", "Romeo und Julia", "Die Dreigroschenoper", "Waiting for Godot", "Medea",
         "The Seagull", "Cyrano de Bergerac", "La Traviata", "Don Giovanni", "Carmen", "Tosca", "Peer Gynt",
         "Woyzeck", "A Midsummer Night's Dream", "The Importance of Being Earnest", "Les Misérables", "King Lear",
         "Othello", "The Tempest", "Nathan der Weise", "Maria Stuart", "Die Räuber", "Antigone", "Oedipus",
         "Three Sisters", "Uncle Vanya", "A Doll's House", "Hedda Gabler", "Death of a Salesman", "Our Town",
         "The Cherry Orchard", "Mother Courage", "Equus", "Arcadia", "Rigoletto", "Aida", "Fidelio", "Salome")
EXTRAS = {
    "comedy": ("Stand-up Night", "Improv Jam", "Kabarett", "Comedy Roulette", "Late Laughs", "Sketch Show",
               "Open Mic", "Satire Evening", "Clown Cabaret", "Roast Battle"),
    "sports": ("Basketball", "Handball", "Ice Hockey", "Volleyball", "Futsal", "Boxing", "Table Tennis",
               "Water Polo", "Floorball", "Badminton"),
    "conference": ("Data Engineering Day", "Frontend Summit", "DevOps Days", "Product Camp", "Security Forum",
                   "Green Tech Summit", "Postgres Conference", "UX Meetup", "Cloud Native Day", "AI in Practice"),
    "family": ("Zirkus Fantastico", "Puppet Theatre", "Science Show", "Magic Matinee", "Dinosaur Discovery",
               "Fairy-tale Concert", "Pirate Adventure", "Little Orchestra", "Robot Workshop", "Storytime Live"),
    "other": ("Wine Tasting", "Vinyl Market", "Poetry Slam", "Photography Walk", "Craft Beer Festival",
              "Silent Disco", "Book Reading", "Film Night", "Food Market", "Design Fair", "Tango Milonga"),
}
TEAMS = ("Hawks", "Bears", "Wolves", "Lions", "Eagles", "Sharks", "Foxes", "Owls", "Rams", "Tigers", "Falcons")
SUFFIXES = ("Live", "in Concert", "Unplugged", "Farewell Tour", "& Friends", "Gala", "Matinee", "Premiere",
            "Special", "Reunion", "Anniversary Show", "Late Show", "Summer Edition", "Winter Edition")
ADJECTIVES = ("intimate", "spectacular", "acclaimed", "award-winning", "legendary", "fresh", "daring", "moving",
              "joyful", "raw", "elegant", "wild", "tender", "brilliant", "unforgettable", "playful", "haunting",
              "bold", "classic", "modern", "experimental", "cosy", "festive", "late-night", "open-air")
INSTRUMENTS = ("piano", "guitar", "violin", "cello", "trumpet", "saxophone", "drums", "double bass", "harp",
               "accordion", "organ", "clarinet", "flute", "synthesizers", "turntables", "voice", "choir", "strings")
PLACES = ("the main hall", "the courtyard", "the cellar bar", "the garden stage", "the rooftop", "the old chapel",
          "the harbour terrace", "the small studio", "the foyer", "the riverside tent")
TOPICS = ("data pipelines", "machine learning", "web performance", "databases", "security", "cloud costs",
          "accessibility", "design systems", "observability", "open source", "climate tech", "product strategy")
EXTRA_WORDS = ("tickets", "doors", "bar", "food", "drinks", "wheelchair", "accessible", "family", "discount",
               "students", "premiere", "encore", "support", "guests", "dance", "floor", "seated", "standing",
               "surtitles", "english", "german", "french", "interval", "cloakroom", "parking", "tram", "merch")
SENTENCES = {
    "concert": ("An {adj} evening of {genre} with {instrument} and {instrument2}, in {place}.",
                "{Adj} {genre} live: new songs and old favourites, with {guest} as support.",
                "The tour stops in {city} for one night. Expect {genre}, {adj2} lights and an encore.",
                "{composer} and {composer2} played by a {adj} ensemble: {instrument}, {instrument2} and more."),
    "theater": ("A {adj} new production, with live {instrument} and a young ensemble.",
                "The {adj} staging returns to {city}, in the original language with surtitles.",
                "A {adj2}, stripped-back version of the classic: two hours, no interval."),
    "comedy": ("Five comedians, one host, {adj} improvisation and {adj2} sketches in {place}.",
               "The {adj} comedy night of the month: songs, satire and audience suggestions."),
    "sports": ("{team} against {team2}: a {adj} derby in {city}, family seats available.",
               "The season's {adj} fixture: doors open an hour before, food and drinks in {place}."),
    "conference": ("Talks and workshops on {topic} and {topic2}, with lunch and an evening meetup.",
                   "One day, two tracks: practitioners share what worked with {topic}."),
    "family": ("A {adj} show for children from four and their grown-ups: songs, puppets and {instrument}.",
               "Hands-on, {adj2} fun for the whole family in {place}; short enough for small children."),
    "other": ("Meet, taste and talk: a {adj} evening in {place} for the curious.",
              "Something {adj2} for a free evening in {city}: {genre} on the turntables."),
}
def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=40)
    parser.add_argument("--output", default=str(RESULTS / "search.json"))
    args = parser.parse_args()

    from bench import harness
    from evently.embedded import embedded_services

    with embedded_services(harness.BENCH_VAR_DIR) as env:
        os.environ.update(env)
        os.environ["DATABASE_URL"] = _bench_database(env["DATABASE_URL"])
        os.environ.setdefault("TRENDING_KEY_PREFIX", "bench-search:trending")
        harness.django_setup()
        from django.core.management import call_command

        call_command("migrate", "--noinput", verbosity=0)
        _generate(args.events)
        _measure(args)


def _bench_database(url: str) -> str:
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/") + "_bench_search"
    admin = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(_libpq(admin), autocommit=True) as connection:
        exists = connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            connection.execute(f'CREATE DATABASE "{name}"')
    return urlunsplit(parts._replace(path="/" + name))


def _libpq(url: str) -> str:
    import dj_database_url

    config = dj_database_url.parse(url)
    fields = {"dbname": config["NAME"], "user": config.get("USER"), "password": config.get("PASSWORD"),
              "host": config.get("HOST"), "port": config.get("PORT")}
    return " ".join(f"{key}='{value}'" for key, value in fields.items() if value)


def _generate(count: int) -> None:
    from django.contrib.auth.models import User
    from django.db import connection, transaction

    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM events_event")
        existing = cursor.fetchone()[0]
    if existing >= count:
        print(f"catalogue: {existing:,} events already there")
        return
    started = time.monotonic()
    rng = random.Random(2026)
    organizer, _ = User.objects.get_or_create(username="bench-organizer")
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM venues_venue")
        if cursor.fetchone()[0] == 0:
            venues = []
            for index in range(2000):
                city, zone, latitude, longitude = CITIES[index % len(CITIES)]
                venues.append((f"{rng.choice(['Halle', 'Saal', 'Club', 'Theater', 'Arena', 'Forum', 'Keller'])} "
                               f"{rng.choice(LAST)} {rng.choice(FIRST)} {index}", city, zone,
                               latitude + rng.uniform(-0.12, 0.12), longitude + rng.uniform(-0.18, 0.18)))
            cursor.executemany(
                "INSERT INTO venues_venue (name, address, city, timezone, latitude, longitude, capacity, venue_type,"
                " facilities, is_active, map_meta) VALUES (%s, '', %s, %s, %s, %s, 500, 'other', '{}', true, '{}')",
                venues)
        cursor.execute("SELECT id FROM venues_venue ORDER BY id")
        venue_ids = [row[0] for row in cursor.fetchall()]
        categories = ["concert"] * 5 + ["theater"] * 3 + ["comedy", "sports", "sports", "conference", "family",
                                                            "other", "other"]
        statuses = ["on_sale"] * 17 + ["sold_out", "published", "draft"]
        rows = []
        for _ in range(count - existing):
            category = rng.choice(categories)
            title, description = _text(rng, category)
            days = rng.uniform(0.5, 365)
            rows.append((organizer.pk, rng.choice(venue_ids), title, description, category, rng.choice(statuses),
                         days))
        with cursor.copy("COPY events_event (organizer_id, venue_id, title, description, category, status, "
                         "starts_at, ends_at, created_at, max_seats_per_order, cover_image) FROM STDIN") as copy:
            now = time.time()
            for organizer_id, venue_id, title, description, category, status, days in rows:
                starts = now + days * 86400
                copy.write_row((organizer_id, venue_id, title, description, category, status,
                                _timestamp(starts), _timestamp(starts + 3 * 3600), _timestamp(now), 10, ""))
        # What the summaries would say for such a catalogue: prices, and some events nearly or fully sold.
        cursor.execute("""
            INSERT INTO events_eventsummary (event_id, available_seats, held_seats, sold_seats, blocked_seats,
                                             min_price, max_price, updated_at)
            SELECT id, CASE WHEN random() < 0.08 THEN 0 ELSE (random() * 480)::int END, 0,
                   (random() * 200)::int, 0, price, price * (1 + (random() * 2)::int * 0.5), now()
              FROM (SELECT id, round((8 + random() * 150)::numeric, 0) AS price FROM events_event) AS priced
            ON CONFLICT (event_id) DO NOTHING""")
        cursor.execute("""
            INSERT INTO events_eventsaleshour (event_id, hour, tickets)
            SELECT id, date_trunc('hour', now() - (random() * interval '23 hours')), 1 + (random() * 40)::int
              FROM events_event WHERE status = 'on_sale' AND random() < 0.05
            ON CONFLICT DO NOTHING""")
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE events_event")
        cursor.execute("VACUUM ANALYZE venues_venue")
        cursor.execute("VACUUM ANALYZE events_eventsummary")
        cursor.execute("VACUUM ANALYZE events_searchterm")
    from events.summary import trending_rebuild

    trending_rebuild()
    print(f"catalogue: {count:,} events generated in {time.monotonic() - started:.0f} s")


def _text(rng: random.Random, category: str) -> tuple[str, str]:
    """A title and a description for an event of `category`."""
    if category == "concert":
        performer = rng.choice([f"{rng.choice(FIRST)} {rng.choice(LAST)}", rng.choice(BANDS),
                                f"{rng.choice(COMPOSERS)} {rng.choice(['Night', 'Recital', 'Cycle', 'Gala'])}"])
        title = f"{performer} {rng.choice(SUFFIXES)}"
    elif category == "theater":
        title = rng.choice(SHOWS) + rng.choice(["", "", "", f" — {rng.choice(SUFFIXES)}"])
    elif category == "sports":
        title = f"{rng.choice(EXTRAS['sports'])}: {rng.choice(TEAMS)} vs {rng.choice(TEAMS)}"
    else:
        title = f"{rng.choice(EXTRAS[category])} {rng.choice(SUFFIXES)}"
    city = rng.choice(CITIES)[0]
    words = {"adj": rng.choice(ADJECTIVES), "adj2": rng.choice(ADJECTIVES), "genre": rng.choice(GENRES),
             "instrument": rng.choice(INSTRUMENTS), "instrument2": rng.choice(INSTRUMENTS),
             "place": rng.choice(PLACES), "city": city, "topic": rng.choice(TOPICS), "topic2": rng.choice(TOPICS),
             "composer": rng.choice(COMPOSERS), "composer2": rng.choice(COMPOSERS), "team": rng.choice(TEAMS),
             "team2": rng.choice(TEAMS), "guest": f"{rng.choice(FIRST)} {rng.choice(LAST)}"}
    words["Adj"] = words["adj"].capitalize()
    sentences = [rng.choice(SENTENCES[category]).format(**words) for _ in range(2)]
    extra = " ".join(rng.sample(EXTRA_WORDS, 4)).capitalize() + "."
    return title, " ".join(sentences) + " " + extra


def _timestamp(epoch: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S+00", time.gmtime(epoch))


def _measure(args) -> None:
    from datetime import date, timedelta

    from django.db import connection
    from django.test import Client

    client = Client()
    today = date.today()
    queries = {name: query.format(d30=today + timedelta(days=30), d90=today + timedelta(days=90))
               for name, query in QUERIES.items()}
    timings: dict[str, list[float]] = {name: [] for name in queries}
    totals: dict[str, int] = {}
    for name, query in queries.items():  # warm-up: plans, caches, the first fold
        response = client.get("/api/events?" + query)
        assert response.status_code == 200, (name, response.content[:300])
        totals[name] = response.json()["total"]
    load_before = os.getloadavg()
    order = [name for name in queries for _ in range(args.rounds)]
    random.Random(7).shuffle(order)
    for name in order:
        started = time.perf_counter()
        response = client.get("/api/events?" + queries[name])
        timings[name].append(time.perf_counter() - started)
        assert response.status_code == 200
    load_after = os.getloadavg()
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM events_event")
        events = cursor.fetchone()[0]
        cursor.execute("SELECT count(*) FROM events_searchterm")
        vocabulary = cursor.fetchone()[0]
        cursor.execute("SHOW server_version")
        server_version = cursor.fetchone()[0]
    everything = [value for values in timings.values() for value in values]
    result = {
        "when": time.strftime("%Y-%m-%d %H:%M:%S"),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "postgres": server_version,
                    "load_average_before": [round(v, 2) for v in load_before],
                    "load_average_after": [round(v, 2) for v in load_after]},
        "catalogue": {"events": events, "vocabulary_words": vocabulary},
        "rounds": args.rounds,
        "overall_ms": _stats(everything),
        "queries": {name: {"query": queries[name], "total": totals[name], **_stats(values)}
                    for name, values in timings.items()},
    }
    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    Path(args.output).write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    width = max(len(name) for name in queries)
    print(f"{'query':<{width}}  {'total':>7}  {'p50':>6}  {'p95':>6}  {'p99':>6}  (ms)")
    for name, stats in result["queries"].items():
        print(f"{name:<{width}}  {stats['total']:>7}  {stats['p50']:>6}  {stats['p95']:>6}  {stats['p99']:>6}")
    overall = result["overall_ms"]
    print(f"{'all queries':<{width}}  {'':>7}  {overall['p50']:>6}  {overall['p95']:>6}  {overall['p99']:>6}")
    print(f"load average before/after: {load_before[0]:.1f} / {load_after[0]:.1f}; written to {args.output}")


def _stats(values: list[float]) -> dict:
    ordered = sorted(values)

    def at(fraction: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] * 1000, 1)

    return {"p50": at(0.5), "p95": at(0.95), "p99": at(0.99), "mean": round(statistics.fmean(ordered) * 1000, 1)}


if __name__ == "__main__":
    main()
