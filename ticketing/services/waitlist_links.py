"""Links in waitlist e-mails: a signed key per entry, so whoever has the e-mail may see, leave or claim it."""

from __future__ import annotations

from django.core import signing

from ticketing.exceptions import WaitlistEntryNotFound
from ticketing.models import WaitlistEntry

ENTRY_KEY_SALT = "evently.waitlist-entry"


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
