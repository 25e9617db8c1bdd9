"""``janus.na_snapshots`` with batched snapshot jobs: K from the protocol."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

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
