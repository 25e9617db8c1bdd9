"""Decay-time fits with 1σ uncertainties and an honest "not determined" flag.

Used by :mod:`heterostructures.spectra` (Gaussian pure-dephasing time) and
:mod:`heterostructures.dynamics` (electron-transfer and energy-relaxation times, the
paper's P(t) = exp(−t/τ) and E(t) = E(0) exp(−t/τ)).

Why a flag: a trajectory much shorter than τ only measures the initial slope. A
least-squares τ is then an extrapolation over many trajectory lengths and its number
means little, so the fit says ``determined=False`` and gives a 2σ lower bound instead of
pretending. The fit is done on the *rate* k = 1/τ (bounded at k ≥ 0), which stays well
behaved when the curve barely decays; τ = 1/k and σ_τ = σ_k / k² (first-order error
propagation). The 1σ values come from ``scipy.optimize.curve_fit``'s covariance, scaled
by the residuals; for trajectory-averaged curves the residuals are correlated in time,
so treat σ as a lower estimate of the real uncertainty.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.optimize import curve_fit

#: A fit is "determined" only if the fitted curve has lost at least this fraction of its
#: initial value within the fitted window (i.e. the window covers ≳ 0.22 τ for exp(−t/τ)).
MIN_DECAY_FRACTION = 0.2
#: ...and only if its relative 1σ uncertainty on τ is below this.
MAX_RELATIVE_SIGMA = 0.5


class FitInputError(ValueError):
    """Raised when the data handed to a decay fit cannot be fitted as given."""


@dataclass(frozen=True)
class DecayFit:
    """A fitted decay time with its 1σ uncertainty and a validity flag.

    ``model`` names the fitted form, e.g. ``"exp(-t/tau)"`` or
    ``"A*exp(-t/tau)"`` or ``"exp(-t^2/(2 tau^2))"``. ``amplitude`` is the prefactor
    (fixed ones have ``amplitude_sigma == 0``). ``tau_fs`` is ``inf`` when the data do
    not decay at all. ``lower_bound_fs`` is the 2σ lower bound max(τ − 2σ_τ, 0) (the
    window length when τ = inf), the number to quote when ``determined`` is False;
    ``note`` says in words why a fit is not determined.
    """

    model: str
    tau_fs: float
    tau_sigma_fs: float
    amplitude: float
    amplitude_sigma: float
    window_fs: float
    determined: bool
    lower_bound_fs: float
    note: str

    def summary(self) -> str:
        """One line for logs and plot legends, e.g. ``τ = 801 ± 40 fs``."""
        if self.determined:
            return f"τ = {self.tau_fs:.4g} ± {self.tau_sigma_fs:.2g} fs ({self.model})"
        return f"τ not determined (≥ {self.lower_bound_fs:.4g} fs, 2σ): {self.note}"


def _validated_series(times_fs: ArrayLike, values: ArrayLike) -> tuple[NDArray, NDArray]:
    times = np.asarray(times_fs, dtype=float)
    data = np.asarray(values, dtype=float)
    if times.ndim != 1 or data.shape != times.shape:
        raise FitInputError(
            f"times and values must be 1-D arrays of equal length, got shapes "
            f"{times.shape} and {data.shape}"
        )
    if times.size < 3:
        raise FitInputError(f"need at least 3 points to fit a decay, got {times.size}")
    if not (np.all(np.isfinite(times)) and np.all(np.isfinite(data))):
        raise FitInputError("times and values must be finite (no NaN/inf)")
    if np.any(np.diff(times) <= 0):
        raise FitInputError("times must be strictly increasing")
    return times - times[0], data


def _fit_rate(
    model: Callable[..., NDArray], times: NDArray, data: NDArray, start: list[float]
) -> tuple[NDArray, NDArray]:
    lower = [0.0] + [-np.inf] * (len(start) - 1)
    try:
        params, covariance = curve_fit(
            model, times, data, p0=start, bounds=(lower, np.inf), maxfev=20000
        )
    except RuntimeError:  # no convergence: report "not determined" rather than fail
        return np.array([0.0, *start[1:]]), np.full((len(start), len(start)), np.inf)
    if not np.all(np.isfinite(covariance)):
        covariance = np.full_like(covariance, np.inf)
    return np.asarray(params), np.asarray(covariance)


def _judge(
    model_name: str,
    params: NDArray,
    covariance: NDArray,
    window: float,
    remaining_at_end: float,
) -> DecayFit:
    rate, rate_sigma = float(params[0]), float(math.sqrt(max(covariance[0, 0], 0.0)))
    amplitude = float(params[1]) if params.size > 1 else 1.0
    amplitude_sigma = float(math.sqrt(max(covariance[1, 1], 0.0))) if params.size > 1 else 0.0
    tau = math.inf if rate <= 0.0 else 1.0 / rate
    tau_sigma = math.inf if rate <= 0.0 else rate_sigma / rate**2
    decayed = 1.0 - remaining_at_end
    notes = []
    if decayed < MIN_DECAY_FRACTION:
        notes.append(
            f"the fitted curve lost only {100 * decayed:.1f} % of its initial value in the "
            f"{window:.4g} fs window (need ≥ {100 * MIN_DECAY_FRACTION:.0f} %): simulate longer"
        )
    if not tau_sigma < MAX_RELATIVE_SIGMA * tau:
        notes.append(f"relative uncertainty σ_τ/τ ≥ {MAX_RELATIVE_SIGMA}")
    lower_bound = max(tau - 2.0 * tau_sigma, 0.0) if math.isfinite(tau_sigma) else 0.0
    if math.isinf(tau):
        lower_bound = window
    return DecayFit(
        model=model_name,
        tau_fs=tau,
        tau_sigma_fs=tau_sigma,
        amplitude=amplitude,
        amplitude_sigma=amplitude_sigma,
        window_fs=window,
        determined=not notes,
        lower_bound_fs=lower_bound,
        note="; ".join(notes),
    )


def _exp_unit(t: NDArray, rate: float) -> NDArray:
    return np.exp(-rate * t)


def _exp_scaled(t: NDArray, rate: float, amplitude: float) -> NDArray:
    return amplitude * np.exp(-rate * t)


def _gaussian_unit(t: NDArray, rate: float) -> NDArray:
    return np.exp(-0.5 * (rate * t) ** 2)


def fit_exponential_decay(
    times_fs: ArrayLike, values: ArrayLike, *, free_amplitude: bool = False
) -> DecayFit:
    """Fit ``exp(−t/τ)`` (or ``A exp(−t/τ)`` with ``free_amplitude``) to a decaying curve.

    Times in fs (shifted so the first point is t = 0), values dimensionless (populations)
    or in eV (energies; then use ``free_amplitude=True``, A in the values' unit).
    """
    times, data = _validated_series(times_fs, values)
    window = float(times[-1])
    if free_amplitude:
        start_amplitude = float(data[0]) if data[0] != 0 else 1.0
        params, cov = _fit_rate(_exp_scaled, times, data, [1.0 / window, start_amplitude])
        name = "A*exp(-t/tau)"
    else:
        params, cov = _fit_rate(_exp_unit, times, data, [1.0 / window])
        name = "exp(-t/tau)"
    return _judge(name, params, cov, window, math.exp(-params[0] * window))


def fit_gaussian_decay(times_fs: ArrayLike, values: ArrayLike) -> DecayFit:
    """Fit ``exp(−t²/(2τ²))`` to a decaying curve (the pure-dephasing convention).

    This is the convention of Prezhdo and co-workers for the dephasing function; note
    that some papers fit ``exp(−(t/τ)²)`` instead, whose τ is √2 times larger.
    """
    times, data = _validated_series(times_fs, values)
    window = float(times[-1])
    params, cov = _fit_rate(_gaussian_unit, times, data, [1.0 / window])
    return _judge(
        "exp(-t^2/(2 tau^2))", params, cov, window, math.exp(-0.5 * (params[0] * window) ** 2)
    )


@dataclass(frozen=True)
class TransferFits:
    """The paper's Figure 4d fits: τ_ET from P_IS(t) = exp(−t/τ) and τ_relax from
    E(t) = E0 exp(−t/τ), E relative to the final state (fs, eV)."""

    transfer: DecayFit
    relaxation: DecayFit


def fit_transfer_and_relaxation(
    times_fs: ArrayLike, donor_population: ArrayLike, mean_energy_ev: ArrayLike
) -> TransferFits:
    """Both exponential fits on a hopping result's curves, with 1σ and validity flags."""
    return TransferFits(
        transfer=fit_exponential_decay(times_fs, donor_population),
        relaxation=fit_exponential_decay(times_fs, mean_energy_ev, free_amplitude=True),
    )
