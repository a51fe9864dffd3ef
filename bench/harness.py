"""Shared plumbing of the benchmarks: services, the app under test, CPU accounting from /proc, results.

Every benchmark needs the same honest set-up, so it lives here once:
- the app started exactly as `make run` starts it (`python -m evently.embedded run`), on a port and with a
  server layout of our choosing, DEBUG off — or a running app given by URL;
- CPU time per process group (web, worker, Postgres, Redis, load generator) read from /proc before and
  after the timed window, because "bookings per second" alone cannot say where the cores went;
- a JSON result with machine, commit and settings, so that figures from different days can be compared.
Every wait is bounded; whatever is started here is stopped here, by process id.
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import resource
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote, urlparse

BASE_DIR = Path(__file__).resolve().parent.parent
RESULTS_DIR = BASE_DIR / "bench" / "results"
# The bench's own embedded Postgres/Redis: benchmarks create and delete events, which must not touch
# the data of `make run` (var/). A first start migrates and loads the demo data once.
BENCH_VAR_DIR = BASE_DIR / "var" / "bench"
DEFAULT_PORT = 8100
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def log(message: str) -> None:
    print(f"[bench] {message}", flush=True)


# --- tools -------------------------------------------------------------------------------------------


def wrk_path() -> str:
    """Debian's wrk, installed with apt-get when missing and we are root (like the Makefile's browser target)."""
    path = shutil.which("wrk")
    if path:
        return path
    if os.geteuid() == 0 and shutil.which("apt-get"):
        log("installing Debian's wrk (the load generator)")
        install = ["apt-get", "install", "-y", "-qq", "wrk"]
        if subprocess.run(install, capture_output=True, timeout=300).returncode != 0:
            subprocess.run(["apt-get", "update", "-qq"], capture_output=True, timeout=300)
            subprocess.run(install, capture_output=True, timeout=300)
    path = shutil.which("wrk")
    if not path:
        raise SystemExit("wrk is not installed and could not be installed: apt-get install wrk")
    return path


def raise_open_files_limit() -> int:
    """Thousands of viewers need thousands of sockets, on both ends; children inherit the limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY:
        hard = 1 << 20
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


# --- database and Redis ---------------------------------------------------------------------------------


def running_app_env(var_dir: Path) -> dict[str, str]:
    """DATABASE_URL / REDIS_URL of a `make run` whose embedded services live in `var_dir` (empty if none).

    Lets `make bench BENCH_URL=...` audit the database of an app someone else started.
    """
    env = {}
    pid_file = var_dir / "postgres" / "postmaster.pid"
    if pid_file.exists():
        lines = pid_file.read_text().splitlines()
        if len(lines) >= 5 and Path(f"/proc/{lines[0].strip()}").exists():
            port, socket_dir = lines[3].strip(), lines[4].strip()
            env["DATABASE_URL"] = f"postgres://postgres@{quote(socket_dir, safe='')}:{port}/evently"
    redis_socket = var_dir / "redis.socket"
    if redis_socket.exists():
        env["REDIS_URL"] = f"unix://{redis_socket}?db=0"
    return env


def django_setup() -> None:
    """Configure Django in this process (the bench reads and audits the database directly)."""
    if str(BASE_DIR) not in sys.path:
        sys.path.insert(0, str(BASE_DIR))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "evently.settings")
    os.environ.setdefault("EVENTLY_LOCAL", "1")
    import django
    from django.apps import apps

    if not apps.ready:
        django.setup()


@contextlib.contextmanager
def services(*, url: str | None, var_dir: Path = BENCH_VAR_DIR):
    """Postgres and Redis for the benchmark, with Django set up against them; yields the environment.

    DATABASE_URL / REDIS_URL from the environment win (the machine's servers, CI). Against a running app
    (`url`) without them, that app's embedded services in var/ are found. Otherwise the bench starts its
    own embedded services in var/bench and stops them at the end.
    """
    if url and not os.environ.get("DATABASE_URL"):
        os.environ.update({k: v for k, v in running_app_env(BASE_DIR / "var").items() if k not in os.environ})
        if not os.environ.get("DATABASE_URL"):
            raise SystemExit("BENCH_URL given but no DATABASE_URL: the audit needs the app's database")
    from evently.embedded import embedded_services

    with embedded_services(var_dir) as env:
        os.environ.update(env)
        django_setup()
        yield env


