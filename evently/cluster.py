"""The pieces `python -m evently.embedded cluster` (`make cluster`) puts together on one machine.

    haproxy (one URL: HTTP and websockets) ─┬─ web1 … webN   uvicorn processes, no embedded services
                                            └─ /ws/ → the same nodes, or CLUSTER_WS_NODES dedicated ones
    web nodes + the django-q2 cluster ─── PgBouncer (transaction pooling) ─── Postgres;  Redis

This module only describes them: the settings read from the environment, the PgBouncer and
haproxy configuration files, and where the binaries are. `evently.embedded` starts and stops the
processes. Everything listens on 127.0.0.1 unless HOST says otherwise.
"""

from __future__ import annotations

import os
import pwd
import shutil
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured

INSTALL_HINT = "run `make cluster-tools` (as root it installs Debian's haproxy and pgbouncer with apt-get)"


@dataclass(frozen=True)
class ClusterSettings:
    host: str
    port: int  # the balancer: the one URL
    nodes: int  # web nodes behind it
    ws_nodes: int  # dedicated websocket nodes for /ws/; 0 = the web nodes serve /ws/ too
    node_port: int  # first node's port; the others follow
    web_workers: int  # uvicorn processes per node
    workers: int  # django-q2 clusters (one is enough; more only to show schedules still run once)
    pgbouncer_port: int
    pool_size: int  # server connections PgBouncer keeps per database and user

    @classmethod
    def from_env(cls, env: dict[str, str]) -> ClusterSettings:
        def number(name: str, default: int, minimum: int = 0) -> int:
            raw = env.get(name)
            value = default if raw in (None, "") else _whole_number(name, raw)
            if value < minimum:
                raise ImproperlyConfigured(f"{name} must be at least {minimum}, not {value}.")
            return value

        port = number("PORT", 8000, 1)
        nodes = number("CLUSTER_NODES", 2, 1)
        return cls(
            host=env.get("HOST") or "127.0.0.1",
            port=port,
            nodes=nodes,
            ws_nodes=number("CLUSTER_WS_NODES", 0),
            node_port=number("CLUSTER_NODE_PORT", port + 1, 1),
            web_workers=number("WEB_WORKERS", 1, 1),
            workers=number("CLUSTER_WORKERS", 1, 1),
            pgbouncer_port=number("PGBOUNCER_PORT", 6432, 1),
            pool_size=number("PGBOUNCER_POOL_SIZE", 20, 1),
        )

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def web_ports(self) -> list[int]:
        return [self.node_port + i for i in range(self.nodes)]

    def ws_ports(self) -> list[int]:
        return [self.node_port + self.nodes + i for i in range(self.ws_nodes)]


def _whole_number(name: str, raw: str) -> int:
    try:
        return int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {raw!r}.") from None


def binary(name: str) -> str:
    """The path of a system binary (Debian puts haproxy and pgbouncer in /usr/sbin)."""
    found = shutil.which(name) or shutil.which(name, path="/usr/sbin:/usr/local/sbin:/sbin")
    if not found:
        raise ImproperlyConfigured(f"{name} is not installed: {INSTALL_HINT}.")
    return found


# ---------------------------------------------------------------------------------------- PgBouncer


@dataclass(frozen=True)
class Database:
    """The parts of a postgres:// URL PgBouncer needs to log in to the server."""

    user: str
    password: str
    host: str  # a hostname, or a unix socket directory (starts with /)
    port: int
    name: str

    @classmethod
    def from_url(cls, url: str) -> Database:
        parts = urlsplit(url)
        if parts.scheme not in {"postgres", "postgresql", "pgsql"}:
            raise ImproperlyConfigured(f"DATABASE_URL must be a postgres:// URL, not {parts.scheme}://")
        # urlsplit lower-cases and rejects %2F hosts in .hostname; read the netloc ourselves.
        netloc = parts.netloc.rsplit("@", 1)
        credentials, address = (netloc[0], netloc[1]) if len(netloc) == 2 else ("", netloc[0])
        user, _, password = credentials.partition(":")
        host, port = address, "5432"
        if address.startswith("["):  # [::1] or [::1]:5432
            host, _, rest = address[1:].partition("]")
            port = rest.lstrip(":") or "5432"
        elif address.count(":") == 1:
            host, port = address.split(":")
        return cls(
            user=unquote(user) or "postgres", password=unquote(password), host=unquote(host) or "127.0.0.1",
            port=int(port or 5432), name=unquote(parts.path.lstrip("/")) or "postgres",
        )

    def url_via(self, host: str, port: int) -> str:
        """The same database and login, reached through PgBouncer."""
        password = f":{quote(self.password, safe='')}" if self.password else ""
        return f"postgres://{quote(self.user, safe='')}{password}@{host}:{port}/{quote(self.name, safe='')}"


def pgbouncer_run_as(database: Database) -> str | None:
    """PgBouncer refuses to run as root: as root, run it as the user that can reach Postgres's socket."""
    if os.geteuid() != 0:
        return None
    if database.host.startswith("/") and os.path.isdir(database.host):
        return pwd.getpwuid(os.stat(database.host).st_uid).pw_name if os.stat(database.host).st_uid else "nobody"
    return "nobody"


