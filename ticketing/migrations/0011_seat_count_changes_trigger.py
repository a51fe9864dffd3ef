"""Seat counts for search without counting seats: every statement that changes ticketing_eventseat appends
one row per (event, category) it touched to events_seatcountchange — +n for each new status, −n for each old.

A statement-level trigger with transition tables: one INSERT per statement, however many seats it changes
(a 50,000-seat inventory is one row), and nothing when no status changed (HAVING drops zero rows). It only
ever inserts, so concurrent holds and sales of one event never wait on each other here, unlike a per-event
counter row. events.summary folds the rows into the summaries; docs/performance.md has the measured cost.
"""

from django.db import migrations

TRIGGER_SQL = r"""
CREATE FUNCTION ticketing_eventseat_count_changes() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO events_seatcountchange (event_id, category_id, available, held, sold, blocked, created_at)
        SELECT event_id, category_id,
               count(*) FILTER (WHERE status = 'available'), count(*) FILTER (WHERE status = 'held'),
               count(*) FILTER (WHERE status = 'sold'), count(*) FILTER (WHERE status = 'blocked'), now()
          FROM new_seats GROUP BY event_id, category_id;
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO events_seatcountchange (event_id, category_id, available, held, sold, blocked, created_at)
        SELECT event_id, category_id,
               -count(*) FILTER (WHERE status = 'available'), -count(*) FILTER (WHERE status = 'held'),
               -count(*) FILTER (WHERE status = 'sold'), -count(*) FILTER (WHERE status = 'blocked'), now()
          FROM old_seats GROUP BY event_id, category_id;
    ELSE
        INSERT INTO events_seatcountchange (event_id, category_id, available, held, sold, blocked, created_at)
        SELECT event_id, category_id,
               coalesce(sum(n) FILTER (WHERE status = 'available'), 0),
               coalesce(sum(n) FILTER (WHERE status = 'held'), 0),
               coalesce(sum(n) FILTER (WHERE status = 'sold'), 0),
               coalesce(sum(n) FILTER (WHERE status = 'blocked'), 0), now()
          FROM (SELECT event_id, category_id, status, 1 AS n FROM new_seats
                UNION ALL
                SELECT event_id, category_id, status, -1 FROM old_seats) AS change
         GROUP BY event_id, category_id
        HAVING sum(n) FILTER (WHERE status = 'available') <> 0 OR sum(n) FILTER (WHERE status = 'held') <> 0
            OR sum(n) FILTER (WHERE status = 'sold') <> 0 OR sum(n) FILTER (WHERE status = 'blocked') <> 0;
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER ticketing_eventseat_counts_insert AFTER INSERT ON ticketing_eventseat
    REFERENCING NEW TABLE AS new_seats FOR EACH STATEMENT EXECUTE FUNCTION ticketing_eventseat_count_changes();
CREATE TRIGGER ticketing_eventseat_counts_update AFTER UPDATE ON ticketing_eventseat
    REFERENCING OLD TABLE AS old_seats NEW TABLE AS new_seats
    FOR EACH STATEMENT EXECUTE FUNCTION ticketing_eventseat_count_changes();
CREATE TRIGGER ticketing_eventseat_counts_delete AFTER DELETE ON ticketing_eventseat
    REFERENCING OLD TABLE AS old_seats FOR EACH STATEMENT EXECUTE FUNCTION ticketing_eventseat_count_changes();

-- The seats that exist already, counted once (CREATE TRIGGER above locked out writers until this commits).
INSERT INTO events_seatcountchange (event_id, category_id, available, held, sold, blocked, created_at)
SELECT event_id, category_id,
       count(*) FILTER (WHERE status = 'available'), count(*) FILTER (WHERE status = 'held'),
       count(*) FILTER (WHERE status = 'sold'), count(*) FILTER (WHERE status = 'blocked'), now()
  FROM ticketing_eventseat GROUP BY event_id, category_id;
"""

REVERSE_SQL = r"""
DROP TRIGGER IF EXISTS ticketing_eventseat_counts_insert ON ticketing_eventseat;
DROP TRIGGER IF EXISTS ticketing_eventseat_counts_update ON ticketing_eventseat;
DROP TRIGGER IF EXISTS ticketing_eventseat_counts_delete ON ticketing_eventseat;
DROP FUNCTION IF EXISTS ticketing_eventseat_count_changes();
"""


class Migration(migrations.Migration):
    dependencies = [
        ("ticketing", "0010_trust"),
        ("events", "0004_discovery_search_and_summaries"),
    ]

    operations = [migrations.RunSQL(TRIGGER_SQL, REVERSE_SQL)]
