"""docker-compose.yml starts the production topology: checked with `docker compose config`.

Images cannot be pulled here, so nothing is started: the file is validated and rendered by
Debian's `docker-compose` (installed by `make cluster-tools`) or Docker's `docker compose` plugin.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

BASE_DIR = Path(__file__).resolve().parent.parent
COMPOSE_FILE = BASE_DIR / "docker-compose.yml"

pytestmark = pytest.mark.slow

REQUIRED = {
    "POSTGRES_PASSWORD": "secret-pw", "DJANGO_SECRET_KEY": "k" * 50, "PAYMENT_PROVIDER": "acme.payments.Provider",
    "PAYMENT_WEBHOOK_SECRET": "whsec", "PUBLIC_URL": "https://tickets.example.com",
    "ALLOWED_HOSTS": "tickets.example.com", "EMAIL_HOST": "smtp.example.com",
    "DEFAULT_FROM_EMAIL": "Tickets <tickets@example.com>", "TLS_CERT_FILE": "/etc/ssl/private/tickets.pem",
}
APP_SERVICES = ("web", "ws", "worker", "migrate")


def _compose_command() -> list[str]:
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    if shutil.which("docker") and subprocess.run(["docker", "compose", "version"], capture_output=True).returncode == 0:
        return ["docker", "compose"]
    pytest.skip("neither docker-compose nor `docker compose` is installed (`make cluster-tools` installs Debian's)")


def _config(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k not in REQUIRED}
    return subprocess.run([*_compose_command(), "-f", str(COMPOSE_FILE), "--profile", "ws", "config", *args],
                          cwd=BASE_DIR, env={**clean, **env}, capture_output=True, text=True, timeout=120)


def test_compose_file_renders_the_whole_topology():
    result = _config(REQUIRED)
    assert result.returncode == 0, result.stderr
    services = yaml.safe_load(result.stdout)["services"]

    assert set(services) >= {"balancer", "web", "ws", "worker", "migrate", "pgbouncer", "postgres", "redis"}
    # only the balancer publishes host ports, so web replicas never clash
    assert [name for name, service in services.items() if service.get("ports")] == ["balancer"]
    for name in ("web", "ws", "worker"):
        env = services[name]["environment"]
        assert env["DATABASE_URL"].startswith("postgres://evently:secret-pw@pgbouncer:6432/"), name
        assert env["DB_TRANSACTION_POOLING"] == "1" and env["PAYMENT_PROVIDER"] == "acme.payments.Provider"
        assert env["PUBLIC_URL"] == "https://tickets.example.com"
    assert "@postgres:5432/" in services["migrate"]["environment"]["DATABASE_URL"]  # migrations bypass the pooler
    for name in APP_SERVICES:  # media and ticket PDFs on one shared volume
        assert any(str(v).startswith("evently-data:/var/lib/evently") for v in services[name]["volumes"]), name
    for name, service in services.items():
        assert name == "migrate" or "healthcheck" in service, f"{name} has no health check"
    assert int(services["web"]["deploy"]["replicas"]) >= 2


def test_every_secret_and_the_payment_provider_must_be_named():
    text = COMPOSE_FILE.read_text()
    guarded = set(re.findall(r"\$\{(\w+):\?[^}]+\}", text))
    assert set(REQUIRED) <= guarded
    assert "FakePaymentProvider" not in text and "EVENTLY_LOCAL" not in text

    result = _config({k: v for k, v in REQUIRED.items() if k != "PAYMENT_PROVIDER"}, "-q")
    assert result.returncode != 0
    assert "set PAYMENT_PROVIDER" in result.stderr


def test_the_balancer_configuration_is_valid_haproxy(tmp_path):
    haproxy = shutil.which("haproxy") or shutil.which("haproxy", path="/usr/sbin:/sbin")
    if not haproxy:
        pytest.skip("haproxy is not installed (`make cluster-tools` installs Debian's)")
    certificate = tmp_path / "site.pem"
    certificate.write_bytes(_self_signed_pem())
    config = tmp_path / "haproxy.cfg"
    config.write_text((BASE_DIR / "deploy/haproxy/haproxy.cfg").read_text().replace(
        "/usr/local/etc/haproxy/certs/site.pem", str(certificate)))
    result = subprocess.run([haproxy, "-c", "-f", str(config)], capture_output=True, text=True, timeout=30,
                            env={**os.environ, "WEB_SERVICE": "web", "WS_SERVICE": "web"})
    assert result.returncode == 0, result.stdout + result.stderr


def _self_signed_pem() -> bytes:
    from datetime import UTC, datetime, timedelta

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "tickets.example.com")])
    now = datetime.now(UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(1).not_valid_before(now).not_valid_after(now + timedelta(days=1)).sign(key, hashes.SHA256()))
    return cert.public_bytes(serialization.Encoding.PEM) + key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
