"""Window 3: a submit interrupted after the scheduler took the job is not submitted twice.

References: the aiida-core 2.9.4 sources (``engine/daemon/execmanager.py:submit_calculation``
stores the job id after ``scheduler.submit_job`` returned; ``schedulers/plugins/direct.py``
submits ``(bash _aiidasubmit.sh > /dev/null 2>&1 & echo $!) &``), the real output of the
lookup recorded on the single-node SLURM (``tests/fixtures/slurm_lookup/``), real
processes for the direct scheduler, and the unrepaired run of the window, which submits
the job a second time into the same folder.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from workflows.engine import repairs as engine_repairs
from workflows.engine import submit_lookup, submit_repair

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "slurm_lookup"
SCRIPT = "_aiidasubmit.sh"


class WorkerKilled(BaseException):
    """The worker dies here (not an ``Exception``: aiida-core's retry does not catch it)."""


def recorded(situation: str) -> dict[str, Any]:
    """One recorded lookup (see ``tests/fixtures/slurm_lookup/README.md``)."""
    data: dict[str, Any] = json.loads((FIXTURES / f"{situation}.json").read_text())
    return data


def parse_recorded(situation: str, workdir: str | None = None) -> submit_lookup.LookupResult:
    data = recorded(situation)
    return submit_lookup.parse_slurm_lookup(
        data["stdout"], data["name"], workdir or data["workdir"]
    )


def kill_after_submit(monkeypatch: pytest.MonkeyPatch, scheduler_class: type) -> list[str]:
    """The first ``submit_job`` reaches the scheduler, then the worker dies before
    ``set_job_id``; the restarted worker runs ``task_submit_job`` again (from the checkpoint
    at the SUBMIT command). Returns the id of every job the scheduler really accepted."""
    from aiida.engine.processes.calcjobs import tasks

    real_submit = scheduler_class.submit_job  # type: ignore[attr-defined]
    accepted: list[str] = []

    def submit_then_die(self: Any, working_directory: str, filename: str) -> Any:
        result = real_submit(self, working_directory, filename)
        accepted.append(result)
        if len(accepted) == 1:
            raise WorkerKilled
        return result

    original_task = tasks.task_submit_job

    async def run_then_restart(node: Any, *args: Any) -> Any:
        try:
            return await original_task(node, *args)
        except WorkerKilled:
            assert node.get_job_id() is None, "the id was never stored: the window"
            return await original_task(node, *args)

    monkeypatch.setattr(scheduler_class, "submit_job", submit_then_die)
    monkeypatch.setattr(tasks, "task_submit_job", run_then_restart)
    return accepted


def log_messages(node: Any) -> list[str]:
    from aiida import orm

    return [log.message for log in orm.Log.collection.get_logs_for(node)]


def run_add(code: Any, sleep_s: int, resources: dict[str, int]) -> Any:
    """A trivial real job (``core.arithmetic.add``: bash sleeps, then echoes 1 + 2)."""
    from aiida import orm
    from aiida.engine import run_get_node

    options = {"resources": resources, "max_wallclock_seconds": 120, "sleep": sleep_s}
    _, node = run_get_node(
        code.get_builder().process_class,
        code=code,
        x=orm.Int(1),
        y=orm.Int(2),
        metadata={"options": options},
    )
    return node


# --- the SLURM lookup on recorded output -------------------------------------------------


def test_a_running_job_in_the_folder_is_found() -> None:
    """Jobs of the same name in other folders (earlier recordings, CANCELLED) are not it."""
    found = parse_recorded("running")
    assert found == submit_lookup.LookupResult("14", "job 14 (RUNNING) found by squeue")


def test_a_job_submitted_twice_adopts_the_oldest_and_says_so() -> None:
    found = parse_recorded("running_and_pending")
    assert found.job_id == "14"
    assert "already submitted 2 times: 14, 15" in found.note


def test_a_finished_job_is_adopted_too() -> None:
    """Within MinJobAge squeue --states=all still lists it; it ran, so it is not re-run."""
    found = parse_recorded("completed")
    assert found.job_id == "16"
    assert "COMPLETED" in found.note


@pytest.mark.parametrize("situation", ["no_job", "same_name_other_folder"])
def test_no_job_of_this_node_means_submit(situation: str) -> None:
    """The same name in another folder is another profile's ``aiida-<pk>``: not ours."""
    found = parse_recorded(situation)
    assert found.job_id is None
    assert not found.failed
    assert "squeue" in found.note, "sacct (accounting disabled) did not answer"


def test_the_folder_matches_in_its_resolved_spelling() -> None:
    """The node may name its folder through a symlink; SLURM stores the resolved one."""
    found = parse_recorded("running", workdir="/scratch-link/whatever/own")
    assert found.job_id == "14"


def test_missing_slurm_commands_make_the_lookup_fail() -> None:
    data = recorded("commands_missing")
    found = parse_recorded("commands_missing")
    assert found.failed
    assert found.job_id is None
    assert "squeue" in found.note
    assert "not found" in found.note, data["stdout"]


@pytest.mark.parametrize(
    ("created", "days"), [("2026-12-05T08:00:00", 2), ("2026-12-01T12:00:00", 5)]
)
def test_sacct_looks_back_to_the_node_creation(created: str, days: int) -> None:
    from datetime import datetime, timezone

    now = datetime(2026, 12, 5, 9, tzinfo=timezone.utc)
    ctime = datetime.fromisoformat(created).replace(tzinfo=timezone.utc)
    assert submit_lookup.lookback_days(ctime, now) == days
    assert f"--starttime=now-{days}days" in submit_lookup.slurm_lookup_command("aiida-1", days)


# --- the direct scheduler: PID marker and process check, real processes -----------------


def _direct_submit(folder: Path, seconds: float) -> str:
    """Submit ``sleep`` as aiida-core's direct scheduler would, with the repaired command."""
    from aiida.transports.plugins.local import LocalTransport

    (folder / ".aiida").mkdir()  # aiida-core's upload creates it (calcinfo.json)
    (folder / SCRIPT).write_text(f"exec > _scheduler-stdout.txt\nsleep {seconds}\n")
    command = submit_lookup.direct_submit_command(f"'{SCRIPT}'")
    with LocalTransport() as transport:
        retval, stdout, stderr = transport.exec_command_wait(command, workdir=str(folder))
    assert retval == 0, stderr
    return stdout.strip()


def _direct_lookup(folder: Path) -> submit_lookup.LookupResult:
    from aiida.transports.plugins.local import LocalTransport

    with LocalTransport() as transport:
        _, stdout, _ = transport.exec_command_wait(
            submit_lookup.direct_lookup_command(), workdir=str(folder)
        )
    return submit_lookup.parse_direct_lookup(stdout, str(folder), SCRIPT)


def _wait_gone(pid: int, timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while Path(f"/proc/{pid}").exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not Path(f"/proc/{pid}").exists()


def test_the_direct_marker_holds_the_id_aiida_core_stores(tmp_path: Path) -> None:
    pid = _direct_submit(tmp_path, 30)
    try:
        assert pid.isdigit()
        assert (tmp_path / submit_lookup.DIRECT_PID_MARKER).read_text().strip() == pid
        found = _direct_lookup(tmp_path)
        assert found == submit_lookup.LookupResult(
            pid, f"job {pid} started before (marker) and still running"
        )
    finally:
        subprocess.run(["kill", pid], check=False)
    _wait_gone(int(pid))
    assert _direct_lookup(tmp_path).job_id == pid, "a job that has ended is not run again"


def test_no_direct_marker_means_never_started(tmp_path: Path) -> None:
    found = _direct_lookup(tmp_path)
    assert found.job_id is None
    assert not found.failed


def test_a_reused_pid_is_not_adopted(tmp_path: Path) -> None:
    """The marker's PID now belongs to another process (this test's own, elsewhere)."""
    (tmp_path / ".aiida").mkdir()
    (tmp_path / submit_lookup.DIRECT_PID_MARKER).write_text(f"{os.getpid()}\n")
    found = _direct_lookup(tmp_path)
    assert found.job_id is None
    assert not found.failed
    assert "finished" in found.note


# --- window 3 in one process, on the direct scheduler -----------------------------------


@pytest.fixture
def add_code(localhost: Any) -> Any:
    from aiida import orm

    return orm.InstalledCode(
        computer=localhost,
        filepath_executable="/bin/bash",
        default_calc_job_plugin="core.arithmetic.add",
    ).store()


@pytest.mark.parametrize("repair", [False, True])
def test_an_interrupted_direct_submit(
    restore_tasks: None, monkeypatch: pytest.MonkeyPatch, add_code: Any, repair: bool
) -> None:
    """aiida-core alone starts the job twice in one folder; repaired, the first is adopted."""
    from aiida.schedulers.plugins.direct import DirectScheduler

    if repair:
        engine_repairs.install_repairs()
    lookups: list[submit_lookup.LookupResult] = []
    real_lookup = submit_repair.lookup_submitted_job

    def recorded_lookup(*args: Any) -> submit_lookup.LookupResult:
        lookups.append(real_lookup(*args))
        return lookups[-1]

    monkeypatch.setattr(submit_repair, "lookup_submitted_job", recorded_lookup)
    accepted = kill_after_submit(monkeypatch, DirectScheduler)
    node = run_add(add_code, 2, {"num_machines": 1, "num_mpiprocs_per_machine": 1})
    assert node.is_finished_ok, node.exit_message
    assert node.outputs.sum.value == 3
    if not repair:
        assert len(accepted) == 2, "the job ran twice in the same folder"
        assert node.get_job_id() == accepted[1]
        return
    assert len(accepted) == 1, "the restarted submit found the job instead of starting it again"
    assert node.get_job_id() == accepted[0]
    assert [found.job_id for found in lookups] == [accepted[0]], "exactly one lookup"
    assert sum("adopted job" in message for message in log_messages(node)) == 1


def test_a_failing_lookup_submits_with_a_warning(
    restore_tasks: None, monkeypatch: pytest.MonkeyPatch, add_code: Any
) -> None:
    from aiida.schedulers.plugins.direct import DirectScheduler

    def transport_lost(calculation: Any, transport: Any) -> submit_lookup.LookupResult:
        raise OSError("connection reset by peer")

    engine_repairs.install_repairs()
    monkeypatch.setattr(submit_repair, "lookup_submitted_job", transport_lost)
    accepted = kill_after_submit(monkeypatch, DirectScheduler)
    node = run_add(add_code, 0, {"num_machines": 1, "num_mpiprocs_per_machine": 1})
    assert node.is_finished_ok, node.exit_message
    assert len(accepted) == 2, "a lookup that fails falls back to aiida-core's submit"
    (warning,) = [m for m in log_messages(node) if "could not check" in m]
    assert "OSError: connection reset by peer" in warning
    assert "may run twice" in warning


def test_an_uninterrupted_submit_does_no_lookup(
    restore_tasks: None,
    monkeypatch: pytest.MonkeyPatch,
    add_code: Any,
    caplog: pytest.LogCaptureFixture,
) -> None:
    def no_lookup(*args: Any) -> None:
        raise AssertionError("a first submit must not look anything up")

    engine_repairs.install_repairs()
    monkeypatch.setattr(submit_repair, "lookup_submitted_job", no_lookup)
    with caplog.at_level(logging.WARNING):
        node = run_add(add_code, 0, {"num_machines": 1, "num_mpiprocs_per_machine": 1})
    assert node.is_finished_ok, node.exit_message
    assert node.base.extras.get(submit_repair.SUBMIT_EXTRA) == 1
    assert not any("adopted" in m or "could not check" in m for m in log_messages(node))


def test_an_unsupported_scheduler_is_a_failed_lookup() -> None:
    from types import SimpleNamespace

    calculation = SimpleNamespace(
        computer=SimpleNamespace(scheduler_type="core.pbspro"),
        get_remote_workdir=lambda: "/scratch/x",
        get_option=lambda name: SCRIPT,
    )
    found = submit_repair.lookup_submitted_job(calculation, transport=None)
    assert found.failed
    assert "core.pbspro" in found.note
