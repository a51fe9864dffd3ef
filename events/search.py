"""Event search: text, filters, sort and pages in one SQL statement over events, venues and the summaries.

Why Postgres full-text search and not a search engine, and when that would change: docs/architecture.md.

- Text (`q`): words are matched against `events_event.search_vector` (title A, venue and city B,
  description C; English stemming; accents ignored). Every word must match; the last one
  as a prefix (the visitor may still be typing). A word the catalogue does not know (not in
  `SearchTerm`) also matches its closest known words by trigram similarity, so "hamlte" finds Hamlet.
  If all words together find nothing, any of them will do. Ranked by `ts_rank` (title first).
- Filters and sorts read `EventSummary` (seats available, the price selling now) — never seat rows.
- Only public events (published, on sale, sold out) that have not ended are ever returned.

Parameters are parsed by `search_params_parse`, which raises `InvalidSearch` (400, a stable code and the
parameter's name) for anything it cannot use; the API and the search page share it.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.core.files.storage import default_storage
from django.db import connection, transaction
from django.templatetags.static import static

from evently.errors import InvalidInput
from events import selectors
from events.models import EventCategory
from events.summary import event_summaries_fresh, trending_scores

PUBLIC_STATUSES = tuple(status.value for status in selectors.PUBLIC_STATUSES)  # one definition of "public"
SORTS = ("relevance", "date", "price", "distance", "trending")
PAGE_SIZE = 20
PAGE_SIZE_MAX = 100
RESULTS_WINDOW = 1_000  # results counted and paged through at most ("1,000+": 50 pages of 20); narrow the search
QUERY_MAX_LENGTH = 200
QUERY_MAX_WORDS = 8
RADIUS_DEFAULT_KM = 50.0  # `near` without `radius_km`
RADIUS_MAX_KM = 20_000.0  # half the earth's circumference
PRICE_MAX = Decimal("10000000")
FEW_SEATS_LEFT = 10  # "few seats left" at or below this many (or 5 % of the seats)
# How a page is found (see _plan): walking the index on starts_at when a probe of the first WALK_PROBE events
# by date says a page of matches lies within WALK_BUDGET rows, else sorting the matches.
TEXT_MATCH_SQL = "event.search_vector @@ text_query.query"
HEAD_MATCH_SQL = "event.head_vector @@ text_query.query"
SORT_UP_TO = RESULTS_WINDOW  # matches counted exactly: sorting them is cheap
PARALLEL_WORKERS = 0  # per search statement (see event_search)
WALK_PROBE = 2_000
WALK_BUDGET = 20_000
TYPO_SIMILARITY = 0.3  # pg_trgm similarity a known word needs to stand in for an unknown one
TYPO_ALTERNATIVES = 2
RANK_WEIGHTS = "{0.1, 0.2, 0.4, 1.0}"  # D (unused), C description, B venue and city, A title

_WORD = re.compile(r"[^\W_]+")
_DECIMAL = re.compile(r"^\d{1,8}(\.\d{1,2})?$")
_NUMBER = r"[-+]?\d{1,3}(?:\.\d{1,12})?"
_NEAR = re.compile(rf"^\s*({_NUMBER})\s*,\s*({_NUMBER})\s*$")
_RADIUS = re.compile(r"^\d{1,5}(\.\d{1,6})?$")
_TRUE, _FALSE = {"1", "true", "yes", "on"}, {"0", "false", "no", "off", ""}


class InvalidSearch(InvalidInput):
    """A search parameter that cannot be used: 400 with a stable code and the parameter's name."""

    def __init__(self, code: str, param: str, message: str):
        super().__init__(message, code=code, param=param)


@dataclass(frozen=True)
class SearchParams:
    q: str = ""
    categories: tuple[str, ...] = ()
    city: str = ""
    date_from: date | None = None
    date_to: date | None = None
    timezone: str | None = None  # dates are in each venue's zone unless one is given
    price_min: Decimal | None = None
    price_max: Decimal | None = None
    available: bool = False
    near: tuple[float, float] | None = None
    radius_km: float | None = None
    sort: str = "date"
    page: int = 1
    page_size: int = PAGE_SIZE
    only_trending: bool = False  # not a query parameter: the home page's "trending" list

    @property
    def words(self) -> list[str]:
        return [word[:40] for word in _WORD.findall(self.q.lower())][:QUERY_MAX_WORDS]


