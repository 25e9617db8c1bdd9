"""Pure dephasing: cumulant against closed forms, the named τ conventions (PYXAID, Libra,
Gaussian σ) against their analytic values, and the bootstrap σ against the real spread."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, get_args

import numpy as np
import pytest
from numpy.typing import NDArray
from scipy.signal import lfilter
from scipy.special import erf

from heterostructures.dynamics.dephasing import (
    CONVENTIONS,
    LIBRA_FACTOR,
    DephasingConvention,
    cumulant,
    dephasing_time_matrix,
    pure_dephasing,
    pyxaid_tau,
)
from heterostructures.dynamics.fits import fit_gaussian_decay
from heterostructures.dynamics.spectra import SpectraInputError
from heterostructures.units import HBAR_EV_FS

DT_FS = 1.0


def gaussian_correlated_noise(sigma_ev: float, kernel_fs: float, nsteps: int) -> NDArray:
    """White noise smoothed by a Gaussian kernel of width s: C(t) = σ² exp(−t²/(4s²))."""
    rng = np.random.default_rng(7)
    offsets = np.arange(-int(8 * kernel_fs), int(8 * kernel_fs) + 1)
    kernel = np.exp(-0.5 * (offsets / kernel_fs) ** 2)
    noise = np.convolve(rng.standard_normal(nsteps), kernel, mode="same")
    return sigma_ev * (noise - noise.mean()) / noise.std()


def analytic_gaussian_cumulant(times: NDArray, sigma_ev: float, correlation_fs: float) -> NDArray:
    """g(t) for C(t) = σ² exp(−t²/(2 t_c²)): double integral done in closed form."""
    tc = correlation_fs
    inner = times * tc * math.sqrt(math.pi / 2) * erf(times / (math.sqrt(2) * tc))
    return sigma_ev**2 / HBAR_EV_FS**2 * (inner + tc**2 * (np.exp(-(times**2) / (2 * tc**2)) - 1))


def ou_noise(sigma_ev: float, correlation_fs: float, nsteps: int, seed: int) -> NDArray:
    """Gaussian noise of width σ with C(t) = σ² exp(−t/t_c) (Ornstein–Uhlenbeck, AR(1))."""
    a = math.exp(-DT_FS / correlation_fs)
    rng = np.random.default_rng(seed)
    drive = rng.normal(0.0, sigma_ev * math.sqrt(1 - a * a), nsteps)
    drive[0] = rng.normal(0.0, sigma_ev)
    series = lfilter([1.0], [1.0, -a], drive)
    return np.asarray(series - series.mean())


def ou_cumulant(times: NDArray, sigma_ev: float, correlation_fs: float) -> NDArray:
    """Closed form g(t) = (σ t_c/ħ)² (t/t_c − 1 + e^(−t/t_c)) of the OU correlation."""
    x = times / correlation_fs
    return (sigma_ev * correlation_fs / HBAR_EV_FS) ** 2 * (x - 1.0 + np.exp(-x))


def analytic_tau(convention: str, sigma_ev: float, correlation_fs: float) -> float:
    """Each convention's τ evaluated on the exact OU cumulant (fs)."""
    times = DT_FS * np.arange(401)
    g = ou_cumulant(times, sigma_ev, correlation_fs)
    if convention == "libra":
        return LIBRA_FACTOR * HBAR_EV_FS / sigma_ev
    if convention == "pyxaid":
        return float(pyxaid_tau(g, times)[0])
    return fit_gaussian_decay(times[:201], np.exp(-g[:201])).tau_fs


def test_cumulant_of_gaussian_noise_matches_the_closed_form() -> None:
    sigma, kernel = 0.05, 7.0
    result = pure_dephasing(
        gaussian_correlated_noise(sigma, kernel, 200_000), DT_FS, max_lag_fs=150, n_bootstrap=0
    )
    expected = np.exp(-analytic_gaussian_cumulant(result.times_fs, sigma, math.sqrt(2) * kernel))
    assert np.abs(result.dephasing - expected).max() < 0.01
    assert result.short_time_tau_fs == pytest.approx(HBAR_EV_FS / sigma, rel=1e-3)


def test_conventions_in_the_static_limit_are_the_closed_forms() -> None:
    """g = σ²t²/(2ħ²) exactly: PYXAID's exp(−(t/τ)²) gives √2 ħ/σ, Gaussian-σ gives ħ/σ."""
    sigma, times = 0.05, DT_FS * np.arange(200)
    g = sigma**2 * times**2 / (2 * HBAR_EV_FS**2)
    assert float(pyxaid_tau(g, times)[0]) == pytest.approx(math.sqrt(2) * HBAR_EV_FS / sigma)
    assert fit_gaussian_decay(times, np.exp(-g)).tau_fs == pytest.approx(HBAR_EV_FS / sigma)
    assert LIBRA_FACTOR * HBAR_EV_FS / sigma == pytest.approx(1.549 * HBAR_EV_FS / sigma, 1e-3)
    assert set(get_args(DephasingConvention)) == set(CONVENTIONS)


