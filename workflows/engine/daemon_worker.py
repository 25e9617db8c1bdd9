"""Daemon workers that carry the janus engine repairs from their first task.

Why: a ``verdi daemon worker`` process imports a janus module only when it first loads
a janus process. A fresh worker whose first task is a ``PwCalculation`` (for example
after a restart, when the CalcJob's task is handed out before its workchain's) would
run it without ``workflows/engine/repairs.py`` — exactly the case the repairs exist
for. aiida-core has no hook that runs code in a worker before its first task (the
worker command is ``DaemonClient.cmd_start_daemon_worker``, and circus runs it), so
``aiida-janus daemon start`` starts the daemon with :class:`JanusDaemonClient`, whose
circus process launches every worker as::

    python -m workflows.engine.daemon_worker -p PROFILE daemon worker

which installs the repairs and then runs aiida-core's own ``verdi -p PROFILE daemon
worker`` in the same process. circus keeps that command for every worker it starts
later (respawn, ``verdi daemon incr``, ``verdi daemon restart``).

The opt-in parts, off unless their variable is ``1``/``true``/``yes``/``on`` in the
environment of ``aiida-janus daemon start`` (circus passes it on to the workers):

- ``JANUS_SUBMIT_REUSE``: ``workflows/engine/submit_reuse.py`` (a janus step re-run after a kill
  re-uses the child it had launched);
- ``JANUS_BROKER_GUARD``: ``workflows/engine/broker_guard.py`` (RabbitMQ only: a worker whose
  connection the broker drops stops cleanly, and the one circus starts next waits for
  the broker).

With both off, the only changes to aiida-core are the repairs of `workflows/engine/repairs.py`.
"""

from __future__ import annotations

import os
import sys
from typing import Any

from aiida.engine.daemon.client import DaemonClient

MODULE = "workflows.engine.daemon_worker"  # not __name__: circus runs this file as __main__
SUBMIT_REUSE_ENV = "JANUS_SUBMIT_REUSE"
BROKER_GUARD_ENV = "JANUS_BROKER_GUARD"
_ON = {"1", "true", "yes", "on"}


def opted_in(variable: str, environ: dict[str, str] | None = None) -> bool:
    """Is the opt-in ``variable`` switched on in ``environ`` (default: this process's)?"""
    value = (os.environ if environ is None else environ).get(variable, "")
    return value.strip().lower() in _ON


def worker_command(profile_name: str) -> list[str]:
    """The command line circus runs for each daemon worker of ``profile_name``."""
    return [sys.executable, "-m", MODULE, "-p", profile_name, "daemon", "worker"]


class JanusDaemonClient(DaemonClient):
    """aiida-core's daemon client whose circus process starts janus workers."""

    def cmd_start_daemon(self, number_workers: int = 1, foreground: bool = False) -> list[str]:
        """Run circus through this module, so that it builds its watcher from this class."""
        command = [sys.executable, "-m", MODULE, "-p", self.profile.name, "daemon"]
        command += ["start-circus", str(number_workers)]
        return [*command, "--foreground"] if foreground else command

    @property
    def cmd_start_daemon_worker(self) -> list[str]:
        """See :func:`worker_command`."""
        return worker_command(self.profile.name)


_installed: dict[str, Any] = {}


def install_in_worker() -> dict[str, Any]:
    """Install the repairs, and the opted-in parts, in this worker once; what was installed.

    Call it with the profile loaded: the broker guard registers on the communicator.
    """
    from workflows.engine import broker_guard, submit_reuse
    from workflows.engine import repairs as engine_repairs

    if not _installed:
        _installed["repairs"] = engine_repairs.install_repairs()
        if opted_in(SUBMIT_REUSE_ENV):
            _installed["submit_reuse"] = submit_reuse.install()
        if opted_in(BROKER_GUARD_ENV):
            _installed["broker_guard"] = broker_guard.install()
    return dict(_installed)


def run_worker(profile_name: str) -> None:
    """What ``verdi -p PROFILE daemon worker`` does, with :func:`install_in_worker` first."""
    from aiida import load_profile
    from aiida.engine.daemon.worker import start_daemon_worker
    from aiida.manage import get_manager

    from workflows.engine import broker_guard

    profile = load_profile(profile_name)
    get_manager().get_profile_storage()  # as `verdi`'s with_dbenv: fails early on a bad storage
    if opted_in(BROKER_GUARD_ENV):
        broker_guard.wait_for_broker(profile)  # before install_in_worker connects to it
    installed = install_in_worker()
    # stderr goes to the daemon log (circus): which worker carries what, for users and tests
    print(f"janus daemon worker {os.getpid()}: installed {installed}", file=sys.stderr, flush=True)
    start_daemon_worker(foreground=True, profile_name=profile_name)


def main(argv: list[str] | None = None) -> None:
    """Entry: ``python -m workflows.engine.daemon_worker -p PROFILE daemon worker|start-circus
    N``."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) < 4 or args[0] != "-p" or args[2] != "daemon":
        sys.exit(f"usage: {MODULE} -p PROFILE daemon worker|start-circus N [--foreground]")
    profile_name, command = args[1], args[3]
    if command == "worker":
        run_worker(profile_name)
    elif command == "start-circus" and len(args) >= 5:
        from aiida import load_profile

        client = JanusDaemonClient(load_profile(profile_name))
        client._start_daemon(number_workers=int(args[4]), foreground="--foreground" in args)
    else:
        sys.exit(f"unknown command {command!r}")


if __name__ == "__main__":
    main()
