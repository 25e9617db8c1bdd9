"""Known-answer tests for the surface-hopping engine (its decay fits: test_fits.py)."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pytest
from numpy.typing import NDArray

from heterostructures.dynamics.surface_hopping import (
    DynamicsInputError,
    HoppingSettings,
    NaHamiltonian,
    boltzmann_energy_ev,
    propagate_amplitudes,
    run_surface_hopping,
    segment_propagators,
)
from heterostructures.units import BOLTZMANN_EV_PER_K

DT_FS = 1.0


def two_level(
    gap_ev: float | NDArray, coupling_per_fs: float | NDArray, nsteps: int
) -> NaHamiltonian:
    """States 0 (lower) and 1 at E_1 − E_0 = gap; NAC d_01 = −d_10 = coupling."""
    energies = np.zeros((nsteps + 1, 2))
    energies[:, 1] = gap_ev
    nac = np.zeros((nsteps, 2, 2))
    nac[:, 0, 1] = coupling_per_fs
    nac[:, 1, 0] = -nac[:, 0, 1]
    return NaHamiltonian.from_arrays(energies, nac, DT_FS)


def smooth_noise(nsteps: int, width_fs: float, seed: int) -> NDArray:
    """Zero-mean, unit-variance noise with a Gaussian correlation of ~width (fs)."""
    offsets = np.arange(-int(4 * width_fs), int(4 * width_fs) + 1)
    kernel = np.exp(-0.5 * (offsets / width_fs) ** 2)
    noise = np.convolve(np.random.default_rng(seed).standard_normal(nsteps), kernel, mode="same")
    return (noise - noise.mean()) / noise.std()


def test_degenerate_levels_with_constant_coupling_give_rabi_cosine_law() -> None:
    coupling = 0.002
    amplitudes = propagate_amplitudes(two_level(0.0, coupling, 2000), [1.0, 0.0], 2000)
    times = DT_FS * np.arange(2001)
    assert np.allclose(np.abs(amplitudes[:, 0]) ** 2, np.cos(coupling * times) ** 2, atol=1e-10)
    assert np.allclose(np.linalg.norm(amplitudes, axis=1), 1.0, atol=1e-12)


@pytest.mark.parametrize("complex_nac", [False, True])
def test_propagators_are_unitary_for_a_random_hamiltonian(complex_nac: bool) -> None:
    """Real antisymmetric (Γ) and complex anti-Hermitian (general k) couplings."""
    rng = np.random.default_rng(0)
    energies = rng.normal(size=(51, 4))
    raw = rng.normal(scale=0.05, size=(50, 4, 4)) + 1j * complex_nac * rng.normal(
        scale=0.05, size=(50, 4, 4)
    )
    hamiltonian = NaHamiltonian.from_arrays(energies, raw - raw.conj().transpose(0, 2, 1), DT_FS)
    assert np.iscomplexobj(hamiltonian.nac_per_fs) == complex_nac
    propagators = segment_propagators(hamiltonian, substeps=3)
    products = propagators @ propagators.conj().transpose(0, 2, 1)
    assert np.allclose(products, np.eye(4), atol=1e-12)
    settings = HoppingSettings(initial_state=3, final_state=0, n_steps=40, n_initial_times=2)
    result = run_surface_hopping(hamiltonian, settings, propagators=propagators)
    assert np.allclose(result.state_populations.sum(axis=1), 1.0)
    assert np.allclose(result.coherent_populations.sum(axis=1), 1.0)


def test_substeps_integrate_a_linear_energy_ramp_exactly() -> None:
    """No coupling: the phase is −∫E dt/ħ; linear E per segment is integrated exactly.
    ħ = h / (2π e) from the exact SI values of h and e (CODATA 2018), in eV·fs."""
    hbar_ev_fs = 6.62607015e-34 / (2 * np.pi) / 1.602176634e-19 * 1e15
    energies = np.stack([np.zeros(11), np.linspace(0.0, 1.0, 11)], axis=1)
    hamiltonian = NaHamiltonian.from_arrays(energies, np.zeros((10, 2, 2)), DT_FS)
    final = propagate_amplitudes(hamiltonian, [0.0, 1.0], 10, substeps=4)[-1, 1]
    assert np.angle(final) == pytest.approx(np.angle(np.exp(-1j * 5.0 / hbar_ev_fs)), abs=1e-10)


def test_fssh_populations_follow_coherent_ones_for_degenerate_levels() -> None:
    """Internal consistency of fewest switches when no hop is ever rejected."""
    hamiltonian = two_level(0.0, 0.002, 1600)
    settings = HoppingSettings(
        initial_state=0, final_state=1, n_steps=1500, n_initial_times=10, n_realisations=100
    )
    result = run_surface_hopping(hamiltonian, settings)
    exact = np.cos(0.002 * result.times_fs) ** 2
    assert np.allclose(result.coherent_populations[:, 0], exact, atol=1e-10)
    assert np.abs(result.state_populations[:, 0] - exact).max() < 0.05
    assert result.n_trajectories == 1000
    assert not result.recycled


def boltzmann_test_model() -> NaHamiltonian:
    """Gap 0.05 eV (B = 0.145 at 300 K) with a fluctuating NAC, 0.03 fs⁻¹ rms."""
    return two_level(0.05, 0.03 * smooth_noise(4000, 3.0, seed=0), 4000)


def late_upper_to_lower_ratio(method: str, temperature_k: float) -> float:
    settings = HoppingSettings(
        initial_state=1,
        final_state=0,
        n_steps=1500,
        method="dish" if method == "dish" else "fssh",
        temperature_k=temperature_k,
        n_initial_times=20,
        n_realisations=50,
        seed=1,
    )
    times = np.full((2, 2), 20.0)
    result = run_surface_hopping(boltzmann_test_model(), settings, decoherence_times_fs=times)
    late = result.state_populations[-600:].mean(axis=0)
    return float(late[1] / late[0])


def test_dish_with_detailed_balance_reaches_the_boltzmann_ratio() -> None:
    boltzmann = math.exp(-0.05 / (BOLTZMANN_EV_PER_K * 300.0))
    assert late_upper_to_lower_ratio("dish", 300.0) == pytest.approx(boltzmann, rel=0.15)


def test_fssh_with_detailed_balance_relaxes_towards_boltzmann() -> None:
    """FSSH has no decoherence: in the CPA its detailed balance is approximate
    (overcoherence keeps extra upper population: measured 1.3 × Boltzmann on this
    model), but far from the 1:1 of no balance."""
    boltzmann = math.exp(-0.05 / (BOLTZMANN_EV_PER_K * 300.0))
    ratio = late_upper_to_lower_ratio("fssh", 300.0)
    assert boltzmann < ratio < 2 * boltzmann
    assert late_upper_to_lower_ratio("fssh", 1e9) > 0.7  # T → ∞: no energy preference


def test_zero_temperature_forbids_upward_hops() -> None:
    settings = HoppingSettings(
        initial_state=0, final_state=0, n_steps=500, temperature_k=0.0, n_realisations=100
    )
    result = run_surface_hopping(boltzmann_test_model(), settings)
    assert np.all(result.state_populations[:, 0] == 1.0)
    assert np.all(result.mean_energy_ev == 0.0)


def test_mean_energy_is_population_weighted_gap_to_the_final_state() -> None:
    settings = HoppingSettings(initial_state=1, final_state=0, n_steps=800, n_realisations=100)
    result = run_surface_hopping(boltzmann_test_model(), settings)
    assert result.mean_energy_ev[0] == pytest.approx(0.05)
    assert np.allclose(result.mean_energy_ev, 0.05 * result.state_populations[:, 1])
    assert np.allclose(result.donor_population, result.state_populations[:, 1])


def test_seeded_runs_reproduce_bit_for_bit() -> None:
    settings = HoppingSettings(initial_state=1, final_state=0, n_steps=300, method="dish", seed=5)
    times = np.full((2, 2), 20.0)
    first = run_surface_hopping(boltzmann_test_model(), settings, decoherence_times_fs=times)
    again = run_surface_hopping(boltzmann_test_model(), settings, decoherence_times_fs=times)
    assert np.array_equal(first.state_populations, again.state_populations)
    assert np.array_equal(first.coherent_populations, again.coherent_populations)
    other = HoppingSettings(initial_state=1, final_state=0, n_steps=300, method="dish", seed=6)
    changed = run_surface_hopping(boltzmann_test_model(), other, decoherence_times_fs=times)
    assert not np.array_equal(first.state_populations, changed.state_populations)


def test_recycling_is_explicit_and_reported() -> None:
    hamiltonian = two_level(0.0, 0.002, 100)
    too_long = HoppingSettings(initial_state=0, final_state=1, n_steps=250, n_initial_times=2)
    with pytest.raises(DynamicsInputError, match="allow_recycling=True"):
        run_surface_hopping(hamiltonian, too_long)
    looped = HoppingSettings(
        initial_state=0, final_state=1, n_steps=250, n_initial_times=2, allow_recycling=True
    )
    result = run_surface_hopping(hamiltonian, looped)
    assert result.recycled
    assert "recycled" in result.note
    # a constant Hamiltonian is unchanged by looping: the Rabi law continues
    assert np.allclose(result.coherent_populations[:, 0], np.cos(0.002 * result.times_fs) ** 2)


def antisymmetry_broken() -> NaHamiltonian:
    nac = np.zeros((9, 2, 2))
    nac[:, 0, 1] = 0.01
    return NaHamiltonian.from_arrays(np.zeros((10, 2)), nac, DT_FS)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: NaHamiltonian.from_arrays(np.zeros((10, 2)), np.zeros((9, 3, 3)), DT_FS), "match"),
        (lambda: NaHamiltonian.from_arrays(np.zeros((10, 2)), np.zeros((5, 2, 2)), DT_FS), "9"),
        (antisymmetry_broken, "anti-Hermitian"),
        (
            lambda: NaHamiltonian.from_arrays(np.zeros((2, 2)), np.zeros((1, 2, 2)), DT_FS),
            "MD steps",
        ),
        (lambda: NaHamiltonian.from_arrays(np.zeros((10, 2)), np.zeros((9, 2, 2)), 0.0), "dt_fs"),
        (
            lambda: HoppingSettings(initial_state=0, final_state=1, n_steps=5, temperature_k=-1),
            "≥ 0 K",
        ),
        (lambda: HoppingSettings(initial_state=0, final_state=1, n_steps=0), "n_steps"),
        (
            lambda: run_surface_hopping(
                two_level(0.0, 0.0, 10),
                HoppingSettings(initial_state=3, final_state=0, n_steps=5, n_initial_times=1),
            ),
            "band window",
        ),
        (
            lambda: run_surface_hopping(
                two_level(0.0, 0.0, 10),
                HoppingSettings(
                    initial_state=0, final_state=1, n_steps=5, n_initial_times=1, method="dish"
                ),
            ),
            "decoherence_times_fs",
        ),
    ],
)
def test_bad_input_raises_clear_errors(call: Callable[[], object], message: str) -> None:
    with pytest.raises(DynamicsInputError, match=message):
        call()


@pytest.mark.parametrize("substeps", [8, 32])
def test_fssh_hop_flux_is_integrated_over_electronic_substeps(substeps: int) -> None:
    """Degenerate pair, constant NAC d, one coarse MD step with x = d·dt = 0.8 rad.

    Reference (closed form): |c_0|² = cos²(d t), and with one-way flux fewest switches
    must leave exactly that fraction on state 0: P_hop = sin²(0.8) = 0.515 after one
    step. The old single evaluation per MD step (trapezoid of the end fluxes,
    b = d sin 2θ) gives P_hop = x sin(2x)/2 = 0.400 (measured: 0.600 left on state 0
    vs 0.485) whatever the sub-steps; integrating per sub-step converges."""
    coupling, dt = 0.08, 10.0
    energies = np.zeros((11, 2))
    nac = np.zeros((10, 2, 2))
    nac[:, 0, 1], nac[:, 1, 0] = coupling, -coupling
    hamiltonian = NaHamiltonian.from_arrays(energies, nac, dt)
    settings = HoppingSettings(
        initial_state=0,
        final_state=1,
        n_steps=1,
        n_initial_times=1,
        n_realisations=40_000,
        substeps=substeps,
    )
    result = run_surface_hopping(hamiltonian, settings)
    expected = math.cos(coupling * dt) ** 2
    assert result.coherent_populations[1, 0] == pytest.approx(expected, abs=1e-10)
    tolerance = 4 * math.sqrt(expected * (1 - expected) / 40_000) + 2e-3
    assert result.state_populations[1, 0] == pytest.approx(expected, abs=tolerance)


def test_stochastic_dish_waiting_times_follow_libra_survival_law() -> None:
    """Libra's option 1 draws a fresh exponential threshold of mean τ every step, so with
    clock k·dt the event hazard is 1 − exp(−k dt/τ) and the survival after n steps is
    exp(−(dt/τ) n(n+1)/2) (closed form for a constant τ)."""
    from heterostructures.dynamics.hopping_steps import decoherence_eligible

    rng = np.random.default_rng(0)
    rate, n_traj = 1.0 / 20.0, 200_000
    alive = np.ones(n_traj, dtype=bool)
    for step in range(1, 9):
        clock = np.full((n_traj, 1), step * DT_FS)
        alive &= ~decoherence_eligible(clock, np.full((n_traj, 1), rate), rng)[:, 0]
        expected = math.exp(-rate * DT_FS * step * (step + 1) / 2)
        assert alive.mean() == pytest.approx(expected, abs=5e-3)
    deterministic = decoherence_eligible(np.array([[19.0, 20.0]]), np.full((1, 2), rate), None)
    assert deterministic.tolist() == [[False, True]]


def test_stochastic_dish_reaches_the_boltzmann_ratio() -> None:
    boltzmann = math.exp(-0.05 / (BOLTZMANN_EV_PER_K * 300.0))
    settings = HoppingSettings(
        initial_state=1,
        final_state=0,
        n_steps=1500,
        method="dish",
        n_initial_times=20,
        n_realisations=50,
        seed=1,
        dish_events="stochastic",
    )
    times = np.full((2, 2), 20.0)
    result = run_surface_hopping(boltzmann_test_model(), settings, decoherence_times_fs=times)
    late = result.state_populations[-600:].mean(axis=0)
    assert late[1] / late[0] == pytest.approx(boltzmann, rel=0.15)


def test_curves_per_initial_time_average_to_the_ensemble() -> None:
    settings = HoppingSettings(
        initial_state=1, final_state=0, n_steps=300, n_initial_times=5, n_realisations=40
    )
    result = run_surface_hopping(boltzmann_test_model(), settings)
    assert result.donor_population_by_start.shape == (301, 5)
    assert np.allclose(result.donor_population_by_start.mean(axis=1), result.donor_population)
    assert np.allclose(result.energy_by_start_ev.mean(axis=1), result.mean_energy_ev)


def test_detailed_balance_energy_is_the_boltzmann_average() -> None:
    """Hand calculation: states at 0 and 0.05 eV above the final state, 300 K."""
    energies = np.array([[1.0, 1.05, 3.0]] * 4)
    weights = np.exp(-np.array([0.0, 0.05, 2.0]) / (BOLTZMANN_EV_PER_K * 300.0))
    expected = float(np.dot([0.0, 0.05, 2.0], weights) / weights.sum())
    assert boltzmann_energy_ev(energies, 0, 300.0) == pytest.approx(expected)
    assert boltzmann_energy_ev(energies, 0, 0.0) == 0.0
