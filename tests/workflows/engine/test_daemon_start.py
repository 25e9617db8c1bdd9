"""Stale ZeroMQ broker files of a killed daemon are cleared before a start, live ones kept."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from workflows.engine.daemon_start import SOCKETS_PREFIX, STALE_FILES, clear_stale_broker_files


def _service_dir(folder: Path, pid: int) -> Path:
    folder.mkdir()
    sockets = folder.parent / f"{SOCKETS_PREFIX}{folder.name}"
    sockets.mkdir()
    (sockets / "router.sock").touch()
    (folder / "broker.pid").write_text(f"aiida-zeromq-broker {pid}")
    (folder / "broker.sockets").write_text(str(sockets))
    (folder / "broker.status").write_text("{}")
    (folder / "storage").mkdir()
    return folder


def test_files_of_a_dead_broker_are_removed_and_tasks_kept(tmp_path: Path) -> None:
    dead = subprocess.Popen(["true"])
    dead.wait()
    folder = _service_dir(tmp_path / "dead", dead.pid)
    sockets = Path((folder / "broker.sockets").read_text())
    removed = clear_stale_broker_files(folder)
    assert sorted(removed) == sorted([*STALE_FILES, str(sockets)])
    assert not any((folder / name).exists() for name in STALE_FILES)
    assert not sockets.exists(), "the dead broker's socket folder must not leak in /tmp"
    assert (folder / "storage").is_dir(), "queued tasks live in storage/: never removed"


def test_files_of_a_running_broker_are_kept(tmp_path: Path) -> None:
    folder = _service_dir(tmp_path / "alive", os.getpid())
    assert clear_stale_broker_files(folder) == []
    assert all((folder / name).exists() for name in STALE_FILES)
    assert Path((folder / "broker.sockets").read_text()).is_dir()


def test_a_sockets_file_naming_another_folder_removes_nothing_there(tmp_path: Path) -> None:
    dead = subprocess.Popen(["true"])
    dead.wait()
    folder = _service_dir(tmp_path / "dead", dead.pid)
    precious = tmp_path / "data"
    precious.mkdir()
    (folder / "broker.sockets").write_text(str(precious))
    assert sorted(clear_stale_broker_files(folder)) == sorted(STALE_FILES)
    assert precious.is_dir()


def test_nothing_to_clear_without_a_pid_file(tmp_path: Path) -> None:
    assert clear_stale_broker_files(tmp_path) == []


def test_broker_restart_refuses_a_profile_without_rabbitmq(aiida_profile: object) -> None:
    """Only a RabbitMQ profile has a broker outside the daemon to restart."""
    import pytest
    from aiida.manage import get_manager

    from workflows.engine.daemon_start import BrokerRestartError, restart_rabbitmq_safely

    profile = get_manager().get_profile()
    assert profile is not None
    with pytest.raises(BrokerRestartError, match="nothing to restart"):
        restart_rabbitmq_safely(profile.name)
