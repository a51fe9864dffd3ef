"""Discovery: full-text search over events, and the seat-count / price summaries search reads.

- Extensions `unaccent`, `pg_trgm` and `fuzzystrmatch` (typo tolerance); two text search configurations: `evently_search` (English stemming,
  accents removed) and `evently_names` (plain words, accents removed — what prefix matching while typing needs,
  since a half-typed word has no stem).
- `events_event.search_vector`: title (weight A), venue name and city (B) and description (C), what a query
  must match; `head_vector`: title, venue and city only, what ranks. Both kept by a trigger on the event and
  one on its venue; not ORM fields, so event rows stay light.
- `events_searchterm`: the vocabulary typo tolerance corrects to, filled by the same triggers.
- The summaries' tables (filled by ticketing migration 0010's trigger and events.summary).
"""

import django.contrib.postgres.indexes
from django.contrib.postgres.operations import CreateExtension, TrigramExtension, UnaccentExtension
import django.db.models.deletion
import django.db.models.functions.datetime
from django.conf import settings
from django.db import migrations, models


SEARCH_SQL = r"""
CREATE TEXT SEARCH CONFIGURATION evently_search (COPY = english);
ALTER TEXT SEARCH CONFIGURATION evently_search
    ALTER MAPPING FOR hword, hword_part, word WITH unaccent, english_stem;
CREATE TEXT SEARCH CONFIGURATION evently_names (COPY = simple);
ALTER TEXT SEARCH CONFIGURATION evently_names
    ALTER MAPPING FOR hword, hword_part, word WITH unaccent, simple;

ALTER TABLE events_event ADD COLUMN search_vector tsvector, ADD COLUMN head_vector tsvector;

-- The one definition of what search sees of an event.
CREATE FUNCTION events_search_document(title text, description text, venue_name text, city text)
RETURNS tsvector LANGUAGE sql STABLE AS $$
    SELECT setweight(to_tsvector('evently_search', coalesce(title, '')), 'A')
        || setweight(to_tsvector('evently_names', coalesce(title, '')), 'A')
        || setweight(to_tsvector('evently_search', coalesce(venue_name, '') || ' ' || coalesce(city, '')), 'B')
        || setweight(to_tsvector('evently_names', coalesce(venue_name, '') || ' ' || coalesce(city, '')), 'B')
        || setweight(to_tsvector('evently_search', coalesce(description, '')), 'C')
$$;

-- The part that ranks: the event's name, venue and city (a description match alone ranks after these).
CREATE FUNCTION events_search_head(title text, venue_name text, city text)
RETURNS tsvector LANGUAGE sql STABLE AS $$
    SELECT setweight(to_tsvector('evently_search', coalesce(title, '')), 'A')
        || setweight(to_tsvector('evently_names', coalesce(title, '')), 'A')
        || setweight(to_tsvector('evently_search', coalesce(venue_name, '') || ' ' || coalesce(city, '')), 'B')
        || setweight(to_tsvector('evently_names', coalesce(venue_name, '') || ' ' || coalesce(city, '')), 'B')
$$;

-- Words typo tolerance may correct a query word to: letters only, 3 to 40 of them.
CREATE FUNCTION events_search_terms_add(document text) RETURNS void LANGUAGE sql AS $$
    INSERT INTO events_searchterm (term)
    SELECT DISTINCT lexeme FROM unnest(to_tsvector('evently_names', coalesce(document, '')))
     WHERE length(lexeme) BETWEEN 3 AND 40 AND lexeme ~ '^[[:alpha:]]+$'
    ON CONFLICT DO NOTHING
$$;

CREATE FUNCTION events_event_search_vector() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    venue_name text;
    venue_city text;
BEGIN
    SELECT name, city INTO venue_name, venue_city FROM venues_venue WHERE id = NEW.venue_id;
    NEW.search_vector := events_search_document(NEW.title, NEW.description, venue_name, venue_city);
    NEW.head_vector := events_search_head(NEW.title, venue_name, venue_city);
    IF TG_OP = 'INSERT' OR NEW.title IS DISTINCT FROM OLD.title OR NEW.description IS DISTINCT FROM OLD.description
       OR NEW.venue_id IS DISTINCT FROM OLD.venue_id THEN
        PERFORM events_search_terms_add(concat_ws(' ', NEW.title, NEW.description, venue_name, venue_city));
    END IF;
    RETURN NEW;
END $$;

CREATE TRIGGER events_event_search_vector
    BEFORE INSERT OR UPDATE OF title, description, venue_id ON events_event
    FOR EACH ROW EXECUTE FUNCTION events_event_search_vector();

CREATE FUNCTION events_venue_search_vector() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE events_event
       SET search_vector = events_search_document(title, description, NEW.name, NEW.city),
           head_vector = events_search_head(title, NEW.name, NEW.city)
     WHERE venue_id = NEW.id;
    PERFORM events_search_terms_add(concat_ws(' ', NEW.name, NEW.city));
    RETURN NULL;
END $$;

CREATE TRIGGER events_venue_search_vector AFTER UPDATE OF name, city ON venues_venue
    FOR EACH ROW WHEN (OLD.name IS DISTINCT FROM NEW.name OR OLD.city IS DISTINCT FROM NEW.city)
    EXECUTE FUNCTION events_venue_search_vector();

UPDATE events_event SET title = title;  -- fills search_vector through the trigger
SELECT events_search_terms_add(concat_ws(' ', event.title, event.description, venue.name, venue.city))
  FROM events_event event JOIN venues_venue venue ON venue.id = event.venue_id;

CREATE INDEX event_search_vector_idx ON events_event USING gin (search_vector);
CREATE INDEX event_head_vector_idx ON events_event USING gin (head_vector);
"""