def database_pid() -> int | None:
    """The postmaster's pid: the parent of our own backend (works for embedded and machine Postgres)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        backend = cursor.fetchone()[0]
    stat = read_stat(backend)
    return stat.ppid if stat else None


def redis_client():
    import redis
    from django.conf import settings

    return redis.Redis.from_url(settings.REDIS_URL)


def redis_pid() -> int | None:
    try:
        return int(redis_client().info("server")["process_id"])
    except Exception:  # noqa: BLE001 - without it Redis CPU is reported as unknown
        return None


def worker_queue_size() -> int | None:
    """Tasks waiting for the django-q2 worker (PDFs, e-mails): a backlog from one run skews the next."""
    try:
        from django_q.brokers import get_broker

        return int(get_broker().queue_size())
    except Exception:  # noqa: BLE001
        return None


def unsent_bench_emails() -> int | None:
    """E-mails of bench buyers not sent yet: work the bookings caused that the app may defer (during a
    rush e-mails wait for a sweep) — the worker's queue alone does not show it."""
    try:
        from bench.inventory import BENCH_EMAIL_DOMAIN
        from ticketing.models import OutgoingEmail

        return OutgoingEmail.objects.filter(sent_at__isnull=True, to__endswith=f"@{BENCH_EMAIL_DOMAIN}",
                                            attempts__lt=5).count()
    except Exception:  # noqa: BLE001 - a changed model only loses this figure
        return None


def wait_worker_idle(timeout: float = 60) -> dict:
    """Wait (bounded) until the worker's queue is empty, so a run does not pay for the last one's work."""
    started = time.monotonic()
    size = worker_queue_size()
    while size and time.monotonic() - started < timeout:
        time.sleep(1)
        size = worker_queue_size()
    return {"queue_at_start": size, "waited_s": round(time.monotonic() - started, 1),
            "unsent_emails_at_start": unsent_bench_emails()}


def background_groups(groups: ProcessGroups) -> ProcessGroups:
    """The processes that work off a sale's backlog: worker, Postgres, Redis."""
    return ProcessGroups(roots={k: v for k, v in groups.roots.items() if k in ("worker", "postgres", "redis")})


def idle_cores(groups: ProcessGroups, seconds: float = 2) -> dict[str, float]:
    """CPU cores the background processes use with nothing to do (django-q2 polls Redis, schedules…),
    sampled before any load, so that the backlog's cost can be told from it."""
    meter = CpuMeter(background_groups(groups))
    meter.start()
    time.sleep(seconds)
    meter.stop()
    return {name: round(s / meter.wall, 3) for name, s in meter.seconds().items() if name != "bench"}


def drain_worker(groups: ProcessGroups, *, per: int, timeout: float, idle: dict[str, float],
                 backlog_before_window: int = 0) -> dict:
    """After the window: the backlog (the worker's queue and e-mails held back during the rush) is work the
    bookings caused too. Wait (bounded) while the worker drains it and measure what that costs, so the
    worker's CPU per booking is not flattered by work left for later.

    `idle`: the background processes' idle cores (see idle_cores), subtracted. The cost per backlog item
    drained is charged for the items this window added (the backlog now minus `backlog_before_window`), so
    a backlog not gone within `timeout` is extrapolated (`estimated`) and a warm-up's is not charged.
    """
    before = (worker_queue_size() or 0) + (unsent_bench_emails() or 0)
    meter = CpuMeter(background_groups(groups))
    meter.start()
    left = before
    while left and time.monotonic() - meter.started < timeout:
        time.sleep(1)
        left = (worker_queue_size() or 0) + (unsent_bench_emails() or 0)
    if before and not left:
        time.sleep(1)  # the last tasks taken off the queue are still running
    meter.stop()
    drained, added = before - left, max(0, before - backlog_before_window)
    share = added / drained if drained else (0.0 if not before else None)  # items charged per item drained
    used = {name: max(0.0, s - idle.get(name, 0.0) * meter.wall) for name, s in meter.seconds().items()
            if name != "bench"}
    return {"seconds": round(meter.wall, 1), "backlog_before_window": backlog_before_window,
            "backlog_at_start": before, "backlog_left": left, "estimated": bool(left), "idle_cores": idle,
            "ms_per_booking": {name: round(s * share * 1000 / per, 3) if per and share is not None else None
                               for name, s in used.items()}}


