"""`make cluster` for tests: the real runner (`python -m evently.embedded cluster`) against the test database.

haproxy in front of two app nodes, PgBouncer in transaction pooling mode, two django-q2 clusters
(one would do; two show that schedules still run once), the test run's Redis. The runner also
migrates (a no-op here) and loads the demo data, like `make cluster` on a fresh clone. Tests talk
to it over HTTP and websockets, and read and write the database directly: the cluster's processes
only see committed data, so every test is `django_db(transaction=True)`.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from tests.asgi_server import test_database_url

BASE_DIR = Path(__file__).resolve().parents[2]


def _tool(name: str) -> str | None:
    return shutil.which(name) or shutil.which(name, path="/usr/sbin:/usr/local/sbin:/sbin")


def _free_port_block(count: int) -> int:
    """The first of `count` consecutive free ports on 127.0.0.1."""
    for _ in range(200):
        base = random.randint(20000, 40000)
        sockets = []
        try:
            for port in range(base, base + count):
                sock = socket.socket()
                sockets.append(sock)
                sock.bind(("127.0.0.1", port))
            return base
        except OSError:
            continue
        finally:
            for sock in sockets:
                sock.close()
    raise RuntimeError("no free block of ports")


@dataclass
class Cluster:
    url: str
    var_dir: Path
    process: subprocess.Popen
    log_path: Path
    pgbouncer_port: int
    state: dict = field(default_factory=dict)

    def refresh(self) -> dict:
        self.state = json.loads((self.var_dir / "cluster" / "cluster.json").read_text())
        return self.state

    def node_url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.state['processes'][name]['port']}"

    def pid(self, name: str) -> int:
        return self.refresh()["processes"][name]["pid"]

    def log_tail(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:]

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode


def _ready(url: str) -> bool:
    try:
        with urllib.request.urlopen(url + "/healthz", timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


@pytest.fixture(scope="module")
def cluster(django_db_setup):
    missing = [tool for tool in ("haproxy", "pgbouncer") if not _tool(tool)]
    if missing:
        pytest.skip(f"{' and '.join(missing)} not installed: `make cluster-tools` installs Debian's packages")
    port = _free_port_block(3)  # the balancer, then web1 and web2
    # Under the worktree's var/, not /tmp: pytest prunes old /tmp/pytest-of-<user> directories, also
    # those of other runs on the same machine.
    var_dir = BASE_DIR / "var" / f"cluster-test-{port}"
    shutil.rmtree(var_dir, ignore_errors=True)
    var_dir.mkdir(parents=True)
    pgbouncer_port = _free_port_block(1)
    env = dict(os.environ)
    env.update({
        "DATABASE_URL": test_database_url(), "EVENTLY_LOCAL": "1", "EVENTLY_VAR_DIR": str(var_dir),
        "PORT": str(port), "CLUSTER_NODE_PORT": str(port + 1), "CLUSTER_NODES": "2",
        "PGBOUNCER_PORT": str(pgbouncer_port),
        "CLUSTER_WORKERS": "2", "Q_WORKERS": "1", "Q_CLUSTER_NAME": f"evently-cluster-test-{port}",
        "WEB_THREADS": "8", "LOG_LEVEL": "ERROR",
        # Every test buyer comes from 127.0.0.1: the per-IP and per-network abuse limits (tests/trust)
        # would throttle the races here; the per-session ones stay on.
        **{f"RATE_LIMIT_{action}_{scope}": "0" for action in ("HOLD", "CONFIRM", "PAYMENT_DECLINED")
           for scope in ("IP", "NET")},
        "MAX_SEATS_HELD_PER_IP": "0",
    })
    env.pop("PUBLIC_URL", None)
    env.pop("PAYMENT_PROVIDER", None)
    log_path = var_dir / "cluster.log"
    with open(log_path, "w") as log:
        process = subprocess.Popen([sys.executable, "-m", "evently.embedded", "cluster"], cwd=BASE_DIR, env=env,
                                   stdout=log, stderr=subprocess.STDOUT)
    running = Cluster(url=f"http://127.0.0.1:{port}", var_dir=var_dir, process=process, log_path=log_path,
                      pgbouncer_port=pgbouncer_port)
    deadline = time.monotonic() + 240
    while not ((var_dir / "cluster" / "cluster.json").exists() and _ready(running.url)):
        if process.poll() is not None or time.monotonic() > deadline:
            running.stop()
            pytest.fail(f"make cluster did not start:\n{running.log_tail()}")
        time.sleep(0.5)
    running.refresh()
    yield running
    running.stop()
    shutil.rmtree(var_dir, ignore_errors=True)


class HttpBuyer:
    """A browser-like buyer over real HTTP: its own session cookie, CSRF header on every POST.

    Cookies belong to 127.0.0.1 whatever the port, so one buyer can talk to the balancer and to
    each node directly with the same session, as a buyer whose requests land on different nodes.
    """

    def __init__(self, base_url: str, *, timeout: float = 30):
        self.base_url = base_url
        self.client = httpx.Client(base_url=base_url, timeout=timeout)
        self.nodes: list[str] = []
        self.token = self.get("/api/session").json()["csrf_token"]

    def _seen(self, response: httpx.Response) -> httpx.Response:
        self.nodes.append(response.headers.get("x-evently-node", "?"))
        return response

    def get(self, path: str, *, via: str | None = None) -> httpx.Response:
        return self._seen(self.client.get((via or "") + path))

    def post(self, path: str, payload: dict, *, via: str | None = None, **headers) -> httpx.Response:
        headers = {"X-CSRFToken": self.token, "Referer": via or self.base_url, **headers}
        return self._seen(self.client.post((via or "") + path, json=payload, headers=headers))

    def hold(self, event_id: int, seat_ids, **kwargs) -> httpx.Response:
        return self.post("/api/seats/hold", {"event_id": event_id, "seat_ids": list(seat_ids)}, **kwargs)

    def confirm(self, event_id: int, *, key: str | None = None, token: str = "tok_ok", **kwargs) -> httpx.Response:
        payload = {"event_id": event_id, "payment_token": token,
                   "customer": {"name": "Grace Hopper", "email": f"{uuid.uuid4().hex[:12]}@example.com"}}
        headers = {"Idempotency-Key": key} if key else {}
        return self.post("/api/bookings/confirm", payload, **kwargs, **headers)

    def close(self) -> None:
        self.client.close()
