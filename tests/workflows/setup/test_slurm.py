"""The cluster path: a real single-node SLURM on this machine and a real pw.x job through it.

``start_slurm`` installs slurm-wlm + munge when missing (as root, as in CI), writes the
configuration and starts the daemons; the fixture stops them again unless they were
already running before the tests (then they belong to the user).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiida.engine import run_get_node
from aiida.orm import CalcJobNode, StructureData
from ase.build import bulk
from click.testing import CliRunner

from tests.conftest import require_executable, running_in_ci
from tests.workflows.provenance.test_queries import stored_pk
from workflows.cli.main import cli
from workflows.inputs.pw_builders import pw_base_builder
from workflows.provenance.queries import workflow_status
from workflows.setup.codes import register_code, register_computer
from workflows.setup.paths import PROFILES_DIR
from workflows.setup.slurm import (
    MANAGED_MARKER,
    SlurmLayout,
    SlurmNode,
    SlurmSetupError,
    SlurmStatus,
    local_node,
    render_slurm_conf,
    slurm_is_up,
    start_slurm,
    stop_slurm,
    write_slurm_conf,
)

CDS_ZB_LATTICE_A = 5.832  # Å, experimental zinc-blende CdS
# Seconds on one core: coarse k-mesh (Å^-1 spacing) and cutoffs (Ry) below the family's.
CHEAP_SCF = {
    "kpoints_distance": 0.5,
    "pw": {"parameters": {"SYSTEM": {"ecutwfc": 30.0, "ecutrho": 240.0}}},
}


def conf_settings(text: str) -> dict[str, str]:
    """``key=value`` lines of a slurm.conf (first key of each line) as a dict."""
    settings = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            key, _, value = line.partition("=")
            settings[key] = value
    return settings


def test_conf_describes_this_machine_without_cgroups(tmp_path: Path) -> None:
    node = SlurmNode(name="nodeA", cpus=2, real_memory_mb=1000)
    text = render_slurm_conf(node, SlurmLayout(tmp_path))
    settings = conf_settings(text)
    assert text.startswith(MANAGED_MARKER)
    assert settings["ProctrackType"] == "proctrack/linuxproc"
    assert settings["TaskPlugin"] == "task/none"
    assert settings["SelectType"] == "select/cons_tres"
    assert settings["SlurmUser"] == "root"
    assert "nodeA NodeAddr=127.0.0.1 CPUs=2 RealMemory=1000" in settings["NodeName"]
    for key in ("StateSaveLocation", "SlurmdSpoolDir", "SlurmctldLogFile", "SlurmdPidFile"):
        assert settings[key].startswith(str(tmp_path)), "daemon files stay in the work folder"


def test_local_node_matches_nproc_and_memory() -> None:
    node = local_node()
    assert node.cpus == os.cpu_count()
    assert node.name
    assert "." not in node.name, "short hostname, as slurmd reports itself"
    assert 0 < node.real_memory_mb < os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")


def test_foreign_slurm_conf_is_never_overwritten(tmp_path: Path) -> None:
    foreign = tmp_path / "slurm.conf"
    foreign.write_text("ClusterName=production\n")
    with pytest.raises(SlurmSetupError, match="not written by aiida-janus"):
        write_slurm_conf("ours\n", foreign)
    assert foreign.read_text() == "ClusterName=production\n"
    ours = tmp_path / "ours.conf"
    write_slurm_conf(MANAGED_MARKER + "\nA=1\n", ours)
    write_slurm_conf(MANAGED_MARKER + "\nA=2\n", ours)
    assert ours.read_text().endswith("A=2\n"), "our own file is rewritten"


@pytest.fixture(scope="module")
def local_slurm() -> Iterator[SlurmStatus]:
    """A running single-node SLURM; stopped afterwards if the test started it."""
    if shutil.which("sinfo") is None and os.geteuid() != 0:
        message = "SLURM is not installed and installing it needs root"
        if running_in_ci():
            pytest.fail(message)
        pytest.skip(message)
    was_up = slurm_is_up()
    status = start_slurm()
    yield status
    if not was_up:
        stop_slurm()


@pytest.mark.slurm
def test_start_is_idempotent(local_slurm: SlurmStatus) -> None:
    assert local_slurm.state == "idle"
    again = start_slurm()
    assert again.started == (), "a running SLURM is left alone"
    assert again.node == local_node().name
    assert slurm_is_up()
    result = CliRunner().invoke(cli, ["slurm-up", "--no-register"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert f"SLURM node {local_slurm.node} is idle; started nothing (already running)" in (
        result.output
    )


def _slurm_cds_scf(overrides: dict[str, object]) -> Any:
    """A 1-rank PwBaseWorkChain builder for ZB CdS on the slurm-local computer (PAW)."""
    from workflows.setup.pseudos import install_pseudo_family

    require_executable("pw.x")
    computer = register_computer(PROFILES_DIR / "computer-slurm.yaml")
    assert computer.scheduler_type == "core.slurm"
    code = register_code(PROFILES_DIR / "code-pw.yaml", computer)
    install_pseudo_family("paw")
    structure = StructureData(ase=bulk("CdS", "zincblende", a=CDS_ZB_LATTICE_A))
    builder = pw_base_builder(code, structure, protocol="fast", overrides=overrides)
    options = builder["pw"]["metadata"]["options"]
    options["resources"] = {"num_machines": 1, "num_mpiprocs_per_machine": 1}
    options["max_wallclock_seconds"] = 600
    return builder


@pytest.mark.slurm
@pytest.mark.real_qe
@pytest.mark.usefixtures("aiida_profile")
def test_pw_scf_through_core_slurm(local_slurm: SlurmStatus) -> None:
    from workflows.setup.pseudos import install_pseudo_family

    builder = _slurm_cds_scf(CHEAP_SCF)
    _, node = run_get_node(builder)
    assert node.is_finished_ok, node.exit_status
    (calc,) = [child for child in node.called if isinstance(child, CalcJobNode)]
    job_id = calc.get_job_id()
    assert job_id is not None, "SLURM assigned a job id"
    assert int(job_id) > 0
    assert calc.computer is not None
    assert calc.computer.label == "slurm-local"
    (step,) = [s for s in workflow_status(stored_pk(node)) if s.pk == calc.pk]
    assert step.job_id == job_id, "`aiida-janus status` shows the SLURM job id"
    assert step.scheduler_state == "done"
    params = node.outputs.output_parameters.get_dict()
    assert params["convergence_info"]["scf_conv"]["convergence_achieved"]
    assert params["energy"] < 0, "a bound crystal has a negative total energy (eV)"
    assert params["number_of_electrons"] == pytest.approx(
        sum(install_pseudo_family("paw").get_pseudo(el).z_valence for el in ("Cd", "S"))
    )
    assert params.get("wall_time_seconds", 0) < 120


def _scancel_first_job(cancelled: list[str]) -> None:
    """``scancel`` the first job that SLURM shows RUNNING, once it has run a second."""
    import subprocess
    import time

    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        listing = subprocess.run(
            ["squeue", "-h", "-t", "RUNNING", "-o", "%i"], capture_output=True, text=True
        ).stdout.split()
        if listing:
            time.sleep(1.0)
            subprocess.run(["scancel", listing[0]], check=True)
            cancelled.append(listing[0])
            return
        time.sleep(0.2)


@pytest.mark.slurm
@pytest.mark.real_qe
@pytest.mark.usefixtures("aiida_profile")
def test_scancelled_job_is_detected_and_run_again(local_slurm: SlurmStatus) -> None:
    """A job cancelled with scancel: the calculation fails, PwBaseWorkChain runs it again."""
    import threading

    long_scf = {
        "kpoints_distance": 0.5,
        "pw": {
            "parameters": {
                "SYSTEM": {"ecutwfc": 30.0, "ecutrho": 240.0},
                "ELECTRONS": {"conv_thr": 1e-12},
            }
        },
    }
    builder = _slurm_cds_scf(long_scf)
    cancelled: list[str] = []
    canceller = threading.Thread(target=_scancel_first_job, args=(cancelled,), daemon=True)
    canceller.start()
    _, node = run_get_node(builder)
    canceller.join(timeout=5)
    assert cancelled, "the job finished before scancel: make the SCF longer"
    calcs = sorted(
        (child for child in node.called if isinstance(child, CalcJobNode)), key=lambda c: c.ctime
    )
    assert calcs[0].get_job_id() == cancelled[0]
    assert len(calcs) == 2
    assert calcs[0].is_failed, "a cancelled job must not pass as finished"
    assert calcs[1].is_finished_ok
    assert node.is_finished_ok, node.exit_message
