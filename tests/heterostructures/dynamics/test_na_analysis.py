"""The uncertainty of the surface-hopping population: standard error over initial times.

References: closed-form sample statistics (three curves c·f(t) with c = 0.8, 1.0, 1.2
have s = 0.2 f(t), so SE = 0.2 f(t)/√3), and the definition of a standard error (the
spread of the mean over many independent repetitions, by Monte Carlo).
"""

from __future__ import annotations

import numpy as np
import pytest

from heterostructures.dynamics.na_analysis import analyse_hopping, standard_error_over_starts
from heterostructures.dynamics.surface_hopping import NaHamiltonian


def test_standard_error_of_three_scaled_curves_is_closed_form() -> None:
    times = np.linspace(0.0, 500.0, 11)
    decay = np.exp(-times / 300.0)
    by_start = decay[:, None] * np.array([0.8, 1.0, 1.2])[None, :]
    np.testing.assert_allclose(standard_error_over_starts(by_start), 0.2 * decay / np.sqrt(3))


def test_standard_error_is_the_spread_of_the_mean_over_repetitions() -> None:
    """10 starts drawn with σ = 0.1: the mean of SE² is σ²/10, and the standard deviation
    of the mean over 4000 repetitions is σ/√10 (both within 5 %)."""
    rng = np.random.default_rng(7)
    draws = rng.normal(0.5, 0.1, size=(4000, 1, 10))
    errors = np.array([standard_error_over_starts(draw)[0] for draw in draws])
    means = draws.mean(axis=2)[:, 0]
    assert np.mean(errors**2) == pytest.approx(0.01 / 10, rel=0.05)
    assert means.std() == pytest.approx(0.1 / np.sqrt(10), rel=0.05)


def test_one_initial_time_has_no_standard_error() -> None:
    assert np.isnan(standard_error_over_starts(np.ones((5, 1)))).all()
    with pytest.raises(ValueError, match="n_times × n_starts"):
        standard_error_over_starts(np.ones(5))


def test_hopping_run_carries_the_standard_error_of_the_fitted_population() -> None:
    """Two levels 0.1 eV apart, constant NAC: every start begins on the IS (SE 0 at t = 0);
    the starts see different stretches of a fluctuating gap, so the SE grows from 0."""
    times = np.arange(400.0)
    energies = np.zeros((400, 2))
    energies[:, 1] = 0.1 + 0.03 * np.cos(2 * np.pi * times / 97.0)
    nac = np.zeros((399, 2, 2))
    nac[:, 0, 1], nac[:, 1, 0] = 0.004, -0.004
    hamiltonian = NaHamiltonian.from_arrays(energies, nac, 1.0)
    states = {"initial": 1, "final": 0, "donors": [1]}
    options = {
        "simulation_time_fs": 150.0,
        "method": "fssh",
        "temperature_k": 300.0,
        "n_initial_times": 8,
        "n_realisations": 20,
        "seed": 3,
        "allow_recycling": False,
        "substeps": 1,
        "n_bootstrap": 2,
    }
    run = analyse_hopping(hamiltonian, states, options)
    by_start = run.result.donor_population_by_start
    assert by_start.shape[1] == 8
    np.testing.assert_allclose(
        run.transfer_population_sem, by_start.std(axis=1, ddof=1) / np.sqrt(8)
    )
    assert run.transfer_population_sem[0] == 0.0
    assert run.transfer_population_sem[-1] > 0.0
