"""``janus.na_snapshots`` with batched snapshot jobs (``janus.snapshot_batch``), end to end.

Reference: today's path (one PwBaseWorkChain per snapshot, overlaps by the calcfunction)
replayed from its own recordings (test_na_snapshots.py) on the same trajectory, band window
and labels. Batch jobs replay real pw.x runs of their driver; re-record with
``JANUS_MOCK_KEEP_WAVEFUNCTIONS=1 scripts/record_fixtures.sh
'tests/workflows/workchains/test_na_snapshots_batched.py'``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pytest

from tests.workflows.workchains.test_na_snapshots import SERIAL, TINY_SCF, _trajectory

if TYPE_CHECKING:
    from aiida.orm import InstalledCode
    from aiida_pseudo.groups.family import CutoffsPseudoPotentialFamily

LABELS = {"domain": ["cd_plane", "s_plane"], "layer": [0, 0], "fixed": [False, False]}
BATCHED = {"batched": True, "batch_walltime_seconds": 44.0, "seconds_per_snapshot": 22.0}


@pytest.fixture
def nc_family(pseudo_family: Callable[[str], CutoffsPseudoPotentialFamily]) -> str:
    return pseudo_family("nc").label


def _builder(code: InstalledCode, overrides: dict[str, Any], protocol: str = "fast") -> Any:
    from aiida.orm import Dict

    from workflows.workchains.na_snapshots import NaSnapshotsWorkChain

    builder = NaSnapshotsWorkChain.get_builder_from_protocol(
        code, _trajectory(), protocol=protocol, overrides=overrides, site_labels=Dict(LABELS)
    )
    builder.scf.pw.metadata.options = SERIAL
    return builder


@pytest.mark.usefixtures("nc_family")
def test_frames_per_job_from_the_protocol(mock_code: Callable[..., InstalledCode]) -> None:
    """K = batch walltime // seconds per snapshot; fast keeps one CalcJob per snapshot.
    (``balanced`` asks for 4 electron bands: its own nbnd, not TINY_SCF's 3 empty ones.)"""
    code = mock_code("pw.x")
    assert "frames_per_job" not in _builder(code, TINY_SCF)
    assert _builder(code, {}, "balanced").frames_per_job.value == 3600 // 60
    with pytest.raises(ValueError, match=r"electron_bands must be in 1\.\.3"):
        _builder(code, TINY_SCF, "balanced")
    assert _builder(code, {**TINY_SCF, **BATCHED}).frames_per_job.value == 2


def _batch_jobs(node: Any) -> list[Any]:
    from aiida.orm import CalcJobNode

    jobs = [n for n in node.called_descendants if isinstance(n, CalcJobNode)]
    return sorted(jobs, key=lambda job: list(job.inputs.frames))


def _retrieved_bytes(job: Any) -> int:
    repository = job.outputs.retrieved.base.repository
    return sum(
        len(repository.get_object_content(name, mode="rb"))
        for name in repository.list_object_names()
    )


@pytest.mark.usefixtures("nc_family")
def test_batched_snapshots_give_todays_nacs(mock_code: Callable[..., InstalledCode]) -> None:
    """2 chains as batch jobs of K = 2 (the second chain leads in with snapshot 1, computed
    again from scratch): the same NA Hamiltonian as today's per-snapshot path, within the
    SCF noise of the reference (conv_thr 1e-8 Ry: overlaps differ by ≤ 2.2e-4 between
    from-scratch and restarted runs of one frame). The lead-in's states carry signs of
    their own; without joining them to the chain before (gauge fingerprints) the NAC of
    every pair after the boundary flips sign (measured −5.8e-4 against +5.4e-4)."""
    from aiida.engine import run_get_node

    from workflows.inputs.pipeline_inputs import highest_occupied_band

    code = mock_code("pw.x")
    today, today_node = run_get_node(_builder(code, TINY_SCF))
    assert today_node.is_finished_ok, today_node.exit_message
    batched, node = run_get_node(_builder(code, {**TINY_SCF, **BATCHED}))
    assert node.is_finished_ok, node.exit_message
    jobs = _batch_jobs(node)
    assert [list(job.inputs.frames) for job in jobs] == [[0, 1], [1, 2], [3]]
    reference, result = today["na_hamiltonian"], batched["na_hamiltonian"]
    assert result.get_array("overlaps").shape == (3, 2, 2)
    np.testing.assert_array_equal(result.get_array("band_order"), reference.get_array("band_order"))
    for name, tolerance in (
        ("energies_ev", 1e-4),
        ("domain_weights", 1e-4),
        ("overlaps", 3e-4),
        ("nac_per_fs", 1e-4),
    ):
        np.testing.assert_allclose(
            result.get_array(name), reference.get_array(name), rtol=0, atol=tolerance
        )
    # NACs of this tiny system are ~6e-4 fs⁻¹: a sign flip would be a 1e-3 difference.
    nac = reference.get_array("nac_per_fs")
    assert np.abs(nac[:, 0, 1]).min() > 4e-4
    np.testing.assert_array_equal(np.sign(result.get_array("nac_per_fs")), np.sign(nac))
    # The pipeline maps IS/FS bands through the highest occupied band: from the batch's
    # frame facts (pw.x's XML) as from today's output_parameters (aiida-qe's PwParser).
    assert highest_occupied_band(node) == highest_occupied_band(today_node) > 0
    # Only small result files come back: no wavefunction, no pw.x output.
    for job in jobs:
        names = job.outputs.retrieved.base.repository.list_object_names()
        assert not any(name.startswith("wfc") or name.endswith((".dat", ".out")) for name in names)
        assert _retrieved_bytes(job) / len(job.inputs.frames) < 10_000  # 2 bands here


@pytest.mark.usefixtures("nc_family")
def test_batched_snapshots_clean_their_folders(mock_code: Callable[..., InstalledCode]) -> None:
    """``clean_workdir`` (default True) empties every batch job's remote folder (wavefunction
    checkpoints of its frames) and bars the job from caching; False keeps them."""
    from aiida.engine import run_get_node
    from aiida.orm import Bool

    builder = _builder(mock_code("pw.x"), {**TINY_SCF, **BATCHED})
    _, node = run_get_node(builder)
    assert node.is_finished_ok, node.exit_message
    jobs = _batch_jobs(node)
    assert len(jobs) == 3
    assert all(job.outputs.remote_folder.is_cleaned for job in jobs)
    assert not any(job.base.caching.is_valid_cache for job in jobs)
    builder.clean_workdir = Bool(False)
    _, kept = run_get_node(builder)
    assert kept.is_finished_ok, kept.exit_message
    for job in _batch_jobs(kept):
        folder = Path(job.outputs.remote_folder.get_remote_path())
        assert not job.outputs.remote_folder.is_cleaned
        assert list(folder.glob("frames/frame_*/aiida.save/wfc1.dat"))


@pytest.mark.usefixtures("nc_family")
def test_batch_failing_mid_way_resumes_from_last_finished_frame(
    mock_code: Callable[..., InstalledCode],
) -> None:
    """One chain, one batch of 4 frames; frame 2 puts S on the Cd site, and the real pw.x
    (recorded, exit 1: ``check_atoms``, atoms overlap) fails there. The batch ends with
    351 (frames 0, 1 finished); the workchain resumes it once from its folder: frames 0, 1
    skipped, frame 2 restarted from frame 1's checkpoint (fails again: the geometry is
    broken), then 401 naming the batch. That a resumed batch then completes with the
    uninterrupted batch's pairs is tested on ``janus.snapshot_batch`` itself
    (tests/workflows/calculations/test_snapshot_batch.py)."""
    from aiida.engine import run_get_node
    from aiida.orm import Int, TrajectoryData

    from tests.workflows.workchains.test_na_snapshots import _snapshots_builder

    trajectory = _trajectory()
    positions = trajectory.get_positions()
    positions[2, 1] = positions[2, 0]  # S on top of Cd
    broken = TrajectoryData()
    broken.set_trajectory(
        symbols=trajectory.symbols,
        positions=positions,
        stepids=trajectory.get_stepids(),
        cells=trajectory.get_cells(),
        times=trajectory.get_times(),
        pbc=(True, True, True),
    )
    builder = _snapshots_builder(mock_code("pw.x"), trajectory=broken)
    builder.n_chains, builder.frames_per_job = Int(1), Int(4)
    _, node = run_get_node(builder)
    assert node.exit_status == 401
    assert "SCF of snapshot [0, 1, 2, 3]" in (node.exit_message or "")
    first, resumed = sorted(_batch_jobs(node), key=lambda job: job.ctime)
    assert first.exit_status == resumed.exit_status == 351
    assert "frames [2, 3] unfinished" in (first.exit_message or "")
    assert "frame_0002: pw.x exited 1" in (first.exit_message or "")
    assert resumed.inputs.parent_folder.uuid == first.outputs.remote_folder.uuid
    log = resumed.outputs.retrieved.base.repository.get_object_content("janus_batch.log", mode="r")
    assert "frame_0000: finished before, skipped" in log
    assert "frame_0001: finished before, skipped" in log
    assert "frame_0002: restarting from checkpoint frames/frame_0001" in log
    assert sorted(resumed.outputs.pairs) == ["pair_0000"]  # carried over from the first job