@dataclass
class SearchPage:
    results: list[dict]
    total: int
    params: SearchParams
    corrections: dict[str, list[str]] = field(default_factory=dict)
    matched_any_word: bool = False  # no event had every word: these have some
    total_is_capped: bool = False  # more than RESULTS_WINDOW match; `total` says RESULTS_WINDOW

    @property
    def has_next(self) -> bool:
        return self.params.page * self.params.page_size < self.total

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.params.page_size))


# --- parsing -----------------------------------------------------------------------------------------------


def search_params_parse(query: Mapping) -> SearchParams:
    """Read search parameters from a QueryDict (or a plain dict); raises InvalidSearch naming the parameter."""

    def value(name: str, max_length: int = 100) -> str:
        raw = query.get(name)
        raw = "" if raw is None else str(raw)
        if len(raw) > max_length or "\x00" in raw:
            raise InvalidSearch(f"invalid_{name}", name, f"“{name}” may have at most {max_length} characters, "
                                                         "and no NUL character.")
        return raw.strip()

    q = value("q", QUERY_MAX_LENGTH)
    categories = _categories(query)
    city = value("city")
    date_from, date_to = _date(value("date_from"), "date_from"), _date(value("date_to"), "date_to")
    if date_from and date_to and date_from > date_to:
        raise InvalidSearch("invalid_date_range", "date_from", "“date_from” must not be after “date_to”.")
    zone = value("tz", 64) or None
    if zone is not None:
        try:
            ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError):
            raise InvalidSearch("invalid_tz", "tz", f"“tz” must be a time zone name like Europe/Berlin, "
                                                    f"not “{zone}”.") from None
    price_min, price_max = _price(value("price_min"), "price_min"), _price(value("price_max"), "price_max")
    if price_min is not None and price_max is not None and price_min > price_max:
        raise InvalidSearch("invalid_price_range", "price_min", "“price_min” must not be more than “price_max”.")
    available = value("available").lower()
    if available not in _TRUE | _FALSE:
        raise InvalidSearch("invalid_available", "available", "“available” must be 1 or 0.")
    near = _near(value("near"))
    radius = value("radius_km")
    if radius and near is None:
        raise InvalidSearch("radius_without_near", "radius_km", "“radius_km” needs “near=lat,lon”.")
    radius_km = _radius(radius) if radius else (RADIUS_DEFAULT_KM if near else None)
    has_words = bool(_WORD.search(q.lower()))
    sort = value("sort").lower() or ("relevance" if has_words else "date")
    if sort not in SORTS:
        raise InvalidSearch("invalid_sort", "sort", f"“sort” must be one of {', '.join(SORTS)}.")
    if sort == "distance" and near is None:
        raise InvalidSearch("sort_needs_near", "sort", "“sort=distance” needs “near=lat,lon”.")
    page = _whole(value("page"), "page", default=1, low=1, high=RESULTS_WINDOW)
    page_size = _whole(value("page_size"), "page_size", default=PAGE_SIZE, low=1, high=PAGE_SIZE_MAX)
    if (page - 1) * page_size >= RESULTS_WINDOW:
        raise InvalidSearch("page_out_of_range", "page", f"Only the first {RESULTS_WINDOW:,} results can be paged "
                                                         "through; narrow the search instead.")
    return SearchParams(q=q, categories=categories, city=city, date_from=date_from, date_to=date_to, timezone=zone,
                        price_min=price_min, price_max=price_max, available=available in _TRUE, near=near,
                        radius_km=radius_km, sort=sort, page=page, page_size=page_size)


