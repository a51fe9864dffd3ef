"""Venue coordinates for "near me" search: range checks, and a point on the earth kept in step.

`earth_point` is earthdistance's `ll_to_earth(latitude, longitude)` stored as a plain `cube` column
with a GiST index, set by a trigger. A stored column rather than an expression index: expression
indexes over ll_to_earth break where Postgres runs maintenance (ANALYZE, REINDEX, pg_restore)
with a restricted search_path, because earthdistance's functions look up cube's unqualified.
Django does not know the column; search reads it in SQL (events/search.py).
"""

from django.contrib.postgres.operations import CreateExtension
from django.db import migrations, models
from django.db.models.functions import Lower

EARTH_POINT_SQL = """
ALTER TABLE venues_venue ADD COLUMN earth_point cube;

CREATE FUNCTION venues_venue_earth_point() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.latitude IS NULL OR NEW.longitude IS NULL THEN
        NEW.earth_point := NULL;
    ELSE
        NEW.earth_point := ll_to_earth(NEW.latitude, NEW.longitude)::cube;
    END IF;
    RETURN NEW;
END $$;

CREATE TRIGGER venues_venue_earth_point BEFORE INSERT OR UPDATE OF latitude, longitude ON venues_venue
    FOR EACH ROW EXECUTE FUNCTION venues_venue_earth_point();

UPDATE venues_venue SET latitude = latitude WHERE latitude IS NOT NULL;
CREATE INDEX venues_venue_earth_point_idx ON venues_venue USING gist (earth_point);
"""

EARTH_POINT_REVERSE_SQL = """
DROP TRIGGER IF EXISTS venues_venue_earth_point ON venues_venue;
DROP FUNCTION IF EXISTS venues_venue_earth_point();
ALTER TABLE venues_venue DROP COLUMN IF EXISTS earth_point;
"""


class Migration(migrations.Migration):

    dependencies = [
        ('venues', '0003_venue_owner_and_expiring_requests'),
    ]

    operations = [
        CreateExtension("cube"),
        CreateExtension("earthdistance"),
        migrations.AlterField(
            model_name='venue',
            name='latitude',
            field=models.FloatField(blank=True, help_text='Degrees north, −90 to 90.', null=True),
        ),
        migrations.AlterField(
            model_name='venue',
            name='longitude',
            field=models.FloatField(blank=True, help_text='Degrees east, −180 to 180.', null=True),
        ),
        migrations.AddConstraint(
            model_name='venue',
            constraint=models.CheckConstraint(condition=models.Q(('latitude__gte', -90), ('latitude__lte', 90)), name='venue_latitude_range'),
        ),
        migrations.AddConstraint(
            model_name='venue',
            constraint=models.CheckConstraint(condition=models.Q(('longitude__gte', -180), ('longitude__lte', 180)), name='venue_longitude_range'),
        ),
        migrations.AddConstraint(
            model_name='venue',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('latitude__isnull', True), ('longitude__isnull', True)), models.Q(('latitude__isnull', False), ('longitude__isnull', False)), _connector='OR'), name='venue_coordinates_both_or_neither'),
        ),
        migrations.RunSQL(EARTH_POINT_SQL, EARTH_POINT_REVERSE_SQL),
        migrations.AddIndex(
            model_name='venue',
            index=models.Index(Lower('city'), name='venue_city_lower_idx'),
        ),
    ]
