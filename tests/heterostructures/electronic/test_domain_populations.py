"""Domain-projected populations P_D(t) = Σ_i P_i(t) w_i^D(t) and the IS/FS character check.

References: hand calculations on small arrays; the surface-hopping engine itself for the
walk along the snapshot series (energies that encode the snapshot index); a three-state
model where the electron relaxes inside the donor (P_IS decays, the donor population
cannot).
"""

from __future__ import annotations

import numpy as np
import pytest

from heterostructures.dynamics.surface_hopping import (
    HoppingSettings,
    NaHamiltonian,
    run_surface_hopping,
)
from heterostructures.electronic.domain_populations import (
    DomainPopulationError,
    domain_population,
    domain_population_by_start,
    state_character,
    trajectory_snapshots,
)

DOMAINS = ["chalcogenide", "perovskite"]


def test_domain_population_by_hand() -> None:
    """Two states, three snapshots, one start at step 0: P_D = Σ_i P_i w_i(snapshot)."""
    populations = np.array([[1.0, 0.0], [0.5, 0.5], [0.25, 0.75]])
    perovskite = np.array([[0.9, 0.2], [0.8, 0.1], [0.7, 0.4]])
    weights = np.stack([1 - perovskite, perovskite], axis=2)
    result = domain_population(populations, weights, DOMAINS, "perovskite", [0])
    expected = [1.0 * 0.9, 0.5 * 0.8 + 0.5 * 0.1, 0.25 * 0.7 + 0.75 * 0.4]
    np.testing.assert_allclose(result, expected, atol=1e-15)


def test_two_starts_are_projected_each_on_its_own_walk() -> None:
    """Hand calculation, two starts (MD steps 0 and 1) on three snapshots, one step.

    Start 0 walks snapshots 0 → 1, start 1 walks 1 → 2. At step 1 start 0 sits on
    (0.2, 0.8), start 1 on (0.6, 0.4): P_D = ½[(0.2·0.8 + 0.8·0.1) + (0.6·0.7 + 0.4·0.4)]
    = ½(0.24 + 0.58) = 0.41. The old projection averaged the weights over the starts
    first: (0.4, 0.6)·(0.75, 0.25) = 0.45.
    """
    perovskite = np.array([[0.9, 0.2], [0.8, 0.1], [0.7, 0.4]])
    weights = np.stack([1 - perovskite, perovskite], axis=2)
    by_start = np.array([[[1.0, 0.0], [1.0, 0.0]], [[0.2, 0.8], [0.6, 0.4]]])
    columns = domain_population_by_start(by_start, weights, DOMAINS, "perovskite", [0, 1])
    np.testing.assert_allclose(columns, [[0.9, 0.8], [0.24, 0.58]], atol=1e-15)
    result = domain_population(by_start, weights, DOMAINS, "perovskite", [0, 1])
    np.testing.assert_allclose(result, [0.85, 0.41], atol=1e-15)
    for column, start in enumerate([0, 1]):  # one call per start gives the same columns
        single = domain_population(by_start[:, column], weights, DOMAINS, "perovskite", [start])
        np.testing.assert_allclose(single, columns[:, column], atol=1e-15)
    with pytest.raises(DomainPopulationError, match="averaged over 2 starts"):
        domain_population(by_start.mean(axis=1), weights, DOMAINS, "perovskite", [0, 1])


def test_snapshot_walk_follows_the_hopping_engine() -> None:
    """Energies E_0 = snapshot index, E_1 = 0, no coupling: the engine's mean energy at
    each step is the mean snapshot index over its starts, recycling included."""
    n_snapshots, n_steps = 7, 15
    energies = np.zeros((n_snapshots, 2))
    energies[:, 0] = np.arange(n_snapshots)
    hamiltonian = NaHamiltonian.from_arrays(energies, np.zeros((n_snapshots - 1, 2, 2)), dt_fs=1.0)
    settings = HoppingSettings(
        initial_state=0,
        final_state=1,
        n_steps=n_steps,
        n_initial_times=4,
        n_realisations=2,
        allow_recycling=True,
        temperature_k=0.0,
    )
    result = run_surface_hopping(hamiltonian, settings)
    walk = trajectory_snapshots(result.initial_steps, n_steps, n_snapshots)
    np.testing.assert_allclose(walk.mean(axis=0), result.mean_energy_ev, atol=1e-12)


