"""Window 3 on the real single-node SLURM: a submit killed before its job id was stored.

The job (``core.arithmetic.add`` with a 5 s ``sleep``) really reaches ``sbatch``; the
worker then dies before ``set_job_id`` and the restarted worker runs the submit task again
(in one process, as ``tests/workflows/engine/test_repairs.py`` reproduces windows 1 and
2). Reference: SLURM's own job list (``squeue --states=all``, which keeps finished jobs
for ``MinJobAge`` = 300 s) counts the jobs named ``aiida-<pk>`` in the node's folder:
two without the repair (aiida-core 2.9 submits again into the same folder), one with it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.workflows.engine.test_submit_repair import kill_after_submit, log_messages, run_add
from workflows.engine import repairs as engine_repairs
from workflows.engine import submit_lookup
from workflows.setup.slurm import SlurmSetupError, slurm_is_up, start_slurm, stop_slurm

SLEEP_S = 5


@pytest.fixture(scope="module")
def running_slurm() -> Iterator[None]:
    """The single-node SLURM of ``aiida-janus slurm-up``; stopped after if started here."""
    if shutil.which("sbatch") is None and os.geteuid() != 0:
        pytest.skip("SLURM is not installed (no sbatch) and installing it needs root")
    was_up = slurm_is_up()
    try:
        start_slurm()
    except SlurmSetupError as error:
        pytest.skip(f"the single-node SLURM could not be started: {error}")
    yield
    if not was_up:
        stop_slurm()


@pytest.fixture
def slurm_add_code(aiida_profile: Any, janus_test_dir: Path) -> Any:
    """``core.arithmetic.add`` (bash) on a ``core.slurm`` computer over the local transport."""
    from aiida import orm
    from aiida.common.exceptions import NotExistent

    label = "slurm-window3"
    try:
        computer = orm.load_computer(label)
    except NotExistent:
        computer = orm.Computer(
            label=label,
            hostname="localhost",
            transport_type="core.local",
            scheduler_type="core.slurm",
            workdir=str(janus_test_dir / "slurm-scratch"),
        ).store()
        computer.configure(safe_interval=0.0)
        computer.set_minimum_job_poll_interval(1.0)
        computer.set_default_mpiprocs_per_machine(1)
    code = orm.InstalledCode(computer, "/bin/bash", default_calc_job_plugin="core.arithmetic.add")
    return code.store()


def slurm_jobs(name: str, workdir: str) -> list[tuple[str, str]]:
    """(job id, working directory) of every job named ``name`` that SLURM still lists in
    ``workdir``: a test profile re-uses PKs, so an earlier run's ``aiida-<pk>`` may still
    be listed (for ``MinJobAge``), in another folder."""
    command = ["squeue", "--noheader", "--states=all", f"--name={name}", "--format=%i|%Z"]
    listing = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    rows = [line.split("|") for line in listing.split()]
    return sorted((job_id, folder) for job_id, folder in rows if folder == workdir)


@pytest.mark.slurm
@pytest.mark.usefixtures("running_slurm", "restore_tasks")
@pytest.mark.parametrize("repair", [False, True])
def test_a_submit_killed_before_its_job_id_was_stored(
    monkeypatch: pytest.MonkeyPatch, slurm_add_code: Any, repair: bool
) -> None:
    from aiida.schedulers.plugins.slurm import SlurmScheduler

    if repair:
        engine_repairs.install_repairs()
    accepted = kill_after_submit(monkeypatch, SlurmScheduler)
    node = run_add(slurm_add_code, SLEEP_S, {"num_machines": 1, "num_mpiprocs_per_machine": 1})
    assert node.is_finished_ok, node.exit_message
    assert node.outputs.sum.value == 3
    folder = node.get_remote_workdir()
    jobs = slurm_jobs(submit_lookup.job_name(node.pk), folder)
    if not repair:
        assert jobs == sorted((job_id, folder) for job_id in accepted)
        assert len(jobs) == 2, "aiida-core alone submits the job again into the same folder"
        return
    assert jobs == [(accepted[0], folder)], "one job: the restarted submit adopted it"
    assert node.get_job_id() == accepted[0]
    (adopted,) = [message for message in log_messages(node) if "adopted job" in message]
    assert f"job {accepted[0]} (" in adopted