@pytest.mark.parametrize("convention", ["pyxaid", "libra", "gaussian_sigma"])
def test_each_convention_matches_its_analytic_value_on_gaussian_noise(
    convention: DephasingConvention,
) -> None:
    """OU noise of width σ = 0.05 eV, t_c = 20 fs; reference: the convention applied to the
    closed-form cumulant (PYXAID namd.cpp fit, Libra √(12/5) ħ/σ, least-squares Gaussian).
    The old code gave the Gaussian-σ number (15.7 fs) whatever was asked; PYXAID's is
    22.7 fs."""
    sigma, correlation = 0.05, 20.0
    taus = [
        pure_dephasing(
            ou_noise(sigma, correlation, 100_000, seed),
            DT_FS,
            convention=convention,
            max_lag_fs=200,
            n_bootstrap=0,
        )
        for seed in range(4)
    ]
    assert all(result.convention == convention for result in taus)
    measured = np.mean([result.fit.tau_fs for result in taus])
    assert measured == pytest.approx(analytic_tau(convention, sigma, correlation), rel=0.04)
    assert taus[0].tau_by_convention_fs[convention] == pytest.approx(taus[0].fit.tau_fs)


def test_default_convention_is_pyxaid() -> None:
    result = pure_dephasing(ou_noise(0.05, 20.0, 4000, 0), DT_FS, n_bootstrap=0)
    assert result.convention == "pyxaid"
    assert result.fit.model == CONVENTIONS["pyxaid"]
    assert result.fit.tau_fs == pytest.approx(analytic_tau("pyxaid", 0.05, 20.0), rel=0.25)


def test_bootstrap_sigma_matches_the_spread_over_independent_series() -> None:
    """Reference: the standard deviation of τ over 40 independent OU series of 4000 fs.
    The block bootstrap over time origins of one series must match it (within 0.6–1.5×,
    median of 8 series). The old σ, curve_fit's residual-scaled covariance on the
    deterministic D(t), is ≈ 100× too small."""
    spread = np.std(
        [
            pure_dephasing(ou_noise(0.05, 20.0, 4000, 100 + k), DT_FS, n_bootstrap=0).fit.tau_fs
            for k in range(40)
        ],
        ddof=1,
    )
    boot, old = [], []
    for k in range(8):
        result = pure_dephasing(ou_noise(0.05, 20.0, 4000, k), DT_FS, n_bootstrap=200, seed=k)
        boot.append(result.fit.tau_sigma_fs)
        old.append(fit_gaussian_decay(result.times_fs, result.dephasing).tau_sigma_fs)
        assert "bootstrap over 2000 time origins" in result.fit.uncertainty
    assert 0.6 < np.median(boot) / spread < 1.5
    assert np.median(old) < 0.1 * spread


def test_undecayed_dephasing_is_flagged() -> None:
    """A gap that barely fluctuates: D(t) never reaches 0.1 within the lags."""
    result = pure_dephasing(ou_noise(0.001, 20.0, 400, 0), DT_FS, n_bootstrap=50)
    assert not result.fit.determined
    assert "0.1" in result.fit.note


def test_dephasing_matrix_is_symmetric_with_infinite_diagonal() -> None:
    energies = np.stack(
        [np.zeros(4000), gaussian_correlated_noise(0.05, 7.0, 4000), np.full(4000, 1.0)], axis=1
    )
    times = dephasing_time_matrix(energies, DT_FS)
    assert np.array_equal(times, times.T)
    assert np.all(np.isinf(np.diag(times)))
    assert math.isfinite(times[0, 1])
    assert times[0, 1] == pytest.approx(times[1, 2])
    assert np.isinf(dephasing_time_matrix(energies[:, [0, 2]], DT_FS)[0, 1])
    libra = dephasing_time_matrix(energies, DT_FS, convention="libra")
    assert libra[0, 1] == pytest.approx(LIBRA_FACTOR * HBAR_EV_FS / 0.05, rel=1e-6)


def test_cumulant_is_the_double_integral() -> None:
    """C = const σ²: g = σ² t²/(2ħ²) (trapezoid exact for polynomials of degree ≤ 1 inside)."""
    times = DT_FS * np.arange(50)
    g = cumulant(np.full(50, 0.01**2), DT_FS)
    assert np.allclose(g, 0.01**2 * times**2 / (2 * HBAR_EV_FS**2))


UNKNOWN_CONVENTION: Any = "hefei"  # a caller ignoring the type hints


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: pure_dephasing(np.ones(100), DT_FS, convention=UNKNOWN_CONVENTION), "convention"),
        (lambda: pure_dephasing(np.ones(100), DT_FS, max_lag_fs=500), "max_lag_fs"),
    ],
)
def test_bad_input_raises_clear_errors(call: Callable[[], object], message: str) -> None:
    with pytest.raises(SpectraInputError, match=message):
        call()