def test_relaxation_inside_the_donor_is_not_transfer() -> None:
    """IS and a lower donor state, strongly coupled; the acceptor state uncoupled.

    The electron relaxes from the IS into the other donor state: P_IS decays (what the
    old analysis fitted τ_ET to); the perovskite population is 0.9 P_IS + 0.8 P_2 ≥ 0.8.
    """
    n_snapshots = 200
    energies = np.tile([0.0, 0.08, 0.05], (n_snapshots, 1))  # FS, IS, donor state 2
    energies[:, 1] += 0.01 * np.sin(np.arange(n_snapshots) / 3.0)
    nac = np.zeros((n_snapshots - 1, 3, 3))
    nac[:, 1, 2], nac[:, 2, 1] = 0.05, -0.05
    hamiltonian = NaHamiltonian.from_arrays(energies, nac, dt_fs=1.0)
    settings = HoppingSettings(
        initial_state=1,
        final_state=0,
        n_steps=150,
        n_initial_times=3,
        n_realisations=200,
        temperature_k=300.0,
    )
    result = run_surface_hopping(hamiltonian, settings)
    perovskite = np.tile([0.05, 0.9, 0.8], (n_snapshots, 1))
    weights = np.stack([1 - perovskite, perovskite], axis=2)
    donor = domain_population(
        result.state_populations_by_start, weights, DOMAINS, "perovskite", result.initial_steps
    )
    assert result.donor_population[-1] < 0.5  # P_IS: the electron left the IS (≈ 0.2)
    assert result.state_populations[:, 0].max() == 0.0  # and never reached the FS
    np.testing.assert_allclose(donor, result.state_populations[:, 1:] @ [0.9, 0.8], atol=1e-12)
    assert donor.min() > 0.79  # ≥ 0.8 of it stays on the perovskite the whole time


def test_character_fractions_by_hand() -> None:
    """IS loses donor character at 1 of 4 snapshots, FS acceptor character at another."""
    perovskite = np.array([[0.1, 0.9], [0.2, 0.4], [0.6, 0.8], [0.3, 0.7]])  # FS, IS
    weights = np.stack([1 - perovskite, perovskite], axis=2)
    check = state_character(weights, DOMAINS, 1, 0, "perovskite", "chalcogenide")
    assert check.initial_on_donor == 0.75
    assert check.final_on_acceptor == 0.75
    assert check.held == 0.5
    assert check.as_dict()["broken"] == 0.5


def test_unknown_domain_is_refused() -> None:
    weights = np.full((3, 2, 2), 0.5)
    with pytest.raises(DomainPopulationError, match="not among the labelled"):
        state_character(weights, DOMAINS, 1, 0, "CsPbBr3", "chalcogenide")


def test_partly_donor_is_normalised_so_no_transfer_gives_no_decay() -> None:
    """Hand calculation: an IS 80 % on the donor that never moves has P_D(t) = 0.8 for all
    t; normalised per start it is 1 (no decay), and a real decay keeps its shape."""
    from heterostructures.electronic.domain_populations import (
        DomainPopulationError,
        normalised_to_start,
    )

    times = np.arange(5.0)
    still = np.full((5, 1), 0.8)
    decaying = 0.8 * np.exp(-times / 2.0)[:, None]
    normalised = normalised_to_start(np.hstack([still, decaying]))
    np.testing.assert_allclose(normalised[:, 0], 1.0)
    np.testing.assert_allclose(normalised[:, 1], np.exp(-times / 2.0))
    with pytest.raises(DomainPopulationError, match="no weight on the donor"):
        normalised_to_start(np.zeros((3, 1)))
