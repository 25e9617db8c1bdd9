"""Local PostgreSQL and RabbitMQ for the production profile (``core.psql_dos`` + RabbitMQ).

The embedded SQLite/ZeroMQ profile needs no services; a group running hundreds of
snapshot calculations wants AiiDA's production set-up. When the servers are local
(Debian's ``postgresql`` and ``rabbitmq-server``), ``aiida-janus setup --storage
postgresql --broker rabbitmq`` installs (as root) and starts them here; for existing
servers it takes connection URLs and starts nothing.

Why each detail:

- RabbitMQ ≥ 3.8.15 closes a consumer that holds a message longer than
  ``consumer_timeout`` (30 min): AiiDA processes that run for hours would be lost, so
  the timeout is disabled in ``advanced.config`` (DESIGN.md, "Traps").
- The database is created with the ``C.UTF-8`` locale, which every Debian system has
  (``en_US.UTF-8``, AiiDA's ``quicksetup`` default, is often not generated in containers).
- Commands run as the ``postgres`` superuser through ``runuser`` (root) so no password
  or ``sudo`` is needed.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

RABBITMQ_ADVANCED_CONFIG = Path("/etc/rabbitmq/advanced.config")
CONSUMER_TIMEOUT_OFF = "[{rabbit, [{consumer_timeout, undefined}]}].\n"
SERVICE_WAIT_SECONDS = 120.0


class ServiceError(RuntimeError):
    """A server is missing, cannot start, or a connection URL is malformed; says the fix."""


@dataclass(frozen=True)
class PostgresSettings:
    """Where the profile's database lives and how to log in."""

    host: str
    port: int
    user: str
    password: str
    database: str

    def storage_config(self, repository: Path) -> dict[str, object]:
        """``core.psql_dos`` storage configuration, repository on disk at ``repository``."""
        return {
            "database_engine": "postgresql_psycopg",
            "database_hostname": self.host,
            "database_port": self.port,
            "database_username": self.user,
            "database_password": self.password,
            "database_name": self.database,
            "repository_uri": repository.resolve().as_uri(),
        }


@dataclass(frozen=True)
class RabbitmqSettings:
    """AMQP connection of the broker."""

    host: str = "127.0.0.1"
    port: int = 5672
    user: str = "guest"
    password: str = "guest"
    virtual_host: str = ""
    consumer_timeout_disabled: bool = False

    def broker_config(self) -> dict[str, object]:
        """``core.rabbitmq`` broker configuration."""
        return {
            "broker_protocol": "amqp",
            "broker_username": self.user,
            "broker_password": self.password,
            "broker_host": self.host,
            "broker_port": self.port,
            "broker_virtual_host": self.virtual_host,
        }


def postgres_from_url(url: str) -> PostgresSettings:
    """``postgresql://user:password@host:port/database`` of an existing server."""
    parts = urlsplit(url)
    if parts.scheme not in ("postgresql", "postgres") or not parts.hostname:
        raise ServiceError(
            f"--postgres-url {url!r} is not a PostgreSQL URL: give "
            "postgresql://USER:PASSWORD@HOST:PORT/DATABASE"
        )
    database = parts.path.lstrip("/")
    if not (parts.username and parts.password and database):
        raise ServiceError(
            f"--postgres-url {url!r} lacks the user, password or database: give "
            "postgresql://USER:PASSWORD@HOST:PORT/DATABASE"
        )
    return PostgresSettings(
        parts.hostname, parts.port or 5432, parts.username, parts.password, database
    )


def rabbitmq_from_url(url: str) -> RabbitmqSettings:
    """``amqp://user:password@host:port/vhost`` of an existing broker."""
    parts = urlsplit(url)
    if parts.scheme != "amqp" or not parts.hostname:
        raise ServiceError(
            f"--rabbitmq-url {url!r} is not an AMQP URL: give amqp://USER:PASSWORD@HOST:PORT/"
        )
    return RabbitmqSettings(
        parts.hostname,
        parts.port or 5672,
        parts.username or "guest",
        parts.password or "guest",
        parts.path.lstrip("/"),
    )


def _require_root(what: str, package: str) -> None:
    if os.geteuid() != 0:
        raise ServiceError(
            f"{what} is not running and only root can install/start it here: run "
            f"`sudo apt-get install -y {package}` and start it, or pass the URL of a running "
            "server (--postgres-url / --rabbitmq-url)"
        )


def _apt_install(package: str, probe: str) -> None:
    if shutil.which(probe) or Path(probe).exists():
        return
    _require_root(package, package)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in (["apt-get", "update"], ["apt-get", "install", "-y", package]):
        result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise ServiceError(f"`{' '.join(command)}` failed: {result.stderr.strip()[-500:]}")


def _run(command: list[str], what: str) -> str:
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise ServiceError(f"{what} failed: {(result.stderr or result.stdout).strip()[-500:]}")
    return result.stdout


