"""``janus.na_analysis``: builders, bad input and runs on synthetic NA Hamiltonians.

The Hamiltonians have known answers (a cosine gap, a fitted transfer time); no QE runs.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

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
    sem = populations.get_array("transfer_population_sem")  # over the initial times
    assert sem.shape == donor.shape
    assert sem[0] == 0.0
    assert np.isfinite(sem).all()
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


def _md_band_energies(n_bands: int, cycles: int, n_steps: int = 1024) -> Any:
    """janus.aimd's ``band_energies`` layout (step × k-point × band, eV; dt 1 fs): band 1 at
    0 eV, band 2 (when present) at 0.1 + 0.02 cos(2π f t) with ``cycles`` periods."""
    from aiida.orm import ArrayData

    times = np.arange(n_steps, dtype=float)
    energies = np.zeros((n_steps, 1, n_bands))
    if n_bands > 1:
        energies[:, 0, 1] = 0.1 + 0.02 * np.cos(2 * np.pi * cycles / n_steps * times)
    node = ArrayData()
    node.set_array("steps", np.arange(n_steps))
    node.set_array("times_fs", times)
    node.set_array("eigenvalues_ev", energies)
    node.base.attributes.set("dt_fs", 1.0)
    return node


@pytest.mark.parametrize(("md_bands", "expected_cycles"), [(2, 5), (1, 10)])
def test_the_gap_spectrum_comes_from_every_md_step_when_the_md_printed_both_bands(
    aiida_profile: object, md_bands: int, expected_cycles: int
) -> None:
    """Reference: the frequency put into each series. The snapshots' gap oscillates with 10
    periods, the MD's with 5: the peak says which series was analysed. An MD that printed
    only band 1 cannot give the IS (band 2) gap, so the snapshots' is used."""
    from aiida.engine import run_get_node
    from aiida.orm import Float

    builder = _analysis_builder(_synthetic_hamiltonian(cycles=10))
    builder.md_band_energies = _md_band_energies(md_bands, cycles=5)
    builder.md_production_start_fs = Float(0.0)
    results, node = run_get_node(builder)
    assert node.is_finished_ok, node.exit_message
    summary = results["spectral_summary"].get_dict()
    expected_cm = expected_cycles / 1024 / SPEED_OF_LIGHT_CM_PER_FS
    assert min(abs(p - expected_cm) for p in summary["peaks_cm"]) < summary["resolution_cm"] / 2
    assert ("gap_source" in summary) is (md_bands == 2)


def _md_trajectory(cycles_by_kind: dict[str, int], n_steps: int = 1024) -> Any:
    """A TrajectoryData (dt 1 fs) whose atom of each kind moves at its own frequency."""
    from aiida.orm import TrajectoryData

    times = np.arange(n_steps, dtype=float)
    velocities = np.zeros((n_steps, len(cycles_by_kind), 3))
    for atom, cycles in enumerate(cycles_by_kind.values()):
        velocities[:, atom, 2] = 0.01 * np.cos(2 * np.pi * cycles / n_steps * times)
    positions = np.cumsum(velocities, axis=0) + np.arange(len(cycles_by_kind))[None, :, None]
    node = TrajectoryData()
    node.set_trajectory(
        symbols=list(cycles_by_kind),
        positions=positions,
        cells=np.repeat(10 * np.eye(3)[None], n_steps, axis=0),
        times=times,
        velocities=velocities,
    )
    return node


def test_gap_peaks_are_assigned_to_the_element_moving_at_their_frequency(
    aiida_profile: object,
) -> None:
    """Reference: the frequencies put in. The MD gap oscillates with 5 periods; Cd moves
    with 5 and S with 17, so the gap's peak belongs to Cd (share 1, closed form)."""
    from aiida.engine import run_get_node
    from aiida.orm import Float

    builder = _analysis_builder(_synthetic_hamiltonian(cycles=10))
    builder.md_band_energies = _md_band_energies(2, cycles=5)
    builder.md_production_start_fs = Float(0.0)
    builder.md_trajectory = _md_trajectory({"Cd1": 5, "S": 17})
    results, node = run_get_node(builder)
    assert node.is_finished_ok, node.exit_message
    peaks = results["peak_assignment"]["peaks"]
    assert peaks, "the MD gap's peak is assigned"
    main = min(peaks, key=lambda p: abs(p["frequency_cm"] - 5 / 1024 / SPEED_OF_LIGHT_CM_PER_FS))
    assert main["assigned_to"] == "Cd"
    assert main["shares"]["Cd"] == pytest.approx(1.0)
    assert set(results["element_spectra"].get_arraynames()) == {"frequencies_cm", "Cd", "S"}
    assert results["peak_assignment_plot"].filename == "gap_peaks_by_element.png"
    assert results["peak_assignment_plot_vector"].filename == "gap_peaks_by_element.svg"
