"""The RabbitMQ broker guard (``workflows/engine/broker_guard.py``): when and how it stops a worker.

The guard's effect on a real daemon is the raw RabbitMQ restart fault test
(``test_faults.py``); here each decision is checked alone, with ``os.kill`` captured.
"""

from __future__ import annotations

import asyncio
import signal
import socket
from types import SimpleNamespace

import pytest

from workflows.engine import broker_guard


@pytest.fixture
def kills(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, int]]:
    """``os.kill`` captured; the guard's once-only flag reset around each test."""
    calls: list[tuple[int, int]] = []
    monkeypatch.setattr(broker_guard.os, "kill", lambda pid, sig: calls.append((pid, sig)))
    monkeypatch.setattr(broker_guard, "_stopping", [])
    return calls


def free_port() -> int:
    """A local TCP port nobody listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["/venv/bin/verdi", "-p", "group", "daemon", "worker"], True),
        (["/venv/bin/verdi", "daemon", "worker"], True),
        (["/repo/workflows/engine/daemon_worker.py", "-p", "group", "daemon", "worker"], True),
        (["/venv/bin/verdi", "-p", "group", "daemon", "start"], False),
        (["/venv/bin/aiida-janus", "submit", "--profile", "worker"], False),
        (["pytest"], False),
    ],
)
def test_only_daemon_workers_are_guarded(argv: list[str], expected: bool) -> None:
    assert broker_guard.is_daemon_worker(argv) is expected


def test_a_close_the_worker_starts_is_not_a_drop() -> None:
    assert not broker_guard.dropped_by_broker(None)
    assert not broker_guard.dropped_by_broker(asyncio.CancelledError())


def test_a_close_from_the_broker_is_a_drop() -> None:
    from aiormq.exceptions import ConnectionClosed

    forced = ConnectionClosed(320, "CONNECTION_FORCED - broker forced connection closure")
    assert broker_guard.dropped_by_broker(forced)
    assert broker_guard.dropped_by_broker(ConnectionResetError())


def test_not_installed_outside_a_daemon_worker() -> None:
    assert not broker_guard.install()  # pytest is no `verdi daemon worker`


def test_a_drop_sends_this_worker_sigterm_once(kills: list[tuple[int, int]]) -> None:
    """aiida-core's SIGTERM handler is the clean stop ``verdi daemon stop`` uses."""
    from aiormq.exceptions import ConnectionClosed

    broker_guard._stop_worker(object(), ConnectionClosed(320, "CONNECTION_FORCED"))
    broker_guard._stop_worker(object(), ConnectionResetError())  # a second close: no signal
    assert kills == [(broker_guard.os.getpid(), signal.SIGTERM)]


def test_the_worker_own_close_does_not_stop_it(kills: list[tuple[int, int]]) -> None:
    broker_guard._stop_worker(object(), asyncio.CancelledError())
    broker_guard._stop_worker(object(), None)
    assert kills == []


def rabbitmq_profile(port: int) -> SimpleNamespace:
    """The two attributes of an aiida ``Profile`` the guard reads."""
    config = {"broker_host": "127.0.0.1", "broker_port": port}
    return SimpleNamespace(process_control_backend="core.rabbitmq", process_control_config=config)


def test_the_new_worker_starts_once_the_broker_answers() -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        assert broker_guard.wait_for_broker(rabbitmq_profile(server.getsockname()[1]), 5.0)


def test_the_new_worker_gives_up_waiting_with_a_message(capsys: pytest.CaptureFixture[str]) -> None:
    port = free_port()
    assert not broker_guard.wait_for_broker(rabbitmq_profile(port), timeout_s=0.2)
    assert f"127.0.0.1:{port} still down after 0 s" in capsys.readouterr().err


def test_a_profile_without_rabbitmq_does_not_wait() -> None:
    zeromq = SimpleNamespace(process_control_backend="core.zeromq", process_control_config={})
    assert broker_guard.broker_address(zeromq) is None
    assert broker_guard.wait_for_broker(zeromq, timeout_s=0.0)
    assert broker_guard.broker_address(SimpleNamespace()) is None


def test_wait_for_port_times_out() -> None:
    assert not broker_guard.wait_for_port("127.0.0.1", free_port(), timeout_s=0.1, poll_s=0.05)
