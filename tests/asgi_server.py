"""A real Evently server (uvicorn, the production ASGI app: HTTP + websockets) for browser tests.

It runs in a subprocess against the test database, so tests that use it need committed data
(`@pytest.mark.django_db(transaction=True)`).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import quote

from django.db import connection

BASE_DIR = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_database_url() -> str:
    params = connection.settings_dict
    host = params.get("HOST") or "127.0.0.1"
    port = f":{params['PORT']}" if params.get("PORT") else ""
    password = f":{quote(params['PASSWORD'], safe='')}" if params.get("PASSWORD") else ""
    user = quote(params["USER"] or "postgres", safe="")
    return f"postgres://{user}{password}@{quote(host, safe='')}{port}/{params['NAME']}"


class AsgiServer:
    def __init__(self, app: str = "evently.asgi:application", **env_overrides: str):
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = dict(os.environ)
        env.update({"DATABASE_URL": test_database_url(), "EVENTLY_LOCAL": "1", "DB_CONN_MAX_AGE": "0"})
        env.update(env_overrides)
        self.log_path = BASE_DIR / "var" / f"asgi-test-{self.port}.log"
        self.log_path.parent.mkdir(exist_ok=True)
        self._log = open(self.log_path, "w")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", app, "--host", "127.0.0.1",
             "--port", str(self.port), "--no-access-log", "--lifespan", "off", "--log-level", "warning"],
            cwd=BASE_DIR, env=env, stdout=self._log, stderr=subprocess.STDOUT,
        )
        self._wait_ready(app)

    def _wait_ready(self, app: str, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"test server exited: {self.log_path.read_text()[-2000:]}")
            try:
                probe = "/ws/health" if app.endswith(":websocket_application") else "/api/session"
                with urllib.request.urlopen(self.url + probe, timeout=2) as response:
                    if response.status == 200:
                        return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError(f"test server did not answer in {timeout}s: {self.log_path.read_text()[-2000:]}")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self._log.close()
