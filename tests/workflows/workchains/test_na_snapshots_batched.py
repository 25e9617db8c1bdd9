"""``janus.na_snapshots`` with batched snapshot jobs (``janus.snapshot_batch``), end to end.

Reference: today's path (one PwBaseWorkChain per snapshot, overlaps by the calcfunction)
replayed from its own recordings (test_na_snapshots.py) on the same trajectory, band window
and labels. Batch jobs replay real pw.x runs of their driver; re-record with
``JANUS_MOCK_KEEP_WAVEFUNCTIONS=1 scripts/record_fixtures.sh
'tests/workflows/workchains/test_na_snapshots_batched.py'``.
"""

from __future__ import annotations

from collections.abc import Callable
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
    """K = batch walltime // seconds per snapshot; fast keeps one CalcJob per snapshot."""
    code = mock_code("pw.x")
    assert "frames_per_job" not in _builder(code, TINY_SCF)
    assert _builder(code, TINY_SCF, "balanced").frames_per_job.value == 3600 // 60
    assert _builder(code, {**TINY_SCF, **BATCHED}).frames_per_job.value == 2


@pytest.mark.usefixtures("nc_family")
def test_batched_snapshots_give_todays_nacs(mock_code: Callable[..., InstalledCode]) -> None:
    """2 chains as batch jobs (the second leads in with snapshot 1): same pairs, NACs,
    energies and domain weights as today's per-snapshot path, within SCF noise."""
    from aiida.engine import run_get_node
    from aiida.orm import CalcJobNode

    code = mock_code("pw.x")
    today, today_node = run_get_node(_builder(code, TINY_SCF))
    assert today_node.is_finished_ok, today_node.exit_message
    batched, node = run_get_node(_builder(code, {**TINY_SCF, **BATCHED}))
    assert node.is_finished_ok, node.exit_message
    jobs = [n for n in node.called_descendants if isinstance(n, CalcJobNode)]
    assert sorted(list(job.inputs.frames) for job in jobs) == [[0, 1], [1, 2, 3]]
    reference, result = today["na_hamiltonian"], batched["na_hamiltonian"]
    assert result.get_array("overlaps").shape == (3, 2, 2)
    for name, tolerance in (("energies_ev", 1e-4), ("domain_weights", 1e-4), ("overlaps", 1e-4)):
        np.testing.assert_allclose(
            result.get_array(name), reference.get_array(name), rtol=0, atol=tolerance
        )
    np.testing.assert_allclose(
        result.get_array("nac_per_fs"), reference.get_array("nac_per_fs"), rtol=0, atol=1e-4
    )
    np.testing.assert_array_equal(result.get_array("band_order"), reference.get_array("band_order"))