def _categories(query: Mapping) -> tuple[str, ...]:
    raw = query.getlist("category") if hasattr(query, "getlist") else [query.get("category") or ""]
    if isinstance(raw, str):
        raw = [raw]
    found: list[str] = []
    for item in raw:
        for name in str(item).split(","):
            name = name.strip().lower()
            if not name:
                continue
            if name not in EventCategory.values:
                shown = name if len(name) <= 40 and name.isprintable() else name[:40].encode("unicode_escape").decode()
                raise InvalidSearch("invalid_category", "category",
                                    f"Unknown “category” {shown!r}: use {', '.join(EventCategory.values)}.")
            if name not in found:
                found.append(name)
    return tuple(found)


def _date(raw: str, name: str) -> date | None:
    if not raw:
        return None
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", raw):
        raise InvalidSearch("invalid_date", name, f"“{name}” must be a date like 2026-12-31.")
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise InvalidSearch("invalid_date", name, f"“{name}” is not a real date.") from None


def _price(raw: str, name: str) -> Decimal | None:
    if not raw:
        return None
    if not _DECIMAL.match(raw) or Decimal(raw) > PRICE_MAX:
        raise InvalidSearch("invalid_price", name, f"“{name}” must be an amount like 25 or 25.50, at most "
                                                   f"{PRICE_MAX:,}.")
    return Decimal(raw)


def _near(raw: str) -> tuple[float, float] | None:
    if not raw:
        return None
    match = _NEAR.match(raw)
    if not match:
        raise InvalidSearch("invalid_near", "near", "“near” must be “latitude,longitude” in degrees, "
                                                    "like 52.52,13.40.")
    latitude, longitude = float(match.group(1)), float(match.group(2))
    if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        raise InvalidSearch("invalid_near", "near", "“near” is off the map: latitude must be between -90 and 90, "
                                                    "longitude between -180 and 180.")
    return latitude, longitude


def _radius(raw: str) -> float:
    if not _RADIUS.match(raw) or not 0 < float(raw) <= RADIUS_MAX_KM:
        raise InvalidSearch("invalid_radius_km", "radius_km",
                            f"“radius_km” must be a distance in kilometres above 0 and at most {RADIUS_MAX_KM:,.0f}.")
    return float(raw)


def _whole(raw: str, name: str, *, default: int, low: int, high: int) -> int:
    if not raw:
        return default
    if not raw.isdigit() or not raw.isascii() or len(raw) > 6 or not low <= int(raw) <= high:
        raise InvalidSearch(f"invalid_{name}", name, f"“{name}” must be a whole number from {low} to {high:,}.")
    return int(raw)


# --- the query ---------------------------------------------------------------------------------------------


def event_search(*, params: SearchParams, boosts: Mapping[str, float] | None = None) -> SearchPage:
    """One page of public, not yet ended events matching `params`, with the total count.

    `boosts` multiplies the relevance of events by category (personalization: events.personalization);
    it only reorders `sort=relevance`, never adds or removes a result.
    """
    event_summaries_fresh()
    words = params.words
    trending = _trending_scores() if params.sort == "trending" or params.only_trending else None
    with transaction.atomic(), connection.cursor() as cursor:
        # A search is a few short statements: parallel workers would cost more to start than they save, and
        # on a small machine they would take cores from a sale.
        cursor.execute("SET LOCAL max_parallel_workers_per_gather = %s", [PARALLEL_WORKERS])
        corrections = _typo_corrections(words) if words else {}
        rows, total = _run(params, words, corrections, boosts or {}, trending, match_all=True)
        matched_any = False
        if total == 0 and len(words) > 1:
            rows, total = _run(params, words, corrections, boosts or {}, trending, match_all=False)
            matched_any = total > 0
    return SearchPage(results=[_result(row, params) for row in rows], total=min(total, RESULTS_WINDOW),
                      params=params, corrections=corrections, matched_any_word=matched_any,
                      total_is_capped=total > RESULTS_WINDOW)


def _trending_scores() -> list[tuple[int, float]]:
    return trending_scores(limit=1000)


