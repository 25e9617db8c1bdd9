"""Janus daemon workers (``workflows/engine/daemon_worker.py``): command lines and what they
install.

What a real worker does with them: ``test_a_fresh_worker_repairs_its_first_task`` in
``test_faults.py`` (a fresh worker whose first task is a PwCalculation left in window 1).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from workflows.engine import daemon_worker
from workflows.engine.broker_guard import is_daemon_worker

REPO = Path(__file__).resolve().parents[3]


def test_circus_starts_janus_workers(aiida_profile: object) -> None:
    from aiida.manage import get_manager

    profile = get_manager().get_profile()
    assert profile is not None
    client = daemon_worker.JanusDaemonClient(profile)
    worker = client.cmd_start_daemon_worker
    entry = [sys.executable, "-m", "workflows.engine.daemon_worker"]
    assert worker == [*entry, "-p", profile.name, "daemon", "worker"]
    assert is_daemon_worker(worker), "the broker guard and install() must see a worker"
    circus = client.cmd_start_daemon(3)
    assert circus[1:3] == ["-m", "workflows.engine.daemon_worker"]
    assert circus[-2:] == ["start-circus", "3"]
    assert client.cmd_start_daemon(1, foreground=True)[-1] == "--foreground"


@pytest.mark.parametrize(
    ("value", "on"),
    [("1", True), ("true", True), (" Yes ", True), ("on", True), ("0", False), ("", False)],
)
def test_opt_in_values(value: str, on: bool) -> None:
    assert daemon_worker.opted_in("X", {"X": value}) is on
    assert not daemon_worker.opted_in("X", {})


def _installed_in_fresh_worker(**env: str) -> str:
    """``install_in_worker`` in a new interpreter that looks like a daemon worker."""
    code = (
        "import sys\n"
        "sys.argv = ['workflows/engine/daemon_worker.py', '-p', 'x', 'daemon', 'worker']\n"
        "from workflows.engine import daemon_worker, submit_reuse\n"
        "installed = daemon_worker.install_in_worker()\n"
        "from workflows.workchains.pw_base import JanusPwBaseWorkChain\n"
        "from aiida.engine import WorkChain\n"
        "flag = lambda c: getattr(c.submit, submit_reuse.INSTALLED_FLAG, False)\n"
        "print(sorted(installed), installed['repairs'],"
        " flag(JanusPwBaseWorkChain), flag(WorkChain))"
    )
    switches = (daemon_worker.SUBMIT_REUSE_ENV, daemon_worker.BROKER_GUARD_ENV)
    clean = {k: v for k, v in os.environ.items() if k not in switches}
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPO,
        env={**clean, **env},
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout.strip()


REPAIRED = "['task_upload_job', 'task_retrieve_job', 'submit_calculation']"


def test_by_default_a_worker_gets_only_the_repairs() -> None:
    shown = _installed_in_fresh_worker()
    assert shown == f"['repairs'] {REPAIRED} False False"


def test_submit_reuse_is_opt_in_and_scoped_to_janus() -> None:
    shown = _installed_in_fresh_worker(**{daemon_worker.SUBMIT_REUSE_ENV: "1"})
    expected = f"['repairs', 'submit_reuse'] {REPAIRED} True False"
    assert shown == expected
