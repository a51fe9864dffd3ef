"""Prepared statements for the hot path (see PreparedCursor); evently/database.py has the connection settings."""

from __future__ import annotations

import contextlib
import time

import psycopg
from django.db import DEFAULT_DB_ALIAS, connections


class PreparedCursor:
    """A psycopg cursor with server-side binding that prepares what it runs, behind Django's error
    translation and query log.

    For the statements a sale runs thousands of times a second (hold, reserve, sell): Django's own
    cursors merge the parameters into the SQL text in Python and Postgres plans every statement
    anew; here the parameters travel apart and a persistent connection plans each statement once.
    Errors surface as Django's (`IntegrityError`, `OperationalError` with the psycopg error as
    `__cause__`), and `CaptureQueriesContext` / DEBUG still see every statement.
    """

    def __init__(self, db, cursor):
        self.db, self.cursor = db, cursor

    def execute(self, sql: str, params=None):
        started = time.monotonic()
        try:
            with self.db.wrap_database_errors:
                return self.cursor.execute(sql, params, prepare=self.db.settings_dict["OPTIONS"].get(
                    "prepare_threshold") is not None)
        finally:
            if self.db.queries_logged:
                self.db.queries_log.append({"sql": f"{sql} -- {params!r}",
                                            "time": f"{time.monotonic() - started:.3f}"})

    def fetchone(self):
        with self.db.wrap_database_errors:
            return self.cursor.fetchone()

    def fetchall(self):
        with self.db.wrap_database_errors:
            return self.cursor.fetchall()

    @property
    def rowcount(self) -> int:
        return self.cursor.rowcount


@contextlib.contextmanager
def prepared_cursor(alias: str = DEFAULT_DB_ALIAS):
    """`with prepared_cursor() as cursor:` where a hot path would write `with connection.cursor() as cursor:`.

    Prepared statements are off behind a transaction pooler (DB_PREPARED_STATEMENTS): the parameters
    still travel apart, the statement is just not kept.
    """
    db = connections[alias]
    db.close_if_health_check_failed()  # as Django's own cursors do (CONN_HEALTH_CHECKS)
    db.ensure_connection()
    with psycopg.Cursor(db.connection) as cursor:
        yield PreparedCursor(db, cursor)