# --- the app under test -----------------------------------------------------------------------------------


# Every benchmark buyer comes from 127.0.0.1: the per-IP and per-network abuse limits (and the
# per-IP seat cap) would throttle the load itself. They are off; the per-session buckets stay, so
# the limiter's one Redis round trip per hold and confirm is still measured (docs/security.md).
BENCH_LIMITS = {f"RATE_LIMIT_{action}_{scope}": "0" for action in ("HOLD", "CONFIRM", "PAYMENT_DECLINED")
                for scope in ("IP", "NET")} | {"MAX_SEATS_HELD_PER_IP": "0",
                                               # every viewer client connects from 127.0.0.1
                                               "LIVE_MAX_SOCKETS_PER_CLIENT": "0"}


@dataclass
class AppSettings:
    port: int = DEFAULT_PORT
    web_workers: int = 2
    web_threads: int = 8
    q_workers: int = 2
    extra_env: dict[str, str] = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {"port": self.port, "web_workers": self.web_workers, "web_threads": self.web_threads,
                "q_workers": self.q_workers, "debug": False, **({"env": self.extra_env} if self.extra_env else {})}


class App:
    """The app as `make run` starts it: `python -m evently.embedded run` (migrate, demo data, web + worker).

    It runs in its own session so that stopping it can never signal anything we did not start.
    """

    def __init__(self, app_settings: AppSettings, env: dict[str, str]):
        self.settings = app_settings
        self.url = f"http://127.0.0.1:{app_settings.port}"
        self.env = {**env, "PORT": str(app_settings.port), "HOST": "127.0.0.1",
                    "WEB_WORKERS": str(app_settings.web_workers), "WEB_THREADS": str(app_settings.web_threads),
                    "Q_WORKERS": str(app_settings.q_workers), "DEBUG": "0",
                    "PUBLIC_URL": f"http://127.0.0.1:{app_settings.port}", **BENCH_LIMITS, **app_settings.extra_env}
        self.process: subprocess.Popen | None = None
        self.log_path = BENCH_VAR_DIR / f"app-{app_settings.port}.log"

    def start(self, timeout: float = 300) -> App:
        if port_answers(self.url):
            raise SystemExit(f"port {self.settings.port} is in use: stop that server or choose another port "
                             f"(BENCH_PORT=8101 make bench, or --port)")
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log(f"starting the app on {self.url} ({self.settings.web_workers} web × {self.settings.web_threads} "
            f"threads, {self.settings.q_workers} q workers); log: {self.log_path.relative_to(BASE_DIR)}")
        with open(self.log_path, "w") as out:
            self.process = subprocess.Popen([sys.executable, "-m", "evently.embedded", "run"], cwd=BASE_DIR,
                                            env=self.env, stdout=out, stderr=subprocess.STDOUT,
                                            start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"the app exited with {self.process.returncode}: "
                                 f"{self.log_path.read_text()[-2000:]}")
            if port_answers(self.url) and self._worker_started():
                return self
            time.sleep(0.5)
        self.stop()
        raise SystemExit(f"the app did not answer within {timeout:.0f}s")

    def _worker_started(self) -> bool:
        return any("qcluster" in p.cmdline for p in descendants_of([self.process.pid], process_table()))

    def stop(self) -> None:
        """Ctrl-C to the supervisor (it stops web and worker); then whatever is left of its session —
        e.g. uvicorn workers orphaned when their master was killed while websockets were still open."""
        if not self.process:
            return
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(30)
        for sig in (signal.SIGTERM, signal.SIGKILL):
            if not _group_alive(self.process.pid):
                break
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, sig)
            deadline = time.monotonic() + 10
            while _group_alive(self.process.pid) and time.monotonic() < deadline:
                time.sleep(0.2)
        if self.process.poll() is None:
            self.process.wait(5)
        log("app stopped")

    def __enter__(self) -> App:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def _group_alive(pgid: int) -> bool:
    """Does any live (non-zombie) process of this process group remain?"""
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            with contextlib.suppress(OSError, ValueError, IndexError):
                raw = Path(f"/proc/{entry}/stat").read_text()
                fields = raw[raw.rindex(")") + 2:].split()
                if int(fields[2]) == pgid and fields[0] != "Z":
                    return True
    return False


