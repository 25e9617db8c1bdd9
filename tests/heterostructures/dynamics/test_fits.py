"""Decay fits for τ_ET / τ_relax: closed-form curves, the E∞ asymptote and bootstrap σ."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
from numpy.typing import NDArray

from heterostructures.dynamics.fits import (
    FitInputError,
    fit_exponential_decay,
    fit_gaussian_decay,
    fit_relaxation,
    fit_transfer_and_relaxation,
)

TIMES = np.arange(0.0, 1000.0, 5.0)


def test_exponential_fit_recovers_tau_with_uncertainty() -> None:
    times = np.arange(0.0, 2000.0, 2.0)
    noisy = np.exp(-times / 801.0) + np.random.default_rng(2).normal(scale=0.01, size=times.size)
    fit = fit_exponential_decay(times, noisy)
    assert fit.determined
    assert abs(fit.tau_fs - 801.0) < 3 * fit.tau_sigma_fs
    assert 0 < fit.tau_sigma_fs < 0.05 * fit.tau_fs


def test_relaxation_with_a_thermal_asymptote_is_not_biased() -> None:
    """E(t) = 0.05 + 0.25 exp(−t/500) eV (closed form): E∞ free or fixed recovers τ = 500 fs;
    the old E0 exp(−t/τ) form (E∞ forced to 0) is biased by more than 20 %."""
    times = np.arange(0.0, 2000.0, 2.0)
    energy = 0.05 + 0.25 * np.exp(-times / 500.0)
    free = fit_relaxation(times, energy)
    assert free.tau_fs == pytest.approx(500.0, rel=1e-5)
    assert free.asymptote == pytest.approx(0.05, rel=1e-5)
    assert free.amplitude == pytest.approx(0.30, rel=1e-5)
    fixed = fit_relaxation(times, energy, asymptote=0.05)
    assert fixed.tau_fs == pytest.approx(500.0, rel=1e-6)
    old = fit_exponential_decay(times, energy, free_amplitude=True)
    assert abs(old.tau_fs / 500.0 - 1.0) > 0.2
    assert fit_relaxation(times, energy, asymptote=0.0).tau_fs == pytest.approx(old.tau_fs, 1e-4)


def hopping_like_groups(tau_fs: float, n_groups: int, per_group: int, seed: int) -> NDArray:
    """Survival curves (n_times × n_groups): each group is the fraction of ``per_group``
    exponential lifetimes (mean τ) still alive, with a group-level τ spread of 20 %
    (initial conditions differ)."""
    rng = np.random.default_rng(seed)
    group_tau = tau_fs * rng.lognormal(0.0, 0.2, n_groups)
    lifetimes = rng.exponential(group_tau[:, None], (n_groups, per_group))
    return np.asarray((lifetimes[None, :, :] > TIMES[:, None, None]).mean(axis=2))


def test_bootstrap_over_initial_conditions_matches_the_real_spread() -> None:
    """Reference: the standard deviation of τ_ET (and τ_relax, E = 0.2 eV × P) over 40
    independent synthetic ensembles. The bootstrap over the 20 groups of one ensemble
    must match it (0.6–1.6×, median of 8); curve_fit's residual σ (the old error bar)
    is several times too small."""
    taus = [
        fit_transfer_and_relaxation(TIMES, p, 0.2 * p, n_bootstrap=0)
        for p in (hopping_like_groups(600.0, 20, 50, 100 + k) for k in range(40))
    ]
    spread_et = np.std([t.transfer.tau_fs for t in taus], ddof=1)
    spread_relax = np.std([t.relaxation.tau_fs for t in taus], ddof=1)
    boot_et, boot_relax, old_et = [], [], []
    for k in range(8):
        curves = hopping_like_groups(600.0, 20, 50, k)
        fits = fit_transfer_and_relaxation(TIMES, curves, 0.2 * curves, n_bootstrap=100, seed=k)
        boot_et.append(fits.transfer.tau_sigma_fs)
        boot_relax.append(fits.relaxation.tau_sigma_fs)
        old_et.append(fit_exponential_decay(TIMES, curves.mean(axis=1)).tau_sigma_fs)
        assert fits.transfer.uncertainty.startswith("bootstrap over 20 initial conditions")
    assert 0.6 < np.median(boot_et) / spread_et < 1.6
    assert 0.6 < np.median(boot_relax) / spread_relax < 1.6
    assert np.median(old_et) < 0.5 * spread_et


def test_one_initial_condition_gives_no_error_bar() -> None:
    curves = hopping_like_groups(300.0, 1, 200, 0)
    fits = fit_transfer_and_relaxation(TIMES, curves, 0.1 * curves)
    assert fits.n_groups == 1
    assert fits.transfer.tau_sigma_fs == np.inf
    assert not fits.transfer.determined


def test_fit_on_a_barely_decaying_curve_is_flagged_not_determined() -> None:
    times = np.arange(0.0, 50.0, 1.0)
    noisy = np.exp(-times / 5000.0) + np.random.default_rng(4).normal(scale=0.002, size=times.size)
    fit = fit_exponential_decay(times, noisy)
    assert not fit.determined
    assert "simulate longer" in fit.note
    assert fit.lower_bound_fs < fit.tau_fs
    assert "not determined" in fit.summary()
    flat = fit_exponential_decay(times, np.ones_like(times))
    assert flat.tau_fs > 1000 * times[-1]
    assert not flat.determined


def test_gaussian_fit_recovers_tau() -> None:
    times = np.arange(0.0, 100.0, 0.5)
    fit = fit_gaussian_decay(times, np.exp(-(times**2) / (2 * 20.0**2)))
    assert fit.tau_fs == pytest.approx(20.0, rel=1e-6)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: fit_exponential_decay([0.0, 1.0], [1.0, 0.5]), "at least 3"),
        (
            lambda: fit_transfer_and_relaxation(TIMES, np.ones(TIMES.size), np.ones(TIMES.size)),
            "n_groups",
        ),
    ],
)
def test_bad_input_raises_clear_errors(call: Callable[[], object], message: str) -> None:
    with pytest.raises(FitInputError, match=message):
        call()


def test_a_stored_fit_is_json_safe() -> None:
    """τ = inf (no decay) is stored as None; the keys are the fields plus ``summary``."""
    from dataclasses import fields

    from heterostructures.dynamics.fits import DecayFit

    flat = DecayFit("exp(-t/tau)", np.inf, np.inf, 1.0, 0.0, 1000.0, False, 1000.0, "no decay")
    stored = flat.as_dict()
    assert set(stored) == {field.name for field in fields(flat)} | {"summary"}
    assert stored["tau_fs"] is None
    assert stored["summary"] == flat.summary()


def test_a_curve_that_barely_decays_bounds_tau_by_what_it_did_not_lose() -> None:
    """The 0.4 demo's donor population lost 0.1 % in 2000 fs, its τ had σ_τ ≫ τ, and the
    report said "τ ≥ 0 fs", which says nothing. Hand calculation: an exp(−t/τ) from 1 that
    loses less than 20 % in T = 2000 fs has τ ≥ T / ln(1/0.8) = 2000 / 0.22314 = 8962.8 fs.
    A tight fit keeps its own, stronger τ − 2σ bound."""
    from heterostructures.dynamics.fits import _verdict

    determined, bound, note = _verdict(5.0e4, 1.0e6, 2000.0, 0.999)
    assert not determined
    assert bound == pytest.approx(8962.8, abs=0.1)
    assert "simulate longer" in note
    assert _verdict(2.0e6, 1.0e4, 2000.0, 0.999)[1] == pytest.approx(1.98e6)