SEARCH_REVERSE_SQL = r"""
DROP TRIGGER IF EXISTS events_venue_search_vector ON venues_venue;
DROP TRIGGER IF EXISTS events_event_search_vector ON events_event;
DROP FUNCTION IF EXISTS events_venue_search_vector();
DROP FUNCTION IF EXISTS events_event_search_vector();
DROP FUNCTION IF EXISTS events_search_terms_add(text);
DROP FUNCTION IF EXISTS events_search_document(text, text, text, text);
DROP FUNCTION IF EXISTS events_search_head(text, text, text);
ALTER TABLE events_event DROP COLUMN IF EXISTS search_vector, DROP COLUMN IF EXISTS head_vector;
DROP TEXT SEARCH CONFIGURATION IF EXISTS evently_names;
DROP TEXT SEARCH CONFIGURATION IF EXISTS evently_search;
"""

# Every existing category gets a summary row; its price is computed by the first fold (price empty = due).
CATEGORY_SUMMARIES_SQL = """
INSERT INTO events_categorysummary (category_id, event_id, available_seats, held_seats, sold_seats, blocked_seats,
                                    has_quota_tier)
SELECT id, event_id, 0, 0, 0, 0, false FROM events_seatcategory ON CONFLICT DO NOTHING;
"""


class Migration(migrations.Migration):

    dependencies = [
        ('events', '0003_lifecycle_schedule'),
        ('venues', '0004_venue_coordinates_near_search'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        UnaccentExtension(),
        TrigramExtension(),
        CreateExtension("fuzzystrmatch"),  # levenshtein: typo tolerance for short words
        migrations.CreateModel(
            name='CategorySummary',
            fields=[
                ('category', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, primary_key=True, related_name='summary', serialize=False, to='events.seatcategory')),
                ('available_seats', models.IntegerField(default=0)),
                ('held_seats', models.IntegerField(default=0)),
                ('sold_seats', models.IntegerField(default=0)),
                ('blocked_seats', models.IntegerField(default=0)),
                ('price', models.DecimalField(decimal_places=2, help_text='Empty: not computed yet.', max_digits=10, null=True)),
                ('price_valid_until', models.DateTimeField(null=True)),
                ('has_quota_tier', models.BooleanField(default=False)),
            ],
            options={
                'verbose_name_plural': 'category summaries',
            },
        ),
        migrations.CreateModel(
            name='EventSalesHour',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('hour', models.DateTimeField()),
                ('tickets', models.IntegerField(default=0)),
            ],
        ),
        migrations.CreateModel(
            name='EventSummary',
            fields=[
                ('event', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, primary_key=True, related_name='summary', serialize=False, to='events.event')),
                ('available_seats', models.IntegerField(default=0)),
                ('held_seats', models.IntegerField(default=0)),
                ('sold_seats', models.IntegerField(default=0)),
                ('blocked_seats', models.IntegerField(default=0)),
                ('min_price', models.DecimalField(decimal_places=2, max_digits=10, null=True)),
                ('max_price', models.DecimalField(decimal_places=2, max_digits=10, null=True)),
                ('updated_at', models.DateTimeField(auto_now=True)),
            ],
            options={
                'verbose_name_plural': 'event summaries',
            },
        ),
        migrations.CreateModel(
            name='SearchTerm',
            fields=[
                ('term', models.CharField(db_collation='C', max_length=40, primary_key=True, serialize=False)),
            ],
        ),
        migrations.CreateModel(
            name='SeatCountChange',
            fields=[
                ('id', models.BigAutoField(primary_key=True, serialize=False)),
                ('event_id', models.BigIntegerField()),
                ('category_id', models.BigIntegerField()),
                ('available', models.IntegerField(default=0)),
                ('held', models.IntegerField(default=0)),
                ('sold', models.IntegerField(default=0)),
                ('blocked', models.IntegerField(default=0)),
                ('created_at', models.DateTimeField(db_default=django.db.models.functions.datetime.Now())),
            ],
        ),
        migrations.AddIndex(
            model_name='event',
            index=models.Index(condition=models.Q(('status__in', ['published', 'on_sale', 'sold_out'])), fields=['starts_at', 'id'], name='event_public_starts_idx'),
        ),
        migrations.AddField(
            model_name='categorysummary',
            name='event',
            field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='events.event'),
        ),
        migrations.AddField(
            model_name='eventsaleshour',
            name='event',
            field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='events.event'),
        ),
        migrations.AddIndex(
            model_name='eventsummary',
            index=models.Index(fields=['min_price'], name='event_summary_min_price_idx'),
        ),
        migrations.AddIndex(
            model_name='searchterm',
            index=django.contrib.postgres.indexes.GistIndex(django.contrib.postgres.indexes.OpClass(models.F('term'), name='gist_trgm_ops'), name='search_term_trgm_idx'),
        ),
        migrations.AddIndex(
            model_name='categorysummary',
            index=models.Index(fields=['price_valid_until'], name='category_summary_price_due_idx'),
        ),
        migrations.AddIndex(
            model_name='categorysummary',
            index=models.Index(condition=models.Q(('price__isnull', True)), fields=['category'], name='category_summary_unpriced_idx'),
        ),
        migrations.AddIndex(
            model_name='eventsaleshour',
            index=models.Index(fields=['hour'], name='event_sales_hour_hour_idx'),
        ),
        migrations.AddConstraint(
            model_name='eventsaleshour',
            constraint=models.UniqueConstraint(fields=('event', 'hour'), name='event_sales_hour_unique'),
        ),
        migrations.RunSQL(SEARCH_SQL, SEARCH_REVERSE_SQL),
        migrations.RunSQL(CATEGORY_SUMMARIES_SQL, migrations.RunSQL.noop),
    ]