def port_answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url + "/api/session", timeout=3) as response:
            return response.status == 200
    except (OSError, urllib.error.URLError):
        return False


# --- /proc: processes and their CPU time ------------------------------------------------------------------


@dataclass
class ProcStat:
    pid: int
    ppid: int
    comm: str
    ticks: int  # utime + stime + cutime + cstime: own CPU plus that of reaped children
    cmdline: str = ""


def read_stat(pid: int) -> ProcStat | None:
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    comm = raw[raw.index("(") + 1:raw.rindex(")")]
    fields = raw[raw.rindex(")") + 2:].split()
    # fields[0] is state (field 3 of stat); utime..cstime are fields 14..17
    ticks = sum(int(value) for value in fields[11:15])
    return ProcStat(pid=pid, ppid=int(fields[1]), comm=comm, ticks=ticks)


def process_table() -> dict[int, ProcStat]:
    table = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            stat = read_stat(int(entry))
            if stat:
                with contextlib.suppress(OSError):
                    stat.cmdline = Path(f"/proc/{entry}/cmdline").read_bytes().replace(b"\0", b" ").decode(
                        errors="replace")
                table[stat.pid] = stat
    return table


def descendants_of(roots: list[int], table: dict[int, ProcStat]) -> list[ProcStat]:
    children: dict[int, list[int]] = {}
    for stat in table.values():
        children.setdefault(stat.ppid, []).append(stat.pid)
    seen, stack = [], [pid for pid in roots if pid in table]
    while stack:
        pid = stack.pop()
        seen.append(table[pid])
        stack.extend(children.get(pid, []))
    return seen


@dataclass
class ProcessGroups:
    """Root pids per group; a group's CPU is that of its roots and all their descendants."""

    roots: dict[str, list[int]]
    notes: list[str] = field(default_factory=list)

    def dead_roots(self) -> list[str]:
        """Groups whose root process is gone: their CPU figures (and the run) are meaningless."""
        return [name for name, pids in self.roots.items() if any(not Path(f"/proc/{pid}").exists() for pid in pids)]

    def cpu_seconds(self) -> dict[str, float]:
        table = process_table()
        return {name: sum(p.ticks for p in descendants_of(pids, table)) / CLOCK_TICKS
                for name, pids in self.roots.items() if pids}

    def process_seconds(self, groups=("web", "ws", "worker", "viewers")) -> dict[int, tuple[str, str, float]]:
        """pid → (group, short command line, CPU seconds) for every process of `groups`."""
        table = process_table()
        result = {}
        for name in groups:
            for process in descendants_of(self.roots.get(name, []), table):
                words = process.cmdline.split()
                short = " ".join(w for w in words if "python" not in w and not w.startswith("/"))[:60] or process.comm
                result[process.pid] = (name, short, process.ticks / CLOCK_TICKS)
        return result