def _typo_corrections(words: list[str]) -> dict[str, list[str]]:
    """For each word the vocabulary does not know (the last one: not even as a prefix), its closest known words:
    trigram neighbours (pg_trgm, the GiST index's nearest first) at a similarity of at least TYPO_SIMILARITY,
    and for short words, where trigrams say little ("rok" shares as much with "rose" as with "rock"), words
    of the same first letter one edit away (fuzzystrmatch). At most TYPO_ALTERNATIVES, fewest edits first."""
    with connection.cursor() as cursor:
        cursor.execute("""
            SELECT word.original, corrected.terms
              FROM unnest(%s::text[], %s::bool[]) AS typed(original, is_prefix)
             CROSS JOIN LATERAL (SELECT typed.original, unaccent('unaccent', typed.original) AS plain) AS word
             CROSS JOIN LATERAL (
                   SELECT array_agg(candidate.term ORDER BY levenshtein(candidate.term, word.plain),
                                                            similarity(candidate.term, word.plain) DESC,
                                                            candidate.term) AS terms
                     FROM (SELECT term FROM (SELECT term FROM events_searchterm
                                              ORDER BY term <-> word.plain LIMIT 8) AS nearest
                            WHERE similarity(term, word.plain) >= %s
                           UNION
                           SELECT term FROM events_searchterm
                            WHERE length(word.plain) <= 5 AND term LIKE left(word.plain, 1) || '%%'
                              AND length(term) BETWEEN length(word.plain) - 1 AND length(word.plain) + 1
                              AND levenshtein(term, word.plain) <= 1) AS candidate
                    WHERE candidate.term <> word.plain
                      AND levenshtein(candidate.term, word.plain) <= CASE WHEN length(word.plain) <= 5 THEN 1
                                                                          ELSE 2 END) AS corrected
             WHERE length(word.plain) >= 3 AND corrected.terms IS NOT NULL
               AND NOT EXISTS (SELECT 1 FROM events_searchterm
                                WHERE term = word.plain OR (typed.is_prefix AND term LIKE word.plain || '%%'))
        """, [words, [index == len(words) - 1 for index in range(len(words))], TYPO_SIMILARITY])
        return {original: terms[:TYPO_ALTERNATIVES] for original, terms in cursor.fetchall()}


def _tsquery_sql(words: list[str], corrections: dict[str, list[str]], *, match_all: bool) -> tuple[str, list]:
    """The tsquery: every word (or, with match_all=False, any) — the last as a prefix in stemmed and plain
    form, each unknown one or'ed with its corrections. Words go in as parameters, never as SQL."""
    parts, params = [], []
    for index, word in enumerate(words):
        if index == len(words) - 1:
            alternatives = ["to_tsquery('evently_search', %s || ':*')", "to_tsquery('evently_names', %s || ':*')"]
            params += [word, word]
        else:
            alternatives = ["to_tsquery('evently_search', %s)"]
            params.append(word)
        for corrected in corrections.get(word, []):
            alternatives.append("to_tsquery('evently_search', %s) || to_tsquery('evently_names', %s)")
            params += [corrected, corrected]
        parts.append("(" + " || ".join(alternatives) + ")")
    return (" && " if match_all else " || ").join(parts), params


