"""Personal ranking: a returning buyer's search puts the categories they booked a little higher.

The score: each category the visitor booked gets an affinity `a = tickets in that category / tickets in
their most-booked category` (0 < a ≤ 1), and `sort=relevance` orders by `text rank × (1 + BOOST × a)`.
With BOOST = 0.5 a booked category's events gain at most half their rank: enough to order near-equal
matches, never enough for a description match (weight 0.2) to pass a title match (weight 1.0). Other
sorts (date, price, distance, trending) are what they say and stay the same for everyone; anonymous
visitors, and buyers with no paid booking, get the plain ranking. Nothing is ever added to or removed
from the results: personalization only reorders them.

Who booked what is ticketing's knowledge, and events does not import ticketing: ticketing registers a
source at start-up (`ticketing.personalization`), which reads the buyer from the request.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

BOOST = 0.5

_sources: list[Callable[[object], dict[str, int]]] = []


def affinity_source_register(source: Callable[[object], dict[str, int]]) -> None:
    """`source(request)` returns {category: tickets booked} for the visitor of `request` ({} if unknown)."""
    if source not in _sources:
        _sources.append(source)


def category_affinity(request) -> dict[str, float]:
    """{category: a} with 0 < a ≤ 1 for the categories this visitor booked; {} for everyone else."""
    booked: Counter[str] = Counter()
    for source in _sources:
        booked.update(source(request))
    top = max(booked.values(), default=0)
    return {category: tickets / top for category, tickets in booked.items() if tickets > 0} if top else {}


def category_boosts(request) -> dict[str, float]:
    """{category: 1 + BOOST × a}: what search multiplies a booked category's relevance by."""
    return {category: 1 + BOOST * affinity for category, affinity in category_affinity(request).items()}
