"""``aiida-janus daemon start|stop``: the daemon, started safely after a crash."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from workflows.cli.profiles import profile_option


@click.group("daemon")
def daemon() -> None:
    """Start or stop the AiiDA daemon of a profile (what `submit` needs)."""


@daemon.command("start")
@profile_option
@click.option(
    "--workers", type=click.IntRange(1, 64), default=1, show_default=True, help="Daemon workers."
)
def start(profile_name: str | None, workers: int) -> None:
    """Start the daemon; first clear files a killed ZeroMQ broker left behind.

    \b
    After a crash (SIGKILL, OOM, reboot) plain `verdi daemon start` can leave the
    workers connected to the dead broker, and studies hang; this does not.
    Examples:
      aiida-janus daemon start
      aiida-janus daemon start --profile janus-psql --workers 2
    """
    from workflows.engine.daemon_start import start_daemon

    profile_name = _existing(profile_name)
    _venv_on_path()
    removed = start_daemon(profile_name, workers)
    if removed:
        click.echo(f"cleared stale broker files of a killed daemon: {', '.join(removed)}")
    click.echo(f"daemon of profile {profile_name!r} running")


@daemon.command("stop")
@profile_option
def stop(profile_name: str | None) -> None:
    """Stop the daemon (running calculations carry on and are picked up at restart)."""
    from workflows.engine.daemon_start import DaemonStopError, stop_daemon_and_wait

    profile_name = _existing(profile_name)
    try:
        stop_daemon_and_wait(profile_name)
    except DaemonStopError as exception:
        raise click.ClickException(str(exception)) from exception
    click.echo(f"daemon of profile {profile_name!r} stopped")


@daemon.command("restart-broker")
@profile_option
def restart_broker(profile_name: str | None) -> None:
    """Restart the profile's local RabbitMQ without re-running any step.

    \b
    Stops the daemon first (a stopped worker holds no task the broker could hand out
    twice), restarts RabbitMQ, and starts the daemon again with as many workers.
    Restarting RabbitMQ under a running daemon re-ran steps of a study in 3 of 4 tests.
    Example:
      aiida-janus daemon restart-broker --profile janus-psql
    """
    from workflows.engine.daemon_start import (
        BrokerRestartError,
        DaemonStopError,
        restart_rabbitmq_safely,
    )

    profile_name = _existing(profile_name)
    _venv_on_path()
    try:
        workers = restart_rabbitmq_safely(profile_name)
    except (BrokerRestartError, DaemonStopError) as exception:
        raise click.ClickException(str(exception)) from exception
    running = f"daemon running again with {workers} worker(s)" if workers else "daemon was stopped"
    click.echo(f"RabbitMQ of profile {profile_name!r} restarted; {running}")


def _venv_on_path() -> None:
    """The daemon starts `verdi` from PATH: make it this environment's one."""
    bin_dir = str(Path(sys.executable).parent)
    if bin_dir not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = bin_dir + os.pathsep + os.environ.get("PATH", "")


def _existing(profile_name: str | None) -> str:
    """Load the profile to act on and return its name; never create one.

    The command's ``--profile``, else the root ``aiida-janus -p``, else AiiDA's default
    profile, as every other command (:func:`workflows.cli.profiles.use_profile`).
    """
    from workflows.cli.profiles import use_profile

    return use_profile(profile_name)