def _wait(check: list[str], what: str) -> None:
    deadline = time.monotonic() + SERVICE_WAIT_SECONDS
    while time.monotonic() < deadline:
        if subprocess.run(check, capture_output=True, check=False).returncode == 0:
            return
        time.sleep(1.0)
    raise ServiceError(f"{what} did not come up within {SERVICE_WAIT_SECONDS:.0f} s")


def _psql(sql: str) -> str:
    return _run(
        ["runuser", "-u", "postgres", "--", "psql", "-tAq", "-v", "ON_ERROR_STOP=1", "-c", sql],
        f"psql `{sql.split(' PASSWORD ')[0]}`",
    ).strip()


def database_name(profile_name: str, work_folder: Path) -> str:
    """Role and database name: the profile plus a digest of the work folder.

    Two checkouts (two work folders) with a profile of the same name must not share, or
    clash over, one database.
    """
    digest = hashlib.sha256(str(work_folder.resolve()).encode()).hexdigest()[:8]
    safe = "".join(c if c.isalnum() else "_" for c in profile_name.lower())
    return f"aiida_{safe}_{digest}"


def ensure_local_postgres(profile_name: str, password_file: Path) -> PostgresSettings:
    """Install/start the local PostgreSQL cluster; a role and database for the profile.

    The password is generated once and kept (mode 600) in ``password_file`` so that a
    second run reuses the role. Idempotent.
    """
    _apt_install("postgresql", "/usr/bin/pg_lsclusters")
    clusters = _run(["pg_lsclusters", "--no-header"], "pg_lsclusters").split()
    if len(clusters) < 4:
        raise ServiceError("no PostgreSQL cluster: run `pg_createcluster --start 15 main` as root")
    version, cluster, port, status = clusters[:4]
    if status != "online":
        _require_root("PostgreSQL", "postgresql")
        _run(["pg_ctlcluster", version, cluster, "start"], "starting PostgreSQL")
    _wait(["pg_isready", "-h", "localhost", "-p", port], "PostgreSQL")
    name = database_name(profile_name, password_file.parent)
    if password_file.exists():
        password = password_file.read_text().strip()
    else:
        password = secrets.token_hex(16)
        password_file.parent.mkdir(parents=True, exist_ok=True)
        password_file.touch(mode=0o600)
        password_file.write_text(password + "\n")
    if not _psql(f"SELECT 1 FROM pg_roles WHERE rolname = '{name}'"):
        _psql(f"CREATE ROLE \"{name}\" LOGIN PASSWORD '{password}'")
    else:
        _psql(f"ALTER ROLE \"{name}\" PASSWORD '{password}'")
    if not _psql(f"SELECT 1 FROM pg_database WHERE datname = '{name}'"):
        _psql(
            f'CREATE DATABASE "{name}" OWNER "{name}" ENCODING \'UTF8\' '
            "LC_COLLATE 'C.UTF-8' LC_CTYPE 'C.UTF-8' TEMPLATE template0"
        )
    return PostgresSettings("localhost", int(port), name, password, name)


def ensure_local_rabbitmq() -> RabbitmqSettings:
    """Install/start a local RabbitMQ with the consumer timeout disabled. Idempotent."""
    _apt_install("rabbitmq-server", "/usr/sbin/rabbitmq-server")
    running = subprocess.run(
        ["rabbitmq-diagnostics", "-q", "ping"], capture_output=True, check=False
    )
    if running.returncode != 0:
        _require_root("RabbitMQ", "rabbitmq-server")
        if (
            not RABBITMQ_ADVANCED_CONFIG.exists()
            or "consumer_timeout" not in RABBITMQ_ADVANCED_CONFIG.read_text()
        ):
            RABBITMQ_ADVANCED_CONFIG.write_text(CONSUMER_TIMEOUT_OFF)
        _run(["rabbitmq-server", "-detached"], "starting RabbitMQ")
        _wait(["rabbitmq-diagnostics", "-q", "ping"], "RabbitMQ")
    timeout = _run(
        ["rabbitmqctl", "-q", "eval", "application:get_env(rabbit, consumer_timeout)."],
        "reading RabbitMQ's consumer_timeout",
    ).strip()
    if timeout != "{ok,undefined}":
        raise ServiceError(
            f"the running RabbitMQ has consumer_timeout {timeout}: long AiiDA processes would "
            f"be dropped; put {CONSUMER_TIMEOUT_OFF.strip()} in {RABBITMQ_ADVANCED_CONFIG} "
            "and restart it (`rabbitmqctl stop; rabbitmq-server -detached`)"
        )
    return RabbitmqSettings(consumer_timeout_disabled=True)


def drop_local_database(name: str) -> None:
    """Drop a database and its role on the local server (test and benchmark clean-up)."""
    _psql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    _psql(f'DROP ROLE IF EXISTS "{name}"')