def _run(params: SearchParams, words: list[str], corrections, boosts, trending, *, match_all: bool):
    """One page of rows and the number of matches (counted up to RESULTS_WINDOW + 1: "1,000+").

    The count comes first; with it `_plan` picks how to find the page. The page is then found in two
    steps: the matching events' ids and sort keys — joining the venue and the summary only where a filter
    or the sort needs them (Postgres drops unused LEFT JOINs) — then, for the page's rows alone, everything
    a result shows and the snippet. When the plan walks the index on `starts_at`, relevance and trending
    are a union of two branches, so that a page costs what it shows rather than what matches:

    - relevance: events whose name, venue or city match (`head_vector`), ranked by `ts_rank` and the
      personal boost; then events that match in the description only, soonest first.
    - trending: events that sold in the last 24 hours (at most the 1,000 Redis returns), most tickets
      first; then all others, soonest first.

    Otherwise the matches are fetched through their own indexes and sorted by the same keys, in one branch:
    the same order (tests/discovery/test_search_filters.py checks both plans agree).
    """
    joins: list[tuple[str, list]] = []
    where: list[tuple[str, list]] = [("event.status = ANY(%s)", [list(PUBLIC_STATUSES)]), ("event.ends_at > now()", [])]
    rank_sql, distance_sql, trend_sql, boost_sql = "0::float8", "NULL::float8", "0::float8", "1::float8"
    if words:
        tsquery, tsquery_args = _tsquery_sql(words, corrections, match_all=match_all)
        joins.append((f"CROSS JOIN (SELECT {tsquery} AS query) AS text_query", tsquery_args))
        where.append((TEXT_MATCH_SQL, []))
        rank_sql = f"ts_rank('{RANK_WEIGHTS}', event.head_vector, text_query.query)"
    if boosts and words:
        joins.append(("LEFT JOIN unnest(%s::text[], %s::float8[]) AS boost(category, factor) "
                      "ON boost.category = event.category", [list(boosts), [float(f) for f in boosts.values()]]))
        boost_sql = "coalesce(boost.factor, 1)"
    if params.near:
        radius_m = params.radius_km * 1000
        joins.append(("CROSS JOIN (SELECT ll_to_earth(%s, %s) AS point) AS origin", list(params.near)))
        where.append(("earth_box(origin.point, %s) @> venue.earth_point "
                      "AND earth_distance(origin.point, venue.earth_point::earth) <= %s", [radius_m, radius_m]))
        distance_sql = "earth_distance(origin.point, venue.earth_point::earth)"
    if trending is not None:
        joins.append(("LEFT JOIN unnest(%s::bigint[], %s::float8[]) AS trend(event_id, score) "
                      "ON trend.event_id = event.id",
                      [[event_id for event_id, _ in trending], [score for _, score in trending]]))
        trend_sql = "coalesce(trend.score, 0)"
        if params.only_trending:
            where.append(("trend.score > 0", []))
    if params.categories:
        where.append(("event.category = ANY(%s)", [list(params.categories)]))
    if params.city:
        where.append(("lower(venue.city) = lower(%s)", [params.city]))
    if params.date_from:
        # The local date in the venue's (or the given) zone; the UTC bound lets the index on starts_at help.
        where.append(("event.starts_at >= %s AND (event.starts_at AT TIME ZONE coalesce(%s, venue.timezone))::date"
                      " >= %s", [datetime.combine(params.date_from, time.min, UTC) - timedelta(days=1),
                                 params.timezone, params.date_from]))
    if params.date_to:
        where.append(("event.starts_at < %s AND (event.starts_at AT TIME ZONE coalesce(%s, venue.timezone))::date"
                      " <= %s", [datetime.combine(params.date_to, time.min, UTC) + timedelta(days=2),
                                 params.timezone, params.date_to]))
    if params.price_min is not None:
        where.append(("summary.min_price >= %s", [params.price_min]))
    if params.price_max is not None:
        where.append(("summary.min_price <= %s", [params.price_max]))
    if params.available:
        where.append(("summary.available_seats > 0", []))

    from_sql = ("FROM events_event event LEFT JOIN venues_venue venue ON venue.id = event.venue_id "
                "LEFT JOIN events_eventsummary summary ON summary.event_id = event.id "
                + " ".join(sql for sql, _ in joins) + " WHERE " + " AND ".join(sql for sql, _ in where))
    from_args = [arg for _, args in joins for arg in args] + [arg for _, args in where for arg in args]
    head_sql = HEAD_MATCH_SQL if words else "false"
    with connection.cursor() as cursor:
        # First how many match, counted up to RESULTS_WINDOW and no further ("1,000+").
        cursor.execute(f"SELECT count(*) FROM (SELECT 1 {from_sql} LIMIT %s) AS capped",
                       from_args + [RESULTS_WINDOW + 1])
        total = cursor.fetchone()[0]
        if total == 0 or (params.page - 1) * params.page_size >= total:
            return [], total
        walk, split = _plan(cursor, params, from_sql, from_args, total=total, words=words, head_sql=head_sql)
        rows = _page(cursor, params, from_sql, from_args, words=words, tsquery_args=tsquery_args if words else [],
                     tsquery=tsquery if words else "", split=split, walk=walk,
                     score_sql=f"CASE WHEN {head_sql} THEN {rank_sql} * {boost_sql} ELSE 0 END",
                     distance_sql=distance_sql, trend_sql=trend_sql)
    return rows, total


