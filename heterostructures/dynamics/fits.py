"""Decay-time fits with honest uncertainties and a "not determined" flag.

Used by :mod:`heterostructures.dynamics.dephasing` (pure-dephasing time) and
:mod:`heterostructures.dynamics.surface_hopping` (electron-transfer and energy-relaxation times: the
paper's P(t) = exp(−t/τ) and, with the asymptote detailed balance gives,
E(t) = E∞ + (E0 − E∞) exp(−t/τ)).

Why a flag: a trajectory much shorter than τ only measures the initial slope. A
least-squares τ is then an extrapolation over many trajectory lengths and its number
means little, so the fit says ``determined=False`` and gives a 2σ lower bound instead of
pretending. The fit is done on the *rate* k = 1/τ (bounded at k ≥ 0), which stays well
behaved when the curve barely decays; τ = 1/k.

Uncertainties: ``scipy.optimize.curve_fit``'s residual-scaled covariance (σ_τ = σ_k/k²)
is what a single fit can give, but on a trajectory-averaged or cumulant curve the
residuals are correlated (or zero: a deterministic curve), so it is no error bar. The
τ the pipeline reports carry a bootstrap σ instead (``uncertainty`` says which):
:func:`fit_transfer_and_relaxation` resamples the initial conditions (groups of
trajectories started at one MD step), :mod:`heterostructures.dynamics.dephasing` the time origins.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from typing import Any

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
    window length when τ = inf), raised to T / ln(1/(1 − f)) when the curve lost less than
    the fraction f = ``MIN_DECAY_FRACTION`` in the window T (a faster exponential would
    have lost more); it is the number to quote when ``determined`` is False;
    ``note`` says in words why a fit is not determined. ``asymptote`` is the long-time
    value of ``E∞ + (E0 − E∞) exp(−t/τ)`` fits (0 for the others); ``uncertainty`` says
    where σ comes from.
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
    asymptote: float = 0.0
    uncertainty: str = "curve_fit covariance scaled by the residuals (no error bar)"

    def summary(self) -> str:
        """One line for logs and plot legends, e.g. ``τ = 801 ± 40 fs``."""
        if self.determined:
            return f"τ = {self.tau_fs:.4g} ± {self.tau_sigma_fs:.2g} fs ({self.model})"
        return f"τ not determined (≥ {self.lower_bound_fs:.4g} fs, 2σ): {self.note}"

    def as_dict(self) -> dict[str, Any]:
        """Fields as stored (JSON-safe: ``inf`` written as None) and the one-line summary."""
        values = {
            key: (None if isinstance(value, float) and not math.isfinite(value) else value)
            for key, value in asdict(self).items()
        }
        return values | {"summary": self.summary()}


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


def _verdict(
    tau: float, tau_sigma: float, window: float, remaining_at_end: float
) -> tuple[bool, float, str]:
    """``determined``, the 2σ lower bound (fs) and the note, for a τ ± σ on a window."""
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
    if decayed < MIN_DECAY_FRACTION:
        # A decay from 1 faster than this would have lost MIN_DECAY_FRACTION within the
        # window, which the fitted curve did not: τ ≥ T / ln(1 / (1 − f)).
        lower_bound = max(lower_bound, window / -math.log1p(-MIN_DECAY_FRACTION))
    return not notes, lower_bound, "; ".join(notes)


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
    determined, lower_bound, note = _verdict(tau, tau_sigma, window, remaining_at_end)
    return DecayFit(
        model=model_name,
        tau_fs=tau,
        tau_sigma_fs=tau_sigma,
        amplitude=amplitude,
        amplitude_sigma=amplitude_sigma,
        window_fs=window,
        determined=determined,
        lower_bound_fs=lower_bound,
        note=note,
    )


#: Bootstrap σ is reported as ``inf`` when more than this fraction of the replicates
#: give no finite τ (curves that do not decay).
MAX_UNDECAYED_REPLICATES = 0.1


def with_bootstrap_sigma(
    fit: DecayFit, replicate_taus_fs: ArrayLike, remaining_at_end: float, uncertainty: str
) -> DecayFit:
    """``fit`` with σ_τ replaced by the standard deviation of bootstrap replicate τ (fs).

    The verdict (``determined``, lower bound, note) is re-judged on the new σ.
    """
    taus = np.asarray(replicate_taus_fs, dtype=float)
    finite = taus[np.isfinite(taus)]
    if taus.size < 2 or finite.size < (1.0 - MAX_UNDECAYED_REPLICATES) * taus.size:
        sigma = math.inf
    else:
        sigma = float(np.std(finite, ddof=1))
    determined, lower_bound, note = _verdict(fit.tau_fs, sigma, fit.window_fs, remaining_at_end)
    return replace(
        fit,
        tau_sigma_fs=sigma,
        determined=determined,
        lower_bound_fs=lower_bound,
        note=note,
        uncertainty=f"{uncertainty}, {taus.size} replicates",
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
    """Fit ``exp(−t²/(2τ²))`` to a decaying curve (the ``gaussian_sigma`` convention).

    PYXAID (Prezhdo and co-workers) fits ``exp(−(t/τ)²)`` instead, whose τ is √2 times
    larger: :mod:`heterostructures.dynamics.dephasing` names both.
    """
    times, data = _validated_series(times_fs, values)
    window = float(times[-1])
    params, cov = _fit_rate(_gaussian_unit, times, data, [1.0 / window])
    return _judge(
        "exp(-t^2/(2 tau^2))", params, cov, window, math.exp(-0.5 * (params[0] * window) ** 2)
    )


def _relaxation_free(t: NDArray, rate: float, start: float, asymptote: float) -> NDArray:
    return asymptote + (start - asymptote) * np.exp(-rate * t)


def fit_relaxation(
    times_fs: ArrayLike, values: ArrayLike, *, asymptote: float | None = None
) -> DecayFit:
    """Fit ``E∞ + (E0 − E∞) exp(−t/τ)``: E∞ free (``asymptote=None``) or fixed.

    Why not E0 exp(−t/τ): with detailed balance the electron does not end on the final
    state at T > 0, so E(t) levels off at the thermal E∞ > 0 and forcing E∞ = 0 biases τ
    (the paper's form is ``asymptote=0``). ``amplitude`` is E0, ``asymptote`` E∞ (both
    in the values' unit, e.g. eV).
    """
    times, data = _validated_series(times_fs, values)
    window = float(times[-1])
    if asymptote is None:
        start = [1.0 / window, float(data[0]), float(data[-1])]
        params, cov = _fit_rate(_relaxation_free, times, data, start)
        level, name = float(params[2]), "E_inf + (E0 - E_inf)*exp(-t/tau), E_inf free"
    else:

        def model(t: NDArray, rate: float, start: float) -> NDArray:
            return _relaxation_free(t, rate, start, asymptote)

        params, cov = _fit_rate(model, times, data, [1.0 / window, float(data[0])])
        level, name = float(asymptote), f"E_inf + (E0 - E_inf)*exp(-t/tau), E_inf = {asymptote:.4g}"
    fit = _judge(name, params, cov, window, math.exp(-params[0] * window))
    return replace(fit, asymptote=level)


@dataclass(frozen=True)
class TransferFits:
    """The paper's Figure 4d fits: τ_ET from P(t) = exp(−t/τ) and τ_relax from
    E(t) = E∞ + (E0 − E∞) exp(−t/τ), E relative to the final state (fs, eV), with
    bootstrap σ over ``n_groups`` initial conditions. P is the population handed in: the
    paper's P_IS(t), or the donor-domain population of
    :mod:`heterostructures.electronic.domain_populations` (what ``janus.na_analysis`` fits)."""

    transfer: DecayFit
    relaxation: DecayFit
    n_groups: int
    n_bootstrap: int


def _fit_pair(
    times: NDArray, donor: NDArray, energy: NDArray, asymptote: float | None
) -> tuple[DecayFit, DecayFit]:
    return fit_exponential_decay(times, donor), fit_relaxation(times, energy, asymptote=asymptote)


def fit_transfer_and_relaxation(
    times_fs: ArrayLike,
    donor_by_group: ArrayLike,
    energy_by_group_ev: ArrayLike,
    *,
    asymptote_ev: float | None = None,
    n_bootstrap: int = 200,
    seed: int = 0,
) -> TransferFits:
    """Both fits on the group-averaged curves, σ from a bootstrap over the groups.

    ``donor_by_group``, ``energy_by_group_ev``: (n_times × n_groups), one column per
    initial condition (the mean over its realisations; equal group sizes). Realisations
    of one initial condition share its Hamiltonian and are not independent; the groups
    are the units resampled (with replacement, ``n_bootstrap`` times, seeded). One group
    gives σ = inf ("not determined"). ``asymptote_ev``: E∞ for :func:`fit_relaxation`.
    """
    times = np.asarray(times_fs, dtype=float)
    donor, energy = np.asarray(donor_by_group, float), np.asarray(energy_by_group_ev, float)
    if donor.ndim != 2 or donor.shape != energy.shape or donor.shape[0] != times.size:
        raise FitInputError(
            f"group curves must be (n_times={times.size}) × n_groups and alike, got "
            f"{donor.shape} and {energy.shape}"
        )
    groups = donor.shape[1]
    transfer, relaxation = _fit_pair(times, donor.mean(1), energy.mean(1), asymptote_ev)
    rng = np.random.default_rng(seed)
    replicates = np.array(
        [
            [
                fit.tau_fs
                for fit in _fit_pair(
                    times, donor[:, pick].mean(1), energy[:, pick].mean(1), asymptote_ev
                )
            ]
            for pick in rng.integers(0, groups, size=(n_bootstrap if groups > 1 else 0, groups))
        ]
    ).reshape(-1, 2)
    label = f"bootstrap over {groups} initial conditions"
    window = float(times[-1] - times[0])
    return TransferFits(
        transfer=with_bootstrap_sigma(
            transfer, replicates[:, 0], math.exp(-window / transfer.tau_fs), label
        ),
        relaxation=with_bootstrap_sigma(
            relaxation, replicates[:, 1], math.exp(-window / relaxation.tau_fs), label
        ),
        n_groups=groups,
        n_bootstrap=len(replicates),
    )
