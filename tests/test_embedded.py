"""`make run` and `make test` on a machine with nothing but Python: embedded Postgres and Redis."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

BASE_DIR = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.slow


def clean_env(var_dir: Path, **extra) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "EVENTLY_LOCAL"}}
    env.update({"EVENTLY_VAR_DIR": str(var_dir), **extra})
    return env


def postgres_running(var_dir: Path) -> bool:
    pid_file = var_dir / "postgres" / "postmaster.pid"
    if not pid_file.exists():
        return False
    pid = int(pid_file.read_text().split()[0])
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_exec_starts_embedded_services_and_stops_them_after(tmp_path):
    probe = (
        "import os, psycopg, redis;"
        "c = psycopg.connect(os.environ['DATABASE_URL'].replace('postgres://', 'postgresql://'));"
        "print('pg', c.execute('select 40 + 2').fetchone()[0]);"
        "print('redis', redis.Redis.from_url(os.environ['REDIS_URL']).ping())"
    )
    result = subprocess.run(
        [sys.executable, "-m", "evently.embedded", "exec", "--", sys.executable, "-c", probe],
        cwd=BASE_DIR, env=clean_env(tmp_path), capture_output=True, text=True, timeout=180,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "pg 42" in result.stdout and "redis True" in result.stdout
    assert (tmp_path / "postgres" / "PG_VERSION").exists()  # data kept in var/ for the next run
    assert not postgres_running(tmp_path)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _get(url: str):
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.status, response.read()


def test_run_serves_demo_events_and_stops_cleanly_on_ctrl_c(tmp_path):
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "evently.embedded", "run"], cwd=BASE_DIR,
        env=clean_env(tmp_path, PORT=str(port), WEB_WORKERS="1", Q_WORKERS="1", DEMO_CATALOGUE_EVENTS="40"),
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 240
        while True:
            try:
                status, body = _get(base + "/")
                break
            except OSError:
                assert process.poll() is None, process.stdout.read()
                assert time.monotonic() < deadline, "make run did not answer in time"
                time.sleep(1)
        assert status == 200 and b"Find your next event" in body
        events = json.loads(_get(base + "/api/events?q=championship")[1])["results"]
        stadium = next(e for e in events if e["title"] == "Championship Final")
        trending = json.loads(_get(base + "/api/events?sort=trending&page_size=1")[1])["results"]
        assert trending[0]["tickets_sold_24h"] > 0  # the demo's box-office sales, folded and in Redis
        layout = json.loads(_get(base + f"/api/events/{stadium['id']}/layout")[1])
        assert sum(len(r["seats"]) for s in layout["sections"] for r in s["rows"]) == 50_000
    finally:
        process.send_signal(signal.SIGINT)
        output, _ = process.communicate(timeout=60)
    assert process.returncode == 0, output
    assert "organizer / evently-demo" in output
    assert not postgres_running(tmp_path)
