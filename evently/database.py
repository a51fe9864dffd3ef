"""How Django talks to Postgres: directly, or through PgBouncer in transaction pooling mode.

Behind a transaction pooler a server connection is ours for one transaction only, so nothing may
outlive a transaction on it (docs/scaling.md, "PgBouncer"):

- no `WITH HOLD` cursors: `QuerySet.iterator()` declares one outside a transaction and fetches
  from it in later ones → DISABLE_SERVER_SIDE_CURSORS;
- no named prepared statements (PgBouncer < 1.21, or without `max_prepared_statements`): the next
  execution may land on a server connection that never saw the PREPARE → prepared statements off.
- advisory locks only at transaction level (`pg_advisory_xact_lock`), settings only with
  `SET LOCAL` / `set_config(..., true)`: the code base uses no other kind.

Django's own cursors bind parameters client-side and never prepare. psycopg prepares only where
a cursor asks (`prepare=True`: the door scan) and only when the connection's `prepare_threshold`
is not None — Django sets None unless OPTIONS says otherwise, so without a threshold here the
scan would silently never be prepared.
"""

from __future__ import annotations

import dj_database_url

PSYCOPG_PREPARE_THRESHOLD = 5  # psycopg's own default: a query seen 5 times on a connection is prepared


def database_config(url: str, *, conn_max_age: int, transaction_pooling: bool, prepared_statements: bool) -> dict:
    config = dj_database_url.parse(url, conn_max_age=conn_max_age)
    config.setdefault("OPTIONS", {})
    config["DISABLE_SERVER_SIDE_CURSORS"] = transaction_pooling
    if prepared_statements:
        config["OPTIONS"]["prepare_threshold"] = PSYCOPG_PREPARE_THRESHOLD
    return config