def app_process_groups(*, app_pid: int | None = None, port: int | None = None) -> ProcessGroups:
    """web (granian or uvicorn and its workers), ws (websocket-only uvicorn), worker (qcluster and its
    children), postgres (the postmaster's tree: every backend), redis — for an app we started
    (`app_pid`) or one found by its port."""
    table = process_table()
    notes = []
    if app_pid:
        children = [p for p in table.values() if p.ppid == app_pid]
        web = [p.pid for p in children if ("uvicorn" in p.cmdline or "granian" in p.cmdline)
               and "websocket_application" not in p.cmdline]
        ws = [p.pid for p in children if "uvicorn" in p.cmdline and "websocket_application" in p.cmdline]
        worker = [p.pid for p in children if "qcluster" in p.cmdline]
    else:
        ws = []
        web, worker = _find_running_app(table, port)
        if not web:
            notes.append(f"no uvicorn with --port {port} found: web CPU unknown")
        if not worker:
            notes.append("no django-q2 worker found next to the web server: worker CPU unknown")
    postgres, redis = database_pid(), redis_pid()
    if postgres is None or postgres not in table:
        notes.append("Postgres is not a local process: its CPU is unknown")
    roots = {"web": web, "worker": worker, "postgres": [postgres] if postgres in table else [],
             "redis": [redis] if redis in table else []}
    if app_pid and ws:
        roots["ws"] = ws  # websocket-only servers (make run's WS_WORKERS)
    return ProcessGroups(roots=roots, notes=notes)


def _find_running_app(table: dict[int, ProcStat], port: int | None) -> tuple[list[int], list[int]]:
    marker = f"--port {port} "
    servers = [p for p in table.values() if ("uvicorn" in p.cmdline or "granian" in p.cmdline)
               and "websocket_application" not in p.cmdline and marker in p.cmdline + " "]
    roots = [p for p in servers if p.ppid not in {s.pid for s in servers}]
    parents = {p.ppid for p in roots} - {0, 1}
    worker = [p.pid for p in table.values() if p.ppid in parents and "qcluster" in p.cmdline]
    return [p.pid for p in roots], worker


def machine_cpu_busy() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine so far, from /proc/stat (steal counted as busy)."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:9]]
    idle = values[3] + values[4]
    return (sum(values) - idle) / CLOCK_TICKS, sum(values) / CLOCK_TICKS


class CpuMeter:
    """CPU seconds per group over a window: `start()`, the timed work, `stop()`."""

    def __init__(self, groups: ProcessGroups):
        self.groups = groups
        self.before: dict[str, float] = {}
        self.after: dict[str, float] = {}

    def start(self) -> None:
        self.processes_before = self.groups.process_seconds()
        self.before = self.groups.cpu_seconds()
        self.machine_before = machine_cpu_busy()
        self.self_before = _own_cpu()
        self.started = time.monotonic()

    def stop(self) -> None:
        self.processes_after = self.groups.process_seconds()
        self.after = self.groups.cpu_seconds()
        self.machine_after = machine_cpu_busy()
        self.self_after = _own_cpu()
        self.wall = time.monotonic() - self.started

    def seconds(self) -> dict[str, float]:
        used = {name: self.after.get(name, 0.0) - self.before.get(name, 0.0) for name in self.after}
        used["bench"] = self.self_after - self.self_before  # this Python process (probes, bookkeeping)
        return used

    def report(self, *, per: int, extra: dict[str, float] | None = None) -> dict:
        """CPU seconds, cores used and CPU-ms per unit (per confirmed booking) for every group."""
        used = {**self.seconds(), **(extra or {})}
        busy = self.machine_after[0] - self.machine_before[0]
        groups = {name: {"cpu_s": round(seconds, 3), "cores": round(seconds / self.wall, 3),
                         "ms_per_booking": round(seconds * 1000 / per, 3) if per else None}
                  for name, seconds in sorted(used.items())}
        server = sum(used.get(name, 0.0) for name in ("web", "worker", "postgres", "redis"))
        ours = sum(used.values())
        return {
            "window_s": round(self.wall, 2),
            "groups": groups,
            "server_ms_per_booking": round(server * 1000 / per, 3) if per else None,
            "machine_busy_cores": round(busy / self.wall, 3),
            # what else ran on the machine meanwhile (other sessions, the kernel's softirq for loopback…)
            "other_load_cores": round(max(0.0, busy - ours) / self.wall, 3),
            # per process of the app's groups (web processes one by one, websocket processes, workers)
            "processes": [
                {"group": group, "pid": pid, "command": command,
                 "cores": round((seconds - self.processes_before.get(pid, (group, command, 0.0))[2]) / self.wall, 3)}
                for pid, (group, command, seconds) in sorted(self.processes_after.items())
                if seconds - self.processes_before.get(pid, (group, command, 0.0))[2] >= 0.01 * self.wall],
            "notes": self.groups.notes,
        }


