"""Rotate events' ticket-signing keys: `manage.py signing_keys_rotate --event 12` or `--upcoming`.

Tickets issued afterwards are signed with the new key; tickets already out keep verifying until
their event ends (the old public key is kept, see ticketing.services.tickets). Also forgets the
retired keys of events that have ended.
"""

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from events.models import Event
from ticketing.services.tickets import event_signing_key_rotate, retired_signing_keys_prune


class Command(BaseCommand):
    help = "Rotate the ticket-signing keys of one event or of every event that has not ended."

    def add_arguments(self, parser):
        parser.add_argument("--event", type=int, action="append", default=[], help="event id (repeatable)")
        parser.add_argument("--upcoming", action="store_true", help="every event that has not ended")

    def handle(self, *args, event, upcoming, **options):
        if not event and not upcoming:
            raise CommandError("Name events with --event ID, or use --upcoming.")
        events = Event.objects.filter(pk__in=event) if event else Event.objects.filter(ends_at__gt=timezone.now())
        rotated = 0
        for event_id in events.order_by("pk").values_list("pk", flat=True):
            event_signing_key_rotate(event_id=event_id)
            rotated += 1
        pruned = retired_signing_keys_prune()
        self.stdout.write(f"Rotated the signing keys of {rotated} event(s); forgot {pruned} retired key(s).")
