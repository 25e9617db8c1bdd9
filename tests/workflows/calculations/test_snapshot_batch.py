"""``janus.snapshot_batch`` on mock pw.x: a real run of the driver replayed, resume, bad input.

Every pw.x call of the driver replays a recording of real pw.x 6.7 (with wavefunctions,
tests/fixtures/mock/pw.x); the driver, the checkpoints and the shipped overlap script run
for real. Re-record with ``JANUS_MOCK_KEEP_WAVEFUNCTIONS=1 scripts/record_fixtures.sh
'tests/workflows/calculations/test_snapshot_batch.py'``.
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


def _pairs(node: Any) -> dict[str, Any]:
    return {label: node.outputs.pairs[label] for label in sorted(node.outputs.pairs)}


@pytest.mark.usefixtures("nc_family")
def test_batch_of_four_frames_replayed(mock_code: Callable[..., InstalledCode]) -> None:
    """4 frames in one job: 3 pairs in the calcfunction's form; NAC chain as today's."""
    from aiida.engine import run_get_node
    from aiida.orm import Dict

    from workflows.calcfunctions.na import assemble_na_hamiltonian
    from workflows.calculations.snapshot_batch import SnapshotBatchCalculation

    inputs = _batch_inputs(mock_code("pw.x"), [0, 1, 2, 3])
    _, node = run_get_node(SnapshotBatchCalculation, **inputs)
    assert node.is_finished_ok, node.exit_message
    pairs = _pairs(node)
    assert list(pairs) == ["pair_0000", "pair_0001", "pair_0002"]
    for pair in pairs.values():
        assert sorted(pair.get_arraynames()) == [
            "domain_weights_bra",
            "domain_weights_ket",
            "energies_bra_ev",
            "energies_ket_ev",
            "overlap",
        ]
        assert pair.base.attributes.get("band_window") == WINDOW
        assert abs(np.diagonal(pair.get_array("overlap"))).min() > 0.99
        np.testing.assert_allclose(pair.get_array("domain_weights_ket").sum(axis=1), 1, atol=1e-8)
    # Consecutive pairs share a snapshot: bra side of one = ket side of the one before.
    for before, after in zip(list(pairs.values())[:-1], list(pairs.values())[1:], strict=True):
        np.testing.assert_array_equal(
            before.get_array("energies_ket_ev"), after.get_array("energies_bra_ev")
        )
    facts = node.outputs.frame_facts["frames"]
    assert [f["position"] for f in facts] == [0, 1, 2, 3]
    assert all(f["converged"] for f in facts)
    # Restarted SCFs (frames 1..3) start from the previous frame: fewer iterations.
    assert max(f["n_scf_steps"] for f in facts[1:]) < facts[0]["n_scf_steps"]
    retrieved = node.outputs.retrieved.base.repository.list_object_names()
    assert not any(name.startswith("wfc") or name.endswith(".out") for name in retrieved)
    settings = Dict({"dt_fs": 1.0, "band_window": WINDOW, "track_states": True})
    hamiltonian = assemble_na_hamiltonian(settings, **pairs)["na_hamiltonian"]
    nac = hamiltonian.get_array("nac_per_fs")
    assert nac.shape == (3, 2, 2)
    np.testing.assert_allclose(nac, -nac.transpose(0, 2, 1), atol=1e-12)


@pytest.mark.usefixtures("nc_family")
def test_batch_resumes_from_last_finished_frame(mock_code: Callable[..., InstalledCode]) -> None:
    """A batch stopped after each frame (max_seconds) is resumed twice from its remote folder:
    the frames already done are skipped, the rest restart from the last checkpoint, and the
    final job returns every pair; equal to the uninterrupted batch within SCF noise."""
    from aiida.engine import run_get_node

    from workflows.calculations.snapshot_batch import SnapshotBatchCalculation

    code = mock_code("pw.x")
    inputs = _batch_inputs(code, [0, 1, 2, 3], max_seconds=1e-3)
    _, first = run_get_node(SnapshotBatchCalculation, **inputs)
    assert first.exit_status == 351
    assert "frames [1, 2, 3] unfinished" in (first.exit_message or "")
    inputs["parent_folder"] = first.outputs.remote_folder
    _, second = run_get_node(SnapshotBatchCalculation, **inputs)
    assert second.exit_status == 351
    assert list(_pairs(second)) == ["pair_0000"]
    resumed = _batch_inputs(code, [0, 1, 2, 3])
    resumed["parent_folder"] = second.outputs.remote_folder
    _, third = run_get_node(SnapshotBatchCalculation, **resumed)
    assert third.is_finished_ok, third.exit_message
    log = third.outputs.retrieved.base.repository.get_object_content("janus_batch.log", mode="r")
    assert "frame_0000: finished before, skipped" in log
    assert "frame_0002: restarting from checkpoint frames/frame_0001" in log
    _, straight = run_get_node(SnapshotBatchCalculation, **_batch_inputs(code, [0, 1, 2, 3]))
    for label, pair in _pairs(third).items():
        reference = _pairs(straight)[label]
        np.testing.assert_allclose(
            abs(pair.get_array("overlap")), abs(reference.get_array("overlap")), atol=1e-5
        )
        np.testing.assert_allclose(
            pair.get_array("energies_ket_ev"), reference.get_array("energies_ket_ev"), atol=1e-5
        )


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
