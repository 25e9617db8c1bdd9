"""The RabbitMQ broker guard (``workflows/engine/broker_guard.py``): when and how it restarts.

The guard's effect on a real daemon is the raw RabbitMQ restart fault test
(``test_faults.py``); here each decision is checked alone, with ``os.execv`` captured.
"""

from __future__ import annotations

import asyncio
import socket

import pytest

from workflows.engine import broker_guard


class ExecvCalledError(Exception):
    """Raised by the captured ``os.execv`` so the code under test stops there."""


@pytest.fixture
def execv(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    calls: list[list[str]] = []

    def capture(path: str, argv: list[str]) -> None:
        assert path == argv[0]
        calls.append(list(argv))
        raise ExecvCalledError

    monkeypatch.setattr(broker_guard.os, "execv", capture)
    return calls


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


def test_a_drop_replaces_the_worker_by_the_waiter(
    aiida_profile: object, execv: list[list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    from aiormq.exceptions import ConnectionClosed

    worker = ["-m", "workflows.engine.daemon_worker", "-p", "group", "daemon", "worker"]
    monkeypatch.setattr(broker_guard.sys, "orig_argv", ["/venv/bin/python", *worker])
    monkeypatch.setattr(broker_guard.sys, "argv", ["/repo/workflows/engine/daemon_worker.py"])
    with pytest.raises(ExecvCalledError):
        broker_guard._restart_worker(object(), ConnectionClosed(320, "CONNECTION_FORCED"))
    (argv,) = execv
    separator = argv.index("--")
    assert argv[1:3] == ["-m", "workflows.engine.broker_guard"]
    # the janus worker entry again (``-m`` kept), so the new worker has the engine repairs
    assert argv[separator + 1 :] == [broker_guard.sys.executable, *worker]


def test_the_worker_own_close_does_not_restart(execv: list[list[str]]) -> None:
    broker_guard._restart_worker(object(), asyncio.CancelledError())
    broker_guard._restart_worker(object(), None)
    assert execv == []


def test_the_waiter_becomes_the_worker_once_the_port_answers(execv: list[list[str]]) -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]
        with pytest.raises(ExecvCalledError):
            broker_guard.main(
                ["--host", "127.0.0.1", "--port", str(port), "--", "/bin/echo", "--", "x"]
            )
    assert execv == [["/bin/echo", "--", "x"]]


def test_the_waiter_gives_up_waiting_with_a_message(
    execv: list[list[str]], capsys: pytest.CaptureFixture[str]
) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    args = ["--host", "127.0.0.1", "--port", str(port), "--timeout", "0.2", "--", "/bin/true"]
    with pytest.raises(ExecvCalledError):
        broker_guard.main(args)
    assert execv == [["/bin/true"]]
    assert f"127.0.0.1:{port} still down" in capsys.readouterr().err


def test_wait_for_port_times_out() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    assert not broker_guard.wait_for_port("127.0.0.1", port, timeout_s=0.1, poll_s=0.05)
