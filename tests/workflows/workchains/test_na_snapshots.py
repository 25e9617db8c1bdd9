"""``janus.na_snapshots``: builders, bad input, end-to-end run.

The snapshot run replays recordings of real pw.x runs with wavefunctions
(tests/fixtures/mock/pw.x, see its README); re-record with
``JANUS_MOCK_KEEP_WAVEFUNCTIONS=1 scripts/record_fixtures.sh
'tests/workflows/workchains/test_na_snapshots.py::test_snapshots_end_to_end_on_recorded_pw'``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np
import pytest

if TYPE_CHECKING:
    from aiida.orm import InstalledCode
    from aiida_pseudo.groups.family import CutoffsPseudoPotentialFamily

SERIAL = {"withmpi": False, "resources": {"num_machines": 1, "num_mpiprocs_per_machine": 1}}
CELL_ANG = np.array([[0.0, 2.915, 2.915], [2.915, 0.0, 2.915], [2.915, 2.915, 0.0]])
# Tiny CdS: 20/80 Ry, 12 bands; 18 valence electrons (Cd [Kr] 4d10 5s2, S [Ne] 3s2 3p4 in
# profiles/pseudos/nc/*.in), so band 9 is the HOMO and the fast protocol's electron window
# is (10, 11): LUMO and LUMO + 1. Every frame is off the ideal site so no state is exactly
# degenerate.
HAND_COUNTED_HOMO = (12 + 6) // 2
TINY_SCF = {
    "scf": {"pw": {"parameters": {"SYSTEM": {"ecutwfc": 20.0, "ecutrho": 80.0, "nbnd": 12}}}}
}


def _trajectory(n_frames: int = 4, dt_fs: float = 1.0, variable_cell: bool = False) -> Any:
    """ZB CdS (a = 5.83 Å), S displaced 0.08 Å then moving ≈ 0.008 Å per frame."""
    from aiida.orm import TrajectoryData

    steps = np.arange(n_frames)
    sulfur = np.array([1.4575, 1.4575, 1.4575]) + np.array([0.06, 0.03, -0.04])
    positions = np.zeros((n_frames, 2, 3))
    positions[:, 1] = sulfur + steps[:, None] * np.array([0.004, 0.006, -0.003])
    cells = np.repeat(CELL_ANG[None], n_frames, axis=0)
    if variable_cell:
        cells = cells * (1 + 0.01 * steps)[:, None, None]
    trajectory = TrajectoryData()
    trajectory.set_trajectory(
        symbols=["Cd", "S"],
        positions=positions,
        stepids=steps,
        cells=cells,
        times=dt_fs * steps,
        pbc=(True, True, True),
    )
    return trajectory


@pytest.fixture
def nc_family(pseudo_family: Callable[[str], CutoffsPseudoPotentialFamily]) -> str:
    return pseudo_family("nc").label


def _snapshots_builder(code: InstalledCode, protocol: str = "fast", **kwargs: Any) -> Any:
    from workflows.workchains.na_snapshots import NaSnapshotsWorkChain

    trajectory = kwargs.pop("trajectory", None) or _trajectory()
    builder = NaSnapshotsWorkChain.get_builder_from_protocol(
        code, trajectory, protocol=protocol, overrides=kwargs.pop("overrides", TINY_SCF), **kwargs
    )
    builder.scf.pw.metadata.options = SERIAL
    return builder


def _builder_snapshot(builder: Any) -> dict[str, Any]:
    return {
        "band_window": list(builder.band_window),
        "carrier": builder.carrier.value,
        "n_chains": builder.n_chains.value,
        "parameters": builder.scf.pw.parameters.get_dict(),
        "settings": builder.scf.pw.settings.get_dict(),
        "kpoints_mesh": builder.scf.kpoints.get_kpoints_mesh()[0],
        "pseudos": {kind: pseudo.filename for kind, pseudo in builder.scf.pw.pseudos.items()},
    }


@pytest.mark.usefixtures("nc_family")
@pytest.mark.parametrize("protocol", ["fast", "balanced", "stringent"])
def test_snapshots_builder_per_protocol(
    protocol: str, real_code: Callable[[str], InstalledCode], data_regression: Any
) -> None:
    builder = _snapshots_builder(real_code("pw.x"), protocol, overrides={})
    data_regression.check(_builder_snapshot(builder))


@pytest.mark.usefixtures("nc_family")
@pytest.mark.parametrize(
    ("carrier", "expected"),
    [
        ("electron", [HAND_COUNTED_HOMO + 1, HAND_COUNTED_HOMO + 2]),
        ("hole", [HAND_COUNTED_HOMO - 1, HAND_COUNTED_HOMO]),
    ],
)
def test_carrier_window_from_hand_counted_homo(
    carrier: str, expected: list[int], real_code: Callable[[str], InstalledCode]
) -> None:
    """Reference: a hand count of CdS's valence electrons (12 + 6 = 18 → HOMO = band 9).

    An electron's basis is LUMO .. LUMO + 1 (bands 10, 11): no doubly occupied band. The
    old window (``bands_below`` = 2 up to the HOMO plus 2 above) was [8, 11].
    """
    overrides = {**TINY_SCF, "carrier": carrier}
    builder = _snapshots_builder(real_code("pw.x"), overrides=overrides)
    assert list(builder.band_window) == expected
    assert builder.carrier.value == carrier
    occupied = set(range(1, HAND_COUNTED_HOMO + 1))
    window = set(range(expected[0], expected[1] + 1))
    assert window.isdisjoint(occupied) == (carrier == "electron")


@pytest.mark.usefixtures("nc_family")
@pytest.mark.parametrize(
    ("charge", "carrier", "window", "nbnd"),
    [(-2.0, "electron", [11, 12], 18), (2.0, "hole", [7, 8], 16)],
)
def test_charged_snapshots_window_from_hand_count(
    charge: float,
    carrier: str,
    window: list[int],
    nbnd: int,
    real_code: Callable[[str], InstalledCode],
) -> None:
    """Reference: the hand count 12 + 6 − tot_charge (pw.x's ``nelec``: a positive charge
    removes electrons): HOMO 10 at −2, 8 at +2; the window starts at that HOMO, with the
    protocol's 8 empty bands above it, not at the neutral model's band 9."""
    system = {"ecutwfc": 20.0, "ecutrho": 80.0, "tot_charge": charge}
    overrides = {"carrier": carrier, "scf": {"pw": {"parameters": {"SYSTEM": system}}}}
    builder = _snapshots_builder(real_code("pw.x"), overrides=overrides)
    assert list(builder.band_window) == window
    assert builder.scf.pw.parameters["SYSTEM"]["nbnd"] == nbnd


@pytest.mark.usefixtures("nc_family")
def test_an_odd_electron_count_is_refused_by_the_builder(
    real_code: Callable[[str], InstalledCode],
) -> None:
    """Reference: hand count 12 + 6 − 1 = 17: no HOMO without spin, refused before any node
    is stored (the pipeline's builder calls this one on its preview model)."""
    system = {"ecutwfc": 20.0, "ecutrho": 80.0, "tot_charge": 1.0}
    overrides = {"scf": {"pw": {"parameters": {"SYSTEM": system}}}}
    with pytest.raises(ValueError, match=r"17 valence electrons .* not an even whole number"):
        _snapshots_builder(real_code("pw.x"), overrides=overrides)


@pytest.mark.usefixtures("nc_family")
@pytest.mark.parametrize(
    ("changes", "status", "message"),
    [
        ({"snapshots": {"stride": 1, "start_fs": 50.0}}, 201, "no frame in the snapshot window"),
        ({"snapshots": {"frame_indices": [2, 7]}}, 202, "within the trajectory's 4 frames"),
        ({"snapshots": {"frame_indices": [3]}}, 202, "need ≥ 2"),
        ({"band_window": [10, 14]}, 203, "outside the computed bands 1..12"),
        ({"band_window": [8, 11]}, 203, "holds occupied bands (HOMO = band 9)"),
        ({"band_window": [9, 10], "carrier": "hole"}, 203, "holds empty bands (HOMO = band 9)"),
        ({"system": {"nspin": 2, "starting_magnetization(1)": 0.5}}, 207, "need nspin=1"),
        # Hand count 18 - 1 = 17 e: the top band is half filled, no HOMO to start from.
        (
            {"system": {"tot_charge": 1.0}},
            209,
            "17 valence electrons (pseudopotentials, tot_charge 1) is not an even whole number",
        ),
        # tot_charge counts (a cation loses electrons): 18 - 2 = 16 e, HOMO = band 8, so a
        # neutral model's hole window (8, 9) holds an empty band; 18 + 2 = 20 e, HOMO =
        # band 10, inside the neutral electron window (10, 11).
        (
            {"system": {"tot_charge": 2.0}, "carrier": "hole", "band_window": [8, 9]},
            203,
            "holds empty bands (HOMO = band 8)",
        ),
        ({"system": {"tot_charge": -2.0}}, 203, "holds occupied bands (HOMO = band 10)"),
        ({"snapshots": {"frame_indices": [0, 1, 3]}}, 204, "not evenly spaced"),
        ({"dt_fs": 2.0}, 204, "1 fs apart"),
        ({"trajectory": "variable_cell"}, 205, "cell changes"),
        ({"n_chains": 5}, 206, "n_chains must be in 1..4"),
        ({"site_labels": {"domains": ["CdS"]}}, 208, "site labels lack"),
    ],
)
def test_snapshots_bad_input_stops_before_any_scf(
    mock_code: Callable[..., InstalledCode], changes: dict[str, Any], status: int, message: str
) -> None:
    """Each bad request ends in its 2xx exit with a message naming the fix, and no pw.x job
    is created. Reference: the hand counts of the module comment (CdS: HOMO = band 9 of 12
    bands, 4 evenly spaced frames 1 fs apart)."""
    from aiida import orm
    from aiida.engine import run_get_node

    builder = _snapshots_builder(mock_code("pw.x"))
    node_types = {
        "snapshots": orm.Dict,
        "band_window": orm.List,
        "dt_fs": orm.Float,
        "carrier": orm.Str,
    }
    for name, value in changes.items():
        if name == "system":
            parameters = builder.scf.pw.parameters.get_dict()
            parameters["SYSTEM"].update(value)
            builder.scf.pw.parameters = orm.Dict(parameters)
        elif name == "trajectory":
            builder.trajectory = _trajectory(variable_cell=True)
        elif name == "n_chains":
            builder.n_chains = orm.Int(value)
        elif name == "site_labels":
            builder.site_labels = orm.Dict(value)
        else:
            builder[name] = node_types[name](value)
    _, node = run_get_node(builder)
    assert node.exit_status == status
    assert message in (node.exit_message or "")
    assert not node.called_descendants or all(
        not isinstance(n, orm.CalcJobNode) for n in node.called_descendants
    )


def _calculations(node: Any) -> list[Any]:
    from aiida.orm import CalcJobNode

    calcs = [n for n in node.called_descendants if isinstance(n, CalcJobNode)]
    return sorted(calcs, key=lambda calc: calc.inputs.structure.sites[1].position)


@pytest.mark.usefixtures("nc_family")
def test_snapshots_end_to_end_on_recorded_pw(mock_code: Callable[..., InstalledCode]) -> None:
    """4 snapshots in 2 chains of 2 (replayed real pw.x): overlaps, NAC, energies, cleaning."""
    from aiida.engine import run_get_node
    from aiida.orm import Dict

    # Two "domains", the Cd and the S plane (x3 = 0 and ≈ 0.25): weights per snapshot.
    labels = {"domain": ["cd_plane", "s_plane"], "layer": [0, 0], "fixed": [False, False]}
    builder = _snapshots_builder(mock_code("pw.x"), site_labels=Dict(labels))
    assert list(builder.band_window) == [10, 11]
    results, node = run_get_node(builder)
    assert node.is_finished_ok, node.exit_message
    hamiltonian = results["na_hamiltonian"]
    overlaps = hamiltonian.get_array("overlaps")
    nac = hamiltonian.get_array("nac_per_fs")
    energies = hamiltonian.get_array("energies_ev")
    assert overlaps.shape == nac.shape == (3, 2, 2)
    assert energies.shape == (4, 2)
    # Phase-corrected overlaps of neighbouring snapshots: positive, near-unit diagonal.
    diagonal = np.diagonal(overlaps, axis1=1, axis2=2)
    assert diagonal.min() > 0.99  # measured 0.9985–0.9998
    np.testing.assert_allclose(nac, -nac.transpose(0, 2, 1), atol=1e-12)
    # Energies are QE's own (output_band, eV) for the tracked bands.
    calcs = _calculations(node)
    assert len(calcs) == 4
    order = hamiltonian.get_array("band_order")
    for snapshot, calc in enumerate(calcs):
        qe_bands = calc.outputs.output_band.get_bands()[0, 9:11]
        np.testing.assert_allclose(energies[snapshot], qe_bands[order[snapshot]], atol=1e-4)
    # Chains [0, 1] and [2, 3]: the second of each restarts from the first.
    restarted = ["parent_folder" in calc.inputs for calc in calcs]
    assert restarted == [False, True, False, True]
    assert calcs[1].inputs.parameters["ELECTRONS"]["startingwfc"] == "file"
    assert results["na_parameters"]["chains"] == [[0, 1], [2, 3]]
    # Only small arrays stored; spent folders emptied and barred from caching.
    weights = hamiltonian.get_array("domain_weights")
    assert weights.shape == (4, 2, 2)
    assert hamiltonian.base.attributes.get("domains") == ["cd_plane", "s_plane"]
    np.testing.assert_allclose(weights.sum(axis=2), 1.0, atol=1e-8)  # NC: orthonormal
    # Small displacements: each tracked state keeps its character (measured spread 0.013).
    assert np.ptp(weights[:, :, 1], axis=0).max() < 0.05
    stored = sum(hamiltonian.get_array(name).nbytes for name in hamiltonian.get_arraynames())
    assert stored < 2_000
    assert all(calc.outputs.remote_folder.is_cleaned for calc in calcs)
    assert not any(calc.base.caching.is_valid_cache for calc in calcs)
