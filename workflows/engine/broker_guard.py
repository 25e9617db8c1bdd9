"""Daemon workers on RabbitMQ: when the broker drops the connection, restart the worker.

Why: when RabbitMQ restarts (or drops a connection), it puts the unacknowledged tasks
of that connection back in the queue, but the worker that held them keeps running their
processes in memory. Another worker, or the same one after it reconnects, then gets
those tasks and runs a second instance of each process next to the first (aiida-core
issue #1748). Our fault test saw the results: steps run twice (24 CalcJobs for 15), and
once a second `PwBaseWorkChain` instance excepted when it attached an output the first
had already returned, which failed the study.

The guard makes a dropped connection behave like a killed worker, which the daemon
already survives (see ``workflows/engine/repairs.py`` and the SIGKILL fault test). When
the connection closes with an error from the broker side, the worker process at once
replaces itself (``os.execv``, same PID, so circus sees no death) with a small waiter.
The waiter polls the broker's port until it accepts connections again, and then turns
back into the same worker command. So the processes the old worker held vanish together
with their tasks' old delivery, and each task runs again, once, from its last
checkpoint. A close that the worker itself starts (``verdi daemon stop``) is left
alone: aio-pika reports it with no error or a ``CancelledError``.

Opt-in (``JANUS_BROKER_GUARD=1`` in the environment of ``aiida-janus daemon start``,
see ``workflows/engine/daemon_worker.py``), and only in daemon workers of a RabbitMQ profile.
What it does not cover: a network partition or heartbeat expiry that the client does not
report as a close, channel-level closes, and the ZeroMQ broker's own requeues; and
``os.execv`` turns every broker-side drop, even a transient one, into a kill of the
worker's processes (they resume from their checkpoints). ``aiida-janus daemon
restart-broker`` (stop the daemon, restart the broker, start the daemon) stays the
supported way for planned broker maintenance.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import logging
import os
import socket
import sys
import time
from typing import Any

LOGGER = logging.getLogger(__name__)
WAIT_TIMEOUT_S = 3600.0  # then start the worker anyway: circus reports what follows
POLL_S = 1.0
_installed: list[Any] = []  # the callback, held strongly (aio-pika may keep it weakly)


def is_daemon_worker(argv: list[str] | None = None) -> bool:
    """Is this process ``verdi [-p PROFILE] daemon worker``?"""
    words = sys.argv if argv is None else argv
    return any(a == "daemon" and b == "worker" for a, b in itertools.pairwise(words))


def dropped_by_broker(error: BaseException | None) -> bool:
    """Did the broker side close the connection (True), or did the worker (False)?"""
    return error is not None and not isinstance(error, asyncio.CancelledError)


def waiter_argv(host: str, port: int, worker_argv: list[str]) -> list[str]:
    """The command line of the waiter that becomes ``worker_argv`` once the broker is up."""
    return [sys.executable, "-m", __name__, "--host", host, "--port", str(port), "--", *worker_argv]


def worker_argv() -> list[str]:
    """This worker's own command line, as it was started (``python -m ...`` kept as such).

    ``sys.orig_argv`` keeps ``-m workflows.engine.daemon_worker``, so the re-executed worker runs
    the janus entry again and has the engine repairs before its first task.
    """
    return [sys.executable, *sys.orig_argv[1:]]


def _restart_worker(connection: Any, error: BaseException | None = None) -> None:
    """aio-pika close callback: replace this worker by the waiter if the broker dropped us."""
    if not dropped_by_broker(error):
        return
    from aiida.manage import get_manager

    config = get_manager().get_profile().process_control_config  # type: ignore[union-attr]
    host = str(config.get("broker_host", "127.0.0.1"))
    port = int(config.get("broker_port", 5672))
    LOGGER.warning(
        "broker connection lost (%s): restarting this daemon worker so that no process "
        "runs twice (aiida-core #1748); it waits for %s:%d first",
        error,
        host,
        port,
    )
    for handler in logging.getLogger().handlers:
        handler.flush()
    argv = waiter_argv(host, port, worker_argv())
    os.execv(argv[0], argv)


def install() -> bool:
    """Register the guard in a RabbitMQ daemon worker; False (and nothing done) elsewhere."""
    if _installed:
        return True
    if not is_daemon_worker():
        return False
    from aiida.manage import get_manager
    from kiwipy.rmq import RmqThreadCommunicator

    communicator = get_manager().get_communicator()
    if not isinstance(communicator, RmqThreadCommunicator):
        return False
    communicator.add_close_callback(_restart_worker)
    _installed.append(_restart_worker)
    LOGGER.info("broker guard installed: a dropped RabbitMQ connection restarts this worker")
    return True


def wait_for_port(host: str, port: int, timeout_s: float, poll_s: float = POLL_S) -> bool:
    """Poll until ``host:port`` accepts a TCP connection; False after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            with socket.create_connection((host, port), timeout=poll_s):
                return True
        except OSError:
            if time.monotonic() >= deadline:
                return False
            time.sleep(poll_s)


def main(argv: list[str] | None = None) -> None:
    """The waiter: ``python -m workflows.engine.broker_guard --host H --port P -- WORKER ARGV``."""
    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--host", required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--timeout", type=float, default=WAIT_TIMEOUT_S)
    parser.add_argument("worker", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    worker = args.worker[1:] if args.worker[:1] == ["--"] else args.worker
    if not worker:
        parser.error("give the worker's command line after --")
    if not wait_for_port(args.host, args.port, args.timeout):
        down = f"broker {args.host}:{args.port} still down after {args.timeout:.0f} s"
        print(f"{down}: starting the worker anyway", file=sys.stderr)
    os.execv(worker[0], worker)


if __name__ == "__main__":
    main()
