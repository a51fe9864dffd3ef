"""Recount search's seat summaries from the seats themselves, and re-price every category (a repair tool:
the trigger keeps them right; run it after restoring a backup or editing seats by hand with triggers off)."""

from django.core.management.base import BaseCommand

from events.summary import event_summaries_rebuild


class Command(BaseCommand):
    help = "Recount EventSummary / CategorySummary from ticketing_eventseat and re-price every category."

    def handle(self, *args, **options):
        events = event_summaries_rebuild()
        self.stdout.write(self.style.SUCCESS(f"Summaries rebuilt for {events} events."))
