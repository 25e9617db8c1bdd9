"""Start the AiiDA daemon safely after a crash (stale ZeroMQ broker files).

Why: the embedded profile's ZeroMQ broker writes ``broker.pid``, ``broker.sockets`` and
``broker.status`` in its service folder and removes them on a clean stop. After the
daemon is killed (SIGKILL, OOM killer, a power cut) they stay. On the next
``verdi daemon start`` circus launches the broker and the workers together; a worker
that reads ``broker.sockets`` before the new broker rewrites it connects to the dead
broker's IPC socket and waits forever — the study then hangs with its tasks pending.
Measured here (aiida-core 2.9.4): 2 of 4 SIGKILL-then-start trials hung that way; a
second restart or removing the stale files first always recovered. So a start first
drops the files of a broker whose PID is gone. The tasks themselves are on disk
(``storage/``) and are re-queued by the new broker: nothing is lost.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

STALE_FILES = ("broker.pid", "broker.sockets", "broker.status")
SOCKETS_PREFIX = "aiida_zeromq_"  # aiida-core's broker: tempfile.mkdtemp(prefix=...)
STOP_TIMEOUT_S = 120
"""Seconds a daemon start/stop call may take (circus's default, 2 s, times out under load)."""


def broker_service_dir(profile_name: str) -> Path | None:
    """The ZeroMQ broker's service folder of a profile, ``None`` for other brokers."""
    from aiida.manage.configuration import get_config

    config = get_config()
    profile = config.get_profile(profile_name)
    if profile.process_control_backend != "core.zeromq":
        return None
    return Path(config.filepaths(profile)["broker_service"]["dir"])


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _dead_sockets_dir(sockets_file: Path) -> Path | None:
    """The socket folder a dead broker names in ``broker.sockets``, if it is one of its own.

    Only an existing ``aiida_zeromq_*`` folder is returned: the file's content is not
    trusted further than the name the broker gives its folders.
    """
    if not sockets_file.is_file():
        return None
    path = Path(sockets_file.read_text().strip())
    if path.name.startswith(SOCKETS_PREFIX) and path.is_dir():
        return path
    return None


def clear_stale_broker_files(service_dir: Path) -> list[str]:
    """Remove the pid/sockets/status files of a broker that is no longer running.

    Also removes the dead broker's socket folder (under the system temp folder), which
    the next broker would have removed had ``broker.sockets`` still named it. Returns the
    names removed (empty if the broker runs or left nothing behind).
    """
    pid_file = service_dir / "broker.pid"
    if not pid_file.exists():
        return []
    words = pid_file.read_text().split()
    if words and words[-1].isdigit() and _pid_alive(int(words[-1])):
        return []
    removed = []
    sockets_dir = _dead_sockets_dir(service_dir / "broker.sockets")
    if sockets_dir is not None:  # the broker would remove it itself, from the file we delete
        shutil.rmtree(sockets_dir, ignore_errors=True)
        removed.append(str(sockets_dir))
    for name in STALE_FILES:
        path = service_dir / name
        if path.exists():
            path.unlink()
            removed.append(name)
    return removed


def start_daemon(profile_name: str, workers: int | None = None) -> list[str]:
    """Start the profile's daemon (no-op if running); return stale files cleared first.

    Its workers are janus workers (``workflows/engine/daemon_worker.py``): the engine repairs are
    in place before each worker's first task.
    """
    from aiida.manage.configuration import get_config

    from workflows.engine.daemon_worker import JanusDaemonClient

    client = JanusDaemonClient(get_config().get_profile(profile_name))
    pid = client.get_daemon_pid()
    if pid is not None and _pid_alive(pid):
        return []
    service_dir = broker_service_dir(profile_name)
    removed = clear_stale_broker_files(service_dir) if service_dir is not None else []
    client.start_daemon(number_workers=workers or 1, timeout=STOP_TIMEOUT_S)
    return removed


class DaemonStopError(RuntimeError):
    """The daemon did not stop in time; the message says what to do."""


def stop_daemon_and_wait(profile_name: str, timeout_s: int = STOP_TIMEOUT_S) -> int:
    """Stop the daemon gracefully and wait until it is gone; return how many workers ran.

    Why not ``stop_daemon()`` with its default: the circus call times out after
    ``daemon.timeout`` (2 s), and a loaded machine's workers take longer to hand their
    tasks back (measured: the call timed out in the broker-restart fault test, with the
    full test suite running alongside).
    """
    import time

    from aiida.engine.daemon.client import DaemonException, get_daemon_client

    client = get_daemon_client(profile_name)
    if not client.is_daemon_running:
        return 0
    try:
        workers = int(client.get_numprocesses(timeout=timeout_s).get("numprocesses", 1))
        client.stop_daemon(wait=True, timeout=timeout_s)
    except DaemonException as exception:
        raise DaemonStopError(
            f"the daemon of {profile_name!r} did not stop within {timeout_s} s ({exception}): "
            f"check `verdi -p {profile_name} daemon status`, then stop it again"
        ) from exception
    deadline = time.monotonic() + timeout_s
    while client.is_daemon_running:
        if time.monotonic() > deadline:
            raise DaemonStopError(
                f"the daemon of {profile_name!r} still runs {timeout_s} s after it was told to "
                f"stop: check `verdi -p {profile_name} daemon status`"
            )
        time.sleep(0.5)
    return workers


class BrokerRestartError(RuntimeError):
    """The broker of a profile cannot be restarted from here; the message says what to do."""


def restart_rabbitmq_safely(profile_name: str) -> int:
    """Stop the daemon, restart the local RabbitMQ, start the daemon again; return workers.

    Why: restarting RabbitMQ under a running daemon drops the workers' connections, and
    the broker redelivers the tasks they had not acknowledged while the workers still run
    those processes. Measured here (aiida-core 2.9.4, 2 workers, tiny study): in 3 of 4
    runs the study finished but re-ran steps, 16–17 CalcJobs for 11 (the race of
    aiida-core issue #1748). A stopped daemon holds no task, so nothing is redelivered
    twice: the study continues from its checkpoints when the daemon comes back.
    """
    import subprocess

    from aiida.manage.configuration import get_config

    profile = get_config().get_profile(profile_name)
    backend = profile.process_control_backend
    if backend == "core.zeromq":
        raise BrokerRestartError(
            f"profile {profile_name!r} uses the embedded ZeroMQ broker, which runs inside the "
            "daemon: `aiida-janus daemon stop` and `aiida-janus daemon start` restart it"
        )
    if backend != "core.rabbitmq":
        raise BrokerRestartError(
            f"profile {profile_name!r} has no broker ({backend}): nothing to restart; it can "
            "only `run` processes"
        )
    host = profile.process_control_config.get("broker_host", "127.0.0.1")
    if host not in ("localhost", "127.0.0.1", "::1"):
        raise BrokerRestartError(
            f"RabbitMQ of profile {profile_name!r} runs on {host}: run `aiida-janus daemon stop "
            f"--profile {profile_name}`, restart it there, then `aiida-janus daemon start`"
        )
    workers = stop_daemon_and_wait(profile_name)
    for action in ("stop_app", "start_app", "await_startup"):
        done = subprocess.run(["rabbitmqctl", "-q", action], capture_output=True, check=False)
        if done.returncode != 0:
            raise BrokerRestartError(
                f"`rabbitmqctl {action}` failed ({done.stderr.decode().strip()[-300:]}): "
                "restart RabbitMQ by hand (as root), then `aiida-janus daemon start`"
            )
    if workers:
        start_daemon(profile_name, workers)
    return workers
