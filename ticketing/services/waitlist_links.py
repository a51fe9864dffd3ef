"""Links in waitlist e-mails: a signed key per entry, so whoever has the e-mail may see, leave or claim it."""

from __future__ import annotations

from django.conf import settings
from django.core import signing

from ticketing.exceptions import WaitlistEntryNotFound
from ticketing.models import WaitlistEntry

ENTRY_KEY_SALT = "evently.waitlist-entry"
CONFIRM_KEY_SALT = "evently.waitlist-confirm"


def waitlist_entry_key(entry: WaitlistEntry) -> str:
    """The signed key in the entry's links: whoever has the e-mail may see, leave or claim it."""
    return signing.dumps(entry.pk, salt=ENTRY_KEY_SALT)


def waitlist_entry_from_key(key: str) -> WaitlistEntry:
    try:
        entry_id = signing.loads(key, salt=ENTRY_KEY_SALT)
    except signing.BadSignature:
        raise WaitlistEntryNotFound() from None
    entry = WaitlistEntry.objects.select_related("event", "category").filter(pk=entry_id).first()
    if entry is None:
        raise WaitlistEntryNotFound()
    return entry


def waitlist_entry_url(entry: WaitlistEntry) -> str:
    return f"/waitlist/{waitlist_entry_key(entry)}/"


def waitlist_claim_url(entry: WaitlistEntry) -> str:
    return f"/waitlist/{waitlist_entry_key(entry)}/claim/"


def waitlist_confirm_key(entry: WaitlistEntry) -> str:
    """The key in the double opt-in e-mail: only someone who reads that inbox can confirm the entry.

    Timestamped: it works for WAITLIST_CONFIRM_MAX_AGE_SECONDS."""
    return signing.TimestampSigner(salt=CONFIRM_KEY_SALT).sign(str(entry.pk))


def waitlist_entry_from_confirm_key(key: str) -> WaitlistEntry:
    """Raises WaitlistEntryNotFound for a forged or expired key."""
    try:
        entry_id = int(signing.TimestampSigner(salt=CONFIRM_KEY_SALT).unsign(
            key, max_age=settings.WAITLIST_CONFIRM_MAX_AGE_SECONDS))
    except (signing.BadSignature, ValueError):
        raise WaitlistEntryNotFound() from None
    entry = WaitlistEntry.objects.select_related("event").filter(pk=entry_id).first()
    if entry is None:
        raise WaitlistEntryNotFound()
    return entry


def waitlist_confirm_url(entry: WaitlistEntry) -> str:
    return f"/waitlist/{waitlist_confirm_key(entry)}/confirm/"
