"""Keep search's prices in step with edits: a seat category or pricing tier saved (admin, services, tests)
re-prices its category in the same transaction; a deletion re-prices its event after the commit."""

from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from events.models import PricingTier, SeatCategory
from events.summary import category_prices_refresh, event_summaries_update


@receiver(post_save, sender=SeatCategory)
def seat_category_saved(sender, instance: SeatCategory, raw=False, **kwargs):
    if not raw:
        category_prices_refresh(category_ids=[instance.pk])


@receiver(post_save, sender=PricingTier)
def pricing_tier_saved(sender, instance: PricingTier, raw=False, **kwargs):
    if not raw:
        category_prices_refresh(category_ids=[instance.category_id])


@receiver(post_delete, sender=PricingTier)
def pricing_tier_deleted(sender, instance: PricingTier, **kwargs):
    # After the commit: when the whole event is being deleted, the category may be gone by then (nothing to do).
    category_id = instance.category_id
    transaction.on_commit(lambda: category_prices_refresh(category_ids=[category_id]))


@receiver(post_delete, sender=SeatCategory)
def seat_category_deleted(sender, instance: SeatCategory, **kwargs):
    event_id = instance.event_id
    transaction.on_commit(lambda: event_summaries_update(event_ids=[event_id]))
