"""``janus.snapshot_batch``: bad input refused before anything is uploaded.

The inputs are those of the fast protocol's snapshot SCF on tiny CdS (as in
test_na_snapshots.py).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pytest

from tests.workflows.workchains.test_na_snapshots import SERIAL, TINY_SCF, _trajectory

if TYPE_CHECKING:
    from aiida.orm import InstalledCode
    from aiida_pseudo.groups.family import CutoffsPseudoPotentialFamily

LABELS = {"domain": ["cd_plane", "s_plane"], "layer": [0, 0], "fixed": [False, False]}
WINDOW = [10, 11]


@pytest.fixture
def nc_family(pseudo_family: Callable[[str], CutoffsPseudoPotentialFamily]) -> str:
    return pseudo_family("nc").label


def _batch_inputs(code: InstalledCode, frames: list[int], **settings: Any) -> dict[str, Any]:
    """The fast protocol's snapshot SCF (tiny CdS) as batch inputs."""
    from aiida.orm import Dict, List

    from workflows.workchains.na_snapshots import NaSnapshotsWorkChain

    trajectory = _trajectory()
    builder = NaSnapshotsWorkChain.get_builder_from_protocol(code, trajectory, overrides=TINY_SCF)
    assert list(builder.band_window) == WINDOW
    assert builder.scf.pw.settings["gamma_only"] is True  # pw.x Γ tricks, as today's path
    return {
        "code": code,
        "trajectory": trajectory,
        "frames": List(frames),
        "parameters": builder.scf.pw.parameters,
        "pseudos": dict(builder.scf.pw.pseudos),
        "kpoints": builder.scf.kpoints,
        "settings": Dict({"band_window": WINDOW, "gamma_only": True, **settings}),
        "site_labels": Dict(LABELS),
        "metadata": {"options": dict(SERIAL)},
    }


@pytest.mark.usefixtures("nc_family")
@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"frames": []}, "non-empty list of trajectory frame indices"),
        ({"frames": [0, 9]}, "outside the trajectory's 0..3"),
        ({"settings": {"band_window": [10, 13]}}, "outside the computed bands 1..12"),
        ({"settings": {}}, "settings.band_window (first, last; 1-based)"),
        ({"site_labels": {"domain": ["a"], "layer": [0]}}, "one domain label per site (2)"),
    ],
)
def test_batch_bad_input_refused_before_upload(
    mock_code: Callable[..., InstalledCode], change: dict[str, Any], message: str
) -> None:
    """Bad requests fail validation with a message naming the fix; nothing runs."""
    from aiida.engine import run_get_node
    from aiida.orm import Dict, List

    from workflows.calculations.snapshot_batch import SnapshotBatchCalculation

    inputs = _batch_inputs(mock_code("pw.x"), [0, 1])
    wrap = {"frames": List, "settings": Dict, "site_labels": Dict}
    inputs.update({key: wrap[key](value) for key, value in change.items()})
    with pytest.raises(ValueError, match="validating port 'inputs'") as error:
        run_get_node(SnapshotBatchCalculation, **inputs)
    assert message in str(error.value)
