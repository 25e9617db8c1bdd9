"""Daemon workers on RabbitMQ: when the broker drops the connection, stop the worker cleanly.

Why: when RabbitMQ restarts (or drops a connection), it puts the unacknowledged tasks
of that connection back in the queue, but the worker that held them keeps running their
processes in memory. Another worker, or the same one after it reconnects, then gets
those tasks and runs a second instance of each process next to the first (aiida-core
issue #1748). Our fault test saw the results: steps run twice (24 CalcJobs for 15), and
once a second `PwBaseWorkChain` instance excepted when it attached an output the first
had already returned, which failed the study.

The guard makes a dropped connection behave like ``verdi daemon stop`` of that one
worker, the path ``aiida-janus daemon restart-broker`` takes (10 of 10 fault trials with
no process lost or run twice). When the connection closes with an error from the broker
side, the worker sends itself SIGTERM: aiida-core's own handler cancels the worker's
processes at their next ``await`` (they resume from their last checkpoint), closes the
profile and ends the worker. circus starts a new worker for the one that ended, and
:func:`wait_for_broker` holds that new worker back until the broker accepts connections
again, so it does not fail to start while RabbitMQ is still down. A close that the
worker itself starts (``verdi daemon stop``) is left alone: aio-pika reports it with no
error or a ``CancelledError``.

Measured with ``benchmarks/faults.py --trials 10`` (the raw RabbitMQ restart under a
2-worker daemon, aiida-core 2.9.4): this version 10 of 10, no calculation lost or run
twice, the guard firing in both workers of every trial (docs/faults/rabbit_guard_on.md).
The first version replaced the worker with ``os.execv``, which killed its processes
mid-step: 8 of 10 (docs/faults/rabbit_guard_on_first_version.md), one study failed with a
``PwBaseWorkChain`` ending in exit 11 after the restart.

Opt-in (``JANUS_BROKER_GUARD=1`` in the environment of ``aiida-janus daemon start``,
see ``workflows/engine/daemon_worker.py``), and only in daemon workers of a RabbitMQ
profile. What it does not cover: a network partition or heartbeat expiry that the client
does not report as a close, channel-level closes, and the ZeroMQ broker's own requeues;
and it turns every broker-side drop, even a transient one, into a stop of the worker's
processes (they resume from their checkpoints in the new worker). ``aiida-janus daemon
restart-broker`` (stop the daemon, restart the broker, start the daemon) stays the
supported way for planned broker maintenance.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import os
import signal
import socket
import sys
import time
from typing import Any

LOGGER = logging.getLogger(__name__)
WAIT_TIMEOUT_S = 3600.0  # then start the worker anyway: circus reports what follows
POLL_S = 1.0
RABBITMQ_BACKEND = "core.rabbitmq"
_installed: list[Any] = []  # the callback, held strongly (aio-pika may keep it weakly)
_stopping: list[bool] = []  # set once: a second close while stopping must not signal again


def is_daemon_worker(argv: list[str] | None = None) -> bool:
    """Is this process ``verdi [-p PROFILE] daemon worker``?"""
    words = sys.argv if argv is None else argv
    return any(a == "daemon" and b == "worker" for a, b in itertools.pairwise(words))


def dropped_by_broker(error: BaseException | None) -> bool:
    """Did the broker side close the connection (True), or did the worker (False)?"""
    return error is not None and not isinstance(error, asyncio.CancelledError)


def _stop_worker(connection: Any, error: BaseException | None = None) -> None:
    """aio-pika close callback: stop this worker cleanly if the broker dropped us.

    It runs in the communicator's thread; SIGTERM reaches the worker's own handler
    (``aiida.engine.daemon.worker.shutdown_worker``) on the runner's loop.
    """
    if not dropped_by_broker(error) or _stopping:
        return
    _stopping.append(True)
    LOGGER.warning(
        "broker connection lost (%s): stopping this daemon worker so that no process runs "
        "twice (aiida-core #1748); circus starts a new one once the broker answers",
        error,
    )
    os.kill(os.getpid(), signal.SIGTERM)


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
    communicator.add_close_callback(_stop_worker)
    _installed.append(_stop_worker)
    LOGGER.info("broker guard installed: a dropped RabbitMQ connection stops this worker")
    return True


def broker_address(profile: Any) -> tuple[str, int] | None:
    """``(host, port)`` of the profile's RabbitMQ, or None for another broker (or none)."""
    if getattr(profile, "process_control_backend", None) != RABBITMQ_BACKEND:
        return None
    config = profile.process_control_config
    return str(config.get("broker_host", "127.0.0.1")), int(config.get("broker_port", 5672))


def wait_for_broker(profile: Any, timeout_s: float = WAIT_TIMEOUT_S) -> bool:
    """Before a worker starts: wait until the profile's RabbitMQ accepts connections.

    True at once for a profile without RabbitMQ. After ``timeout_s`` (s) it says so on
    stderr (the daemon log) and returns False: the worker then starts and fails as
    aiida-core reports it, and circus starts the next one.
    """
    address = broker_address(profile)
    if address is None:
        return True
    if wait_for_port(*address, timeout_s):
        return True
    host, port = address
    print(f"broker {host}:{port} still down after {timeout_s:.0f} s", file=sys.stderr)
    return False


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
