"""django-q2 tasks of the events app: safe to run twice, at any time."""

from events.summary import event_summaries_tick


def search_summaries_tick() -> int:
    """Every minute: fold seat counts, re-price at tier boundaries, rebuild trending if Redis lost it."""
    return event_summaries_tick()
