"""Rebuild trending's Redis sets from Postgres (after Redis lost them; searches and the worker also do it
when they find them gone)."""

from django.core.management.base import BaseCommand

from events.summary import seat_counts_fold, trending_rebuild


class Command(BaseCommand):
    help = "Rebuild trending (tickets sold per event in the last 24 hours) in Redis from Postgres."

    def handle(self, *args, **options):
        seat_counts_fold()  # sales not yet folded reach Postgres first
        rows = trending_rebuild()
        self.stdout.write(self.style.SUCCESS(f"Trending rebuilt from {rows} event-hours of sales."))
