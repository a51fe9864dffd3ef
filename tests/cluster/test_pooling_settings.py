"""What the app does differently behind PgBouncer's transaction pooling (evently/database.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone

from checkin.services import _scan_statement_execute
from evently.database import database_config

BASE_DIR = Path(__file__).resolve().parents[2]
URL = "postgres://app:secret@127.0.0.1:6432/evently"


def test_transaction_pooling_turns_off_server_side_cursors_and_prepared_statements():
    pooled = database_config(URL, conn_max_age=600, transaction_pooling=True, prepared_statements=False)
    direct = database_config(URL, conn_max_age=600, transaction_pooling=False, prepared_statements=True)
    assert pooled["DISABLE_SERVER_SIDE_CURSORS"] is True and "prepare_threshold" not in pooled["OPTIONS"]
    assert direct["DISABLE_SERVER_SIDE_CURSORS"] is False and direct["OPTIONS"]["prepare_threshold"] == 5


@pytest.mark.parametrize(("env", "expected"), [
    ({"DB_TRANSACTION_POOLING": "1"}, [True, False, None]),
    ({}, [False, True, 5]),
    # PgBouncer >= 1.21 with max_prepared_statements takes protocol-level prepared statements
    ({"DB_TRANSACTION_POOLING": "1", "DB_PREPARED_STATEMENTS": "1"}, [True, True, 5]),
])
def test_settings_read_the_pooling_mode_from_the_environment(env, expected):
    probe = ("import django, json; django.setup(); from django.conf import settings as s; "
             "d = s.DATABASES['default']; print(json.dumps([d['DISABLE_SERVER_SIDE_CURSORS'], "
             "s.DB_PREPARED_STATEMENTS, d['OPTIONS'].get('prepare_threshold')]))")
    clean = {k: v for k, v in os.environ.items() if not k.startswith("DB_")}
    result = subprocess.run([sys.executable, "-c", probe], cwd=BASE_DIR, capture_output=True, text=True, timeout=60,
                            env={**clean, "DJANGO_SETTINGS_MODULE": "evently.settings", "DATABASE_URL": URL,
                                 "EVENTLY_LOCAL": "1", **env})
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1]) == expected


@pytest.mark.django_db
def test_on_a_direct_connection_the_door_scan_really_is_a_prepared_statement(event, organizer):
    # Django turns psycopg's prepared statements off unless told otherwise; the scan asks for one.
    now = timezone.now()
    for _ in range(2):
        _scan_statement_execute({
            "nonce": uuid.uuid4().hex, "event_id": event.pk, "ticket_id": 0, "ticket_nonce": 0, "window_reason": "",
            "admitted_at": now, "scanned_at": now, "received_at": now, "gate": "Main", "device": "d1",
            "is_offline": False, "local_result": "", "user_id": organizer.pk, "is_manual": False,
        })
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE '%%checkin_admission%%'")
        assert cursor.fetchone()[0] == 1