def _own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def wait_child(process: subprocess.Popen, timeout: float, interrupt=None) -> float:
    """Wait (bounded) for a child we started; return the CPU seconds it used (wait4's rusage).

    `interrupt(elapsed_s)`: when it returns true the child gets SIGINT once (wrk then stops and reports).
    Past `timeout` the child is killed.
    """
    started = time.monotonic()
    interrupted = False
    while True:
        pid, status, usage = os.wait4(process.pid, os.WNOHANG)
        if pid:
            break
        elapsed = time.monotonic() - started
        if elapsed > timeout:
            process.kill()
            pid, status, usage = os.wait4(process.pid, 0)
            break
        if interrupt and not interrupted and interrupt(elapsed):
            process.send_signal(signal.SIGINT)
            interrupted = True
        time.sleep(0.1)
    process.returncode = os.waitstatus_to_exitcode(status)
    return usage.ru_utime + usage.ru_stime


# --- results ------------------------------------------------------------------------------------------------


def percentiles(values: list[float], points=(50, 90, 99)) -> dict:
    """Nearest-rank percentiles in milliseconds (values in seconds), plus max and count."""
    if not values:
        return {"count": 0}
    ordered = sorted(values)
    result = {f"p{p}": round(ordered[min(len(ordered) - 1, int(len(ordered) * p / 100))] * 1000, 2)
              for p in points}
    result["max"] = round(ordered[-1] * 1000, 2)
    result["count"] = len(ordered)
    return result


def git_info() -> dict:
    def git(*args):
        return subprocess.run(["git", *args], cwd=BASE_DIR, capture_output=True, text=True).stdout.strip()

    return {"commit": git("rev-parse", "HEAD"), "branch": git("rev-parse", "--abbrev-ref", "HEAD"),
            "dirty": bool(git("status", "--porcelain", "--untracked-files=no"))}


def machine_info() -> dict:
    cpu_model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                      if line.startswith("model name")), platform.processor())
    mem_kb = int(Path("/proc/meminfo").read_text().split()[1])
    info = {"cpus": os.cpu_count(), "cpu_model": cpu_model, "memory_gib": round(mem_kb / 2**20, 1),
            "kernel": platform.release(), "python": platform.python_version(),
            "load_average": [round(x, 2) for x in os.getloadavg()]}
    with contextlib.suppress(Exception):
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute("SHOW server_version")
            info["postgres"] = cursor.fetchone()[0]
    with contextlib.suppress(Exception):
        info["redis"] = redis_client().info("server")["redis_version"]
    if shutil.which("wrk"):
        version = subprocess.run(["wrk", "-v"], capture_output=True, text=True)
        info["wrk"] = (version.stdout or version.stderr).split(" [")[0].strip()
    return info


def result_envelope(name: str, settings: dict) -> dict:
    """The common head of every result file."""
    return {"benchmark": name, "at": datetime.now(UTC).isoformat(timespec="seconds"), "git": git_info(),
            "machine": machine_info(), "settings": settings}


def write_result(name: str, result: dict) -> Path:
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    result["machine"]["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    path = RESULTS_DIR / f"{name}-{datetime.now(UTC):%Y%m%d-%H%M%S}.json"
    path.write_text(json.dumps(result, indent=2) + "\n")
    log(f"results written to {path.relative_to(BASE_DIR)}")
    return path


def url_port(url: str) -> int | None:
    return urlparse(url).port
