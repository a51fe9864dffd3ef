"""The configuration `make cluster` writes (evently/cluster.py): fast checks, no processes started."""

from __future__ import annotations

import shutil
import subprocess

import pytest
from django.core.exceptions import ImproperlyConfigured

from evently.cluster import ClusterSettings, Database, haproxy_config, pgbouncer_write_config
from evently.embedded import cluster_node_commands


def test_defaults_put_two_web_nodes_after_the_balancer_port():
    settings = ClusterSettings.from_env({"PORT": "8400"})
    assert settings.url == "http://127.0.0.1:8400"
    assert settings.web_ports() == [8401, 8402] and settings.ws_ports() == []
    assert (settings.workers, settings.web_workers, settings.pgbouncer_port) == (1, 1, 6432)


def test_bad_numbers_are_refused_with_the_variable_named():
    with pytest.raises(ImproperlyConfigured, match="CLUSTER_NODES"):
        ClusterSettings.from_env({"CLUSTER_NODES": "0"})
    with pytest.raises(ImproperlyConfigured, match="PGBOUNCER_PORT"):
        ClusterSettings.from_env({"PGBOUNCER_PORT": "many"})


def test_websockets_go_to_the_web_nodes_unless_there_are_dedicated_ones():
    shared = haproxy_config(ClusterSettings.from_env({"PORT": "8400"}))
    dedicated = haproxy_config(ClusterSettings.from_env({"PORT": "8400", "CLUSTER_WS_NODES": "2"}))
    assert "use_backend websockets if websocket" in shared
    shared_ws = shared.split("\nbackend websockets", 1)[1]
    dedicated_ws = dedicated.split("\nbackend websockets", 1)[1]
    assert "server web1 127.0.0.1:8401" in shared_ws and "server web2 127.0.0.1:8402" in shared_ws
    assert "server ws1 127.0.0.1:8403" in dedicated_ws and "server ws2 127.0.0.1:8404" in dedicated_ws
    assert "web1" not in dedicated_ws


@pytest.mark.parametrize("ws_nodes", ["0", "1"])
def test_the_generated_haproxy_configuration_is_valid(tmp_path, ws_nodes):
    haproxy = shutil.which("haproxy") or shutil.which("haproxy", path="/usr/sbin:/sbin")
    if not haproxy:
        pytest.skip("haproxy is not installed (`make cluster-tools` installs Debian's)")
    config = tmp_path / "haproxy.cfg"
    config.write_text(haproxy_config(ClusterSettings.from_env({"PORT": "8400", "CLUSTER_WS_NODES": ws_nodes})))
    result = subprocess.run([haproxy, "-c", "-f", str(config)], capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stdout + result.stderr


def test_database_urls_are_read_for_pgbouncer_and_rewritten_to_reach_it():
    embedded = Database.from_url("postgres://postgres@%2Fwork%2Fapp%2Fvar%2Fpostgres/evently")
    assert (embedded.host, embedded.port, embedded.user, embedded.password, embedded.name) == (
        "/work/app/var/postgres", 5432, "postgres", "", "evently")
    remote = Database.from_url("postgresql://app:p%40ss@db.internal:5433/tickets")
    assert (remote.host, remote.port, remote.user, remote.password) == ("db.internal", 5433, "app", "p@ss")
    assert remote.url_via("127.0.0.1", 6432) == "postgres://app:p%40ss@127.0.0.1:6432/tickets"
    assert Database.from_url("postgres://app@[::1]/tickets").host == "::1"
    assert Database.from_url("postgres://app@[::1]:5433/tickets").port == 5433
    with pytest.raises(ImproperlyConfigured):
        Database.from_url("mysql://app@db/tickets")


def test_pgbouncer_pools_transactions_and_checks_passwords_when_there_is_one(tmp_path):
    settings = ClusterSettings.from_env({"PGBOUNCER_PORT": "6499", "PGBOUNCER_POOL_SIZE": "7"})
    with_password = pgbouncer_write_config(
        tmp_path / "a", database=Database.from_url("postgres://app:secret@127.0.0.1:5432/tickets"), settings=settings)
    trusted = pgbouncer_write_config(
        tmp_path / "b", database=Database.from_url("postgres://postgres@127.0.0.1/tickets"), settings=settings)
    ini = with_password.read_text()
    assert "pool_mode = transaction" in ini and "listen_port = 6499" in ini and "default_pool_size = 7" in ini
    assert "auth_type = scram-sha-256" in ini and "auth_type = trust" in trusted.read_text()
    assert (tmp_path / "a" / "userlist.txt").read_text() == '"app" "secret"\n'


def test_dedicated_websocket_nodes_serve_only_the_live_seat_maps():
    settings = ClusterSettings.from_env({"PORT": "8400", "CLUSTER_WS_NODES": "2"})
    commands = {name: argv for name, _, argv in cluster_node_commands(settings, python="python", uvicorn_args=[])}
    assert "evently.asgi:application" in commands["web1"] and "evently.asgi:application" in commands["web2"]
    assert "evently.asgi:websocket_application" in commands["ws1"]
    assert "evently.asgi:websocket_application" in commands["ws2"]
