"""``janus.na_snapshots`` and ``janus.na_analysis``: builders, bad input, end-to-end runs.

The snapshot run replays recordings of real pw.x runs with wavefunctions
(tests/fixtures/mock/pw.x, see its README); re-record with
``JANUS_MOCK_KEEP_WAVEFUNCTIONS=1 scripts/record_fixtures.sh
'tests/workflows/test_nac_workchains.py::test_snapshots_end_to_end_on_recorded_pw'``.
The analysis runs on synthetic NA Hamiltonians with known answers (no QE).
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
    ("changes", "status", "message"),
    [
        ({"snapshots": {"stride": 1, "start_fs": 50.0}}, 201, "no frame in the snapshot window"),
        ({"snapshots": {"frame_indices": [2, 7]}}, 202, "within the trajectory's 4 frames"),
        ({"snapshots": {"frame_indices": [3]}}, 202, "need ≥ 2"),
        ({"band_window": [10, 14]}, 203, "outside the computed bands 1..12"),
        ({"band_window": [8, 11]}, 203, "holds occupied bands (HOMO = band 9)"),
        ({"band_window": [9, 10], "carrier": "hole"}, 203, "holds empty bands (HOMO = band 9)"),
        ({"spin": {"nspin": 2, "starting_magnetization(1)": 0.5}}, 207, "need nspin=1"),
        ({"snapshots": {"frame_indices": [0, 1, 3]}}, 204, "not evenly spaced"),
        ({"dt_fs": 2.0}, 204, "1 fs apart"),
        ({"trajectory": "variable_cell"}, 205, "cell changes"),
        ({"n_chains": 5}, 206, "n_chains must be in 1..4"),
    ],
)
def test_snapshots_bad_input_stops_before_any_scf(
    mock_code: Callable[..., InstalledCode], changes: dict[str, Any], status: int, message: str
) -> None:
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
        if name == "spin":
            parameters = builder.scf.pw.parameters.get_dict()
            parameters["SYSTEM"].update(value)
            builder.scf.pw.parameters = orm.Dict(parameters)
        elif name == "trajectory":
            builder.trajectory = _trajectory(variable_cell=True)
        elif name == "n_chains":
            builder.n_chains = orm.Int(value)
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


SPEED_OF_LIGHT_CM_PER_FS = 2.99792458e-5


def _synthetic_hamiltonian(n_steps: int = 1024, cycles: int = 10) -> Any:
    """Two states: FS (band 1) at 0 eV, IS (band 2) at 0.1 + 0.02 cos(2π f t) eV, f on a
    DFT bin (``cycles`` periods in the series); constant NAC 0.002 fs⁻¹; dt 1 fs."""
    from aiida.orm import ArrayData

    times = np.arange(n_steps, dtype=float)
    energies = np.zeros((n_steps, 2))
    energies[:, 1] = 0.1 + 0.02 * np.cos(2 * np.pi * cycles / n_steps * times)
    nac = np.zeros((n_steps - 1, 2, 2))
    nac[:, 0, 1], nac[:, 1, 0] = 0.002, -0.002
    node = ArrayData()
    node.set_array("energies_ev", energies)
    node.set_array("nac_per_fs", nac)
    node.base.attributes.set("dt_fs", 1.0)
    node.base.attributes.set("band_window", [1, 2])
    return node


def _analysis_builder(hamiltonian: Any, protocol: str = "fast", **overrides: Any) -> Any:
    from workflows.workchains.na_snapshots import NaAnalysisWorkChain

    defaults = {"dynamics": {"simulation_time_fs": 300.0}}
    return NaAnalysisWorkChain.get_builder_from_protocol(
        hamiltonian,
        initial_band=2,
        final_band=1,
        protocol=protocol,
        overrides={**defaults, **overrides},
    )


@pytest.mark.parametrize("protocol", ["fast", "balanced", "stringent"])
def test_analysis_builder_per_protocol(
    aiida_profile: object, protocol: str, data_regression: Any
) -> None:
    builder = _analysis_builder(_synthetic_hamiltonian(), protocol, dynamics={})
    data_regression.check(
        {"spectra": builder.spectra.get_dict(), "dynamics": builder.dynamics.get_dict()}
    )


def test_analysis_cosine_gap_peak_and_conserved_populations(aiida_profile: object) -> None:
    from aiida.engine import run_get_node

    results, node = run_get_node(_analysis_builder(_synthetic_hamiltonian()))
    assert node.is_finished_ok, node.exit_message
    summary = results["spectral_summary"].get_dict()
    expected_cm = 10 / 1024 / SPEED_OF_LIGHT_CM_PER_FS  # 325.7 cm^-1
    assert summary["resolved"] is True
    assert summary["resolution_cm"] == pytest.approx(1 / (1024 * SPEED_OF_LIGHT_CM_PER_FS))
    assert min(abs(p - expected_cm) for p in summary["peaks_cm"]) < summary["resolution_cm"] / 2
    assert summary["mean_gap_ev"] == pytest.approx(0.1, abs=1e-6)
    populations = results["populations"]
    states = populations.get_array("state_populations")
    np.testing.assert_allclose(states.sum(axis=1), 1.0, atol=1e-12)
    np.testing.assert_allclose(populations.get_array("coherent_populations").sum(axis=1), 1.0)
    donor = populations.get_array("donor_population")
    assert donor[0] == 1.0
    assert np.all((donor >= 0) & (donor <= 1))
    dynamics = results["dynamics_summary"].get_dict()
    assert dynamics["n_trajectories"] == 1000
    assert dynamics["method"] == "dish"
    assert {"tau_fs", "tau_sigma_fs", "determined"} <= set(dynamics["transfer"])
    # which conventions and error bars were used is part of the record
    assert summary["dephasing_convention"] == "pyxaid"
    assert set(summary["dephasing_tau_by_convention_fs"]) == {"pyxaid", "libra", "gaussian_sigma"}
    assert "bootstrap over" in summary["dephasing"]["uncertainty"]
    assert dynamics["dephasing_convention"] == "pyxaid"
    assert dynamics["relaxation_asymptote"] == "free"
    assert dynamics["transfer"]["uncertainty"].startswith("bootstrap over 10 initial conditions")
    for plot in ("spectral_density_plot", "dynamics_plot"):
        with results[plot].open(mode="rb") as handle:
            assert handle.read(8) == b"\x89PNG\r\n\x1a\n"
        assert b"<svg" in results[f"{plot}_vector"].get_content(mode="rb")[:1000]
    assert dynamics["transfer_domain"] is None  # no domain weights: fitted to P_IS
    assert dynamics["transfer_population"].startswith("P_IS(t)")


def test_analysis_short_series_is_flagged_not_rejected(aiida_profile: object) -> None:
    from aiida.engine import run_get_node

    results, node = run_get_node(_analysis_builder(_synthetic_hamiltonian(64, 4)))
    assert node.is_finished_ok, node.exit_message
    summary = results["spectral_summary"].get_dict()
    assert summary["resolved"] is False
    assert "needs a trajectory of ≥ 1011 fs" in summary["resolution_note"]


def _smooth_fluctuation(n_steps: int, rng: np.random.Generator) -> np.ndarray:
    """A slow gap-like fluctuation (std ≈ 0.7): four cosines of 2, 3, 5 and 7 periods in
    the series with random phases. Slow against ħ/σ, so pairs dephase in tens of fs."""
    times = np.arange(n_steps) / n_steps
    phases = rng.uniform(0.0, 2 * np.pi, 4)
    return (
        sum(
            np.cos(2 * np.pi * cycles * times + phase)
            for cycles, phase in zip((2, 3, 5, 7), phases, strict=True)
        )
        / 2.0
    )


def _donor_transfer_hamiltonian(is_perovskite: float = 1.0) -> Any:
    """Three states: FS (band 1, CdS) at 0 eV, a donor state (band 2) at 0.10 eV and the
    IS (band 3) at 0.13 eV, both on the perovskite; each energy fluctuates by 0.08 eV ×
    :func:`_smooth_fluctuation` (seeded). NAC: IS–donor 0.1 fs⁻¹ (fast relaxation inside
    the donor), donor–FS 0.02 fs⁻¹ (slow transfer), IS–FS none. ``domain_weights`` per
    snapshot; ``is_perovskite``: the IS weight on the perovskite at every other snapshot
    (elsewhere, and for the donor state always, 1)."""
    from aiida.orm import ArrayData

    n_steps = 256
    rng = np.random.default_rng(7)
    energies = np.array([[0.0, 0.10, 0.13]]) + np.stack(
        [0.08 * _smooth_fluctuation(n_steps, rng) for _ in range(3)], axis=1
    )
    nac = np.zeros((n_steps - 1, 3, 3))
    nac[:, 2, 1], nac[:, 1, 2] = 0.1, -0.1
    nac[:, 1, 0], nac[:, 0, 1] = 0.02, -0.02
    perovskite = np.tile([0.0, 1.0, 1.0], (n_steps, 1))
    perovskite[::2, 2] = is_perovskite
    node = ArrayData()
    node.set_array("energies_ev", energies)
    node.set_array("nac_per_fs", nac)
    node.set_array("domain_weights", np.stack([1 - perovskite, perovskite], axis=2))
    node.base.attributes.set("domains", ["chalcogenide", "perovskite"])
    node.base.attributes.set("dt_fs", 1.0)
    node.base.attributes.set("band_window", [1, 3])
    return node


def test_transfer_time_is_fitted_to_the_donor_domain_population(aiida_profile: object) -> None:
    """Reference: a hand count of the domain population and a direct scipy fit.

    The IS relaxes fast into the other donor state and the electron reaches the FS only
    slowly from there (DISH, pyxaid dephasing times of tens of fs). Both donor states lie
    wholly on the perovskite, the FS wholly on CdS, so Σ_i P_i w_i^perovskite = 1 − P_FS
    exactly. τ_ET must be the exp(−t/τ) fit of that curve; a fit of P_IS(t), which counts
    the relaxation inside the donor as transfer, is several times shorter (measured
    ≈ 160 fs against ≈ 720 fs), so the last assertion fails if τ_ET were fitted to P_IS.
    """
    from aiida.engine import run_get_node
    from aiida.orm import Int

    from heterostructures.dynamics.fits import fit_exponential_decay

    builder = _analysis_builder(_donor_transfer_hamiltonian())
    builder.initial_band, builder.final_band = Int(3), Int(1)
    results, node = run_get_node(builder)
    assert node.is_finished_ok, node.exit_message
    populations = results["populations"]
    times = populations.get_array("times_fs")
    transfer = populations.get_array("transfer_population")
    initial = populations.get_array("donor_population")
    final = populations.get_array("state_populations")[:, 0]
    np.testing.assert_allclose(transfer, 1.0 - final, atol=1e-12)
    assert initial[-1] < transfer[-1] - 0.2  # P_IS drops far below the donor population
    summary = results["dynamics_summary"].get_dict()
    assert "domain-projected" in summary["transfer_population"]
    assert summary["transfer_domain"] == "perovskite"
    assert summary["state_character"]["held"] == 1.0
    assert summary["carrier_window"] == {"bands": [1, 3], "carrier": None}
    direct = fit_exponential_decay(times, 1.0 - final).tau_fs
    assert summary["transfer"]["tau_fs"] == pytest.approx(direct, rel=1e-9)
    assert summary["transfer"]["tau_fs"] > 3 * fit_exponential_decay(times, initial).tau_fs


def test_carrier_window_is_read_from_the_snapshot_provenance(aiida_profile: object) -> None:
    """Reference: a provenance graph built by hand. The carrier is the ``carrier`` input of
    the workflow that called the calcfunction creating the Hamiltonian (as
    ``janus.na_snapshots`` → ``assemble_na_hamiltonian``); without that graph it is None."""
    from aiida.common.links import LinkType
    from aiida.orm import CalcFunctionNode, Str, WorkflowNode

    from workflows.workchains.na_analysis import carrier_window

    workflow = WorkflowNode()
    workflow.base.links.add_incoming(Str("hole").store(), LinkType.INPUT_WORK, "carrier")
    workflow.store()
    calculation = CalcFunctionNode()
    calculation.base.links.add_incoming(workflow, LinkType.CALL_CALC, "assemble")
    calculation.store()
    hamiltonian = _synthetic_hamiltonian(16, 2)
    hamiltonian.base.links.add_incoming(calculation, LinkType.CREATE, "na_hamiltonian")
    hamiltonian.store()
    assert carrier_window(hamiltonian) == {"bands": [1, 2], "carrier": "hole"}
    assert carrier_window(_synthetic_hamiltonian(16, 2)) == {"bands": [1, 2], "carrier": None}


@pytest.mark.parametrize(("protocol", "status"), [("balanced", 204), ("fast", 0)])
def test_broken_state_character_is_refused_or_flagged(
    aiida_profile: object, protocol: str, status: int
) -> None:
    """The IS has 0.3 of its weight on the perovskite at every other snapshot: the
    mapping holds at 50 % of them (hand count), above the 20 % allowed."""
    from aiida.engine import run_get_node
    from aiida.orm import Int

    hamiltonian = _donor_transfer_hamiltonian(is_perovskite=0.3)
    builder = _analysis_builder(hamiltonian, protocol, dynamics={"simulation_time_fs": 50.0})
    builder.initial_band, builder.final_band = Int(3), Int(1)
    results, node = run_get_node(builder)
    assert node.exit_status == status
    if status:
        assert "hold at only 50% of 256 snapshots" in (node.exit_message or "")
    else:
        character = results["dynamics_summary"]["state_character"]
        assert character["flagged"] is True
        assert character["held"] == 0.5


@pytest.mark.parametrize(
    ("hamiltonian_steps", "changes", "status", "message"),
    [
        (64, {"initial_band": 3}, 201, "band window 1..2"),
        (64, {"initial_band": 3}, 201, "raise its `electron_bands`"),
        (5, {}, 202, "needs ≥ 8"),
        (64, {"dynamics": {"n_realisations": 50}}, 203, "≥ 100"),
        (64, {"dynamics": {"method": "ehrenfest"}}, 203, "method must be"),
        (64, {"dynamics": {"allow_recycling": False, "n_initial_times": 60}}, 203, "do not fit"),
    ],
)
def test_analysis_bad_input(
    aiida_profile: object,
    hamiltonian_steps: int,
    changes: dict[str, Any],
    status: int,
    message: str,
) -> None:
    from aiida import orm
    from aiida.engine import run_get_node

    builder = _analysis_builder(
        _synthetic_hamiltonian(hamiltonian_steps, 2), dynamics=changes.get("dynamics", {})
    )
    if "initial_band" in changes:
        builder.initial_band = orm.Int(changes["initial_band"])
    _, node = run_get_node(builder)
    assert node.exit_status == status
    assert message in (node.exit_message or "")