def _plan(cursor, params: SearchParams, from_sql: str, from_args: list, *, total: int, words: list[str],
          head_sql: str) -> tuple[bool, tuple[str, str] | None]:
    """Whether to find the page by walking the index on starts_at (and, for relevance and trending, as two
    branches: which condition splits them, and the first branch's key), or by sorting the matches.

    Sorting costs what matches; walking costs the rows walked until a page of matches is found. With at most
    SORT_UP_TO matches (counted exactly) sorting is cheap. With more, the first WALK_PROBE events by date
    are checked: if the rows the walk would need — page end × probe size ÷ matches in the probe — stay within
    WALK_BUDGET, it walks. For relevance and trending only the second branch walks (events that match in the
    description only; events that sold nothing), so the probe counts those."""
    if total <= SORT_UP_TO or params.sort not in ("date", "relevance", "trending"):
        return False, None
    split = {"relevance": (head_sql, "score") if words else None,
             "trending": None if params.only_trending else ("trend.score > 0", "trend")}.get(params.sort)
    walked = f"NOT coalesce({split[0]}, false)" if split else "true"
    cursor.execute(
        f"SELECT count(*) FILTER (WHERE {walked}) {from_sql} AND event.id IN "
        f"(SELECT id FROM events_event WHERE status = ANY(%s) AND ends_at > now() ORDER BY starts_at, id LIMIT %s)",
        from_args + [list(PUBLIC_STATUSES), WALK_PROBE])
    found = cursor.fetchone()[0]
    walk = found > 0 and params.page * params.page_size * WALK_PROBE / found <= WALK_BUDGET
    return walk, split if walk else None