def pgbouncer_write_config(directory: Path, *, database: Database, settings: ClusterSettings) -> Path:
    """pgbouncer.ini and its auth file; returns the ini's path.

    Transaction pooling: a server connection belongs to a client only for one transaction, so the
    app must keep no state in the session between transactions (docs/scaling.md, "PgBouncer").
    Every database name is passed through (`*`), so the test database works like the real one.
    """
    directory.mkdir(parents=True, exist_ok=True)
    run_as = pgbouncer_run_as(database)
    auth_file = directory / "userlist.txt"
    auth_file.write_text(f'"{_pgb_quote(database.user)}" "{_pgb_quote(database.password)}"\n')
    server = f"host={database.host} port={database.port}"
    ini = directory / "pgbouncer.ini"
    ini.write_text(
        "\n".join(
            [
                "; written by `make cluster` (evently/cluster.py) — edits are overwritten",
                "[databases]",
                f"* = {server}",
                "",
                "[pgbouncer]",
                "listen_addr = 127.0.0.1",
                f"listen_port = {settings.pgbouncer_port}",
                "unix_socket_dir =",
                # A password in DATABASE_URL: clients prove it with SCRAM, PgBouncer logs in with it.
                f"auth_type = {'scram-sha-256' if database.password else 'trust'}",
                f"auth_file = {auth_file}",
                "pool_mode = transaction",
                f"default_pool_size = {settings.pool_size}",
                "reserve_pool_size = 5",
                "max_client_conn = 2000",
                "server_lifetime = 3600",
                "server_idle_timeout = 60",
                # psycopg sends none of these; other clients (psql, JDBC) might.
                "ignore_startup_parameters = extra_float_digits",
                "log_connections = 0",
                "log_disconnections = 0",
                f"user = {run_as}" if run_as else "",
                "",
            ]
        )
    )
    if run_as:
        user = pwd.getpwnam(run_as)
        for path in (directory, auth_file, ini):
            os.chown(path, user.pw_uid, user.pw_gid)
    auth_file.chmod(0o600)
    return ini


def _pgb_quote(value: str) -> str:
    return value.replace('"', '""')


# ------------------------------------------------------------------------------------------ haproxy


def haproxy_config(settings: ClusterSettings) -> str:
    """Round robin over the web nodes; /ws/ to its own backend; nodes checked every second.

    A node that stops answering is taken out after two failed checks (~2 s); a request refused
    by a dead node before that is retried on another one (`retry-on conn-failure`, redispatch).
    Requests that were already running on it fail with 502, and a buyer's retry with the same
    idempotency key is safe. `X-Evently-Node` in each response names the node that served it.
    """
    run_as = "\n    user haproxy\n    group haproxy" if os.geteuid() == 0 and _user_exists("haproxy") else ""

    def servers(prefix: str, ports: list[int]) -> str:
        return "\n".join(f"    server {prefix}{i + 1} 127.0.0.1:{port} check" for i, port in enumerate(ports))

    ws_servers = servers("ws", settings.ws_ports()) if settings.ws_nodes else servers("web", settings.web_ports())
    return f"""\
# written by `make cluster` (evently/cluster.py) — edits are overwritten
global
    maxconn 4000{run_as}

defaults
    mode http
    timeout connect 2s
    timeout client 60s
    timeout server 60s
    timeout http-keep-alive 10s
    timeout tunnel 1h         # an open websocket
    timeout client-fin 5s
    option forwardfor
    option redispatch 1
    retries 3
    retry-on conn-failure
    default-server inter 1s fall 2 rise 2

frontend evently
    bind {settings.host}:{settings.port}
    http-request set-header X-Forwarded-Proto http
    acl websocket path_beg /ws/
    use_backend websockets if websocket
    default_backend web

backend web
    balance roundrobin
    option httpchk
    http-check send meth GET uri /healthz ver HTTP/1.1 hdr Host localhost
    http-check expect status 200
    http-response set-header X-Evently-Node %[srv_name]
{servers("web", settings.web_ports())}

backend websockets
    balance leastconn
    option httpchk
    http-check send meth GET uri /healthz ver HTTP/1.1 hdr Host localhost
    http-check expect status 200
{ws_servers}
"""


def _user_exists(name: str) -> bool:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


def node_env(base: dict[str, str], *, name: str, pooled_url: str, settings: ClusterSettings) -> dict[str, str]:
    """What an app node or worker gets: the database through PgBouncer, told it is behind one."""
    env = dict(base)
    env.update(
        {
            "DATABASE_URL": pooled_url,
            "DB_TRANSACTION_POOLING": "1",
            "EVENTLY_NODE": name,
            "PUBLIC_URL": env.get("PUBLIC_URL") or settings.url,
            "Q_CLUSTER_NAME": env.get("Q_CLUSTER_NAME") or "evently",
        }
    )
    return env

