"""Recount search's seat summaries from the seats and re-price every category (a repair tool: the trigger keeps
them right; run it after restoring a backup or editing seats by hand with triggers off)."""

from django.core.management.base import BaseCommand

from ticketing.services.search_counts import search_summaries_recount


class Command(BaseCommand):
    help = "Recount search's EventSummary / CategorySummary from ticketing_eventseat and re-price every category."

    def handle(self, *args, **options):
        events = search_summaries_recount()
        self.stdout.write(self.style.SUCCESS(f"Summaries rebuilt for {events} events."))