def _page(cursor, params: SearchParams, from_sql: str, from_args: list, *, words, tsquery_args, tsquery, split,
          walk, score_sql, distance_sql, trend_sql) -> list[dict]:
    # Sorting: an expression the index on starts_at cannot supply, so Postgres fetches the matches through
    # their own indexes (text, city, dates…) and sorts them instead of walking that index.
    starts_sql = "event.starts_at" if walk else "(event.starts_at + interval '0 s')"
    keys_sql = (f"SELECT event.id, {starts_sql} AS starts_at, {score_sql} AS score, {distance_sql} AS distance_m, "
                f"{trend_sql} AS trend, {'summary.min_price' if params.sort == 'price' else 'NULL'} AS sort_price "
                f"{from_sql}")
    order = {  # by the key columns' names
        "relevance": "score DESC, starts_at, id",
        "date": "starts_at, id",
        "price": "sort_price ASC NULLS LAST, starts_at, id",
        "distance": "distance_m ASC, starts_at, id",
        "trending": "trend DESC, starts_at, id",
    }[params.sort]
    offset, page_end = (params.page - 1) * params.page_size, params.page * params.page_size
    if split:
        # Two branches: the first ranks its (fewer) rows; the second walks the date index and stops after a page.
        condition, primary = split
        # A name/venue/city match is a match (head_vector's words are all in search_vector): the ranked branch
        # reads only the smaller index instead of intersecting both.
        ranked_sql = keys_sql.replace(TEXT_MATCH_SQL, "true") if condition == HEAD_MATCH_SQL else keys_sql
        keys_page_sql = f"""
            SELECT * FROM (
                (SELECT *, 0 AS branch FROM ({ranked_sql} AND {condition}) AS ranked ORDER BY {order} LIMIT %s)
                UNION ALL
                (SELECT *, 1 AS branch FROM ({keys_sql} AND NOT coalesce({condition}, false)) AS rest
                  ORDER BY starts_at, id LIMIT %s)) AS both_branches
             ORDER BY branch, CASE WHEN branch = 0 THEN {primary} END DESC, starts_at, id LIMIT %s OFFSET %s"""
        keys_args = from_args + [page_end] + from_args + [page_end, params.page_size, offset]
        page_order = f"page.branch, CASE WHEN page.branch = 0 THEN page.{primary} END DESC, page.starts_at, page.id"
    else:
        keys_page_sql = f"SELECT *, 0 AS branch FROM ({keys_sql}) AS matches ORDER BY {order} LIMIT %s OFFSET %s"
        keys_args = from_args + [params.page_size, offset]
        page_order = ", ".join("page." + key for key in order.split(", "))
    snippet_sql = ("ts_headline('evently_search', translate(event.description, E'\\x02\\x03', ''), "
                   "text_query.query, 'StartSel=\x02, StopSel=\x03, MaxWords=28, MinWords=12, ShortWord=2, "
                   "MaxFragments=1, FragmentDelimiter=\" … \"')" if words else "NULL")
    cursor.execute(f"""
        SELECT event.id, event.title, event.description, event.category, event.starts_at, event.ends_at,
               event.status, event.cover_image, venue.id AS venue_id, venue.name AS venue_name, venue.city,
               venue.timezone, summary.available_seats, summary.held_seats, summary.sold_seats,
               summary.blocked_seats, summary.min_price, summary.max_price, page.distance_m, page.trend,
               page.score, {snippet_sql} AS snippet
          FROM ({keys_page_sql}) AS page
          JOIN events_event event ON event.id = page.id
          JOIN venues_venue venue ON venue.id = event.venue_id
          LEFT JOIN events_eventsummary summary ON summary.event_id = event.id
          {"CROSS JOIN (SELECT " + tsquery + " AS query) AS text_query" if words else ""}
         ORDER BY {page_order}""", keys_args + tsquery_args)
    columns = [column.name for column in cursor.description]
    return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]


def _result(row: dict, params: SearchParams) -> dict:
    available = row["available_seats"] or 0
    total = available + (row["held_seats"] or 0) + (row["sold_seats"] or 0) + (row["blocked_seats"] or 0)
    if row["status"] == "sold_out" or (total and available == 0):
        availability = "sold_out"
    elif available <= FEW_SEATS_LEFT or available * 20 <= total:
        availability = "few_left"
    else:
        availability = "available"
    result = {
        "id": row["id"],
        "title": row["title"],
        "category": row["category"],
        "starts_at": row["starts_at"].isoformat(),
        "ends_at": row["ends_at"].isoformat(),
        "status": row["status"],
        "venue": {"id": row["venue_id"], "name": row["venue_name"], "city": row["city"],
                  "timezone": row["timezone"]},
        "min_price": _money(row["min_price"]),
        "max_price": _money(row["max_price"]),
        "available_seats": available,
        "availability": availability,
        "url": f"/events/{row['id']}/",
        "image_url": _image_url(row),
        "snippet": _snippet(row),
    }
    if params.near:
        result["distance_km"] = round(row["distance_m"] / 1000, 1)
    if params.sort == "trending" or params.only_trending:
        result["tickets_sold_24h"] = round(row["trend"], 1)
    return result


def _money(amount: Decimal | None) -> str | None:
    return None if amount is None else str(amount)


def _image_url(row: dict) -> str:
    if row["cover_image"]:
        return default_storage.url(row["cover_image"])
    return static(f"events/img/{row['category']}.svg")


def _snippet(row: dict) -> str:
    """Safe HTML: the description's best fragment with matched words in <mark>, or its opening words."""
    if row["snippet"]:
        text = html.escape(row["snippet"]).replace("\x02", "<mark>").replace("\x03", "</mark>")
        return text
    words = (row["description"] or "").split()
    return html.escape(" ".join(words[:28]) + (" …" if len(words) > 28 else ""))

