"""Pure dephasing of an energy gap: second-order cumulant, named τ conventions, bootstrap σ.

Gap fluctuation δE (eV, one value per MD step dt, fs); ħ = 0.6582119569 eV·fs.

* ACF over a fixed set of time origins: C(k) = (1/M) Σ_{n<M} δE(n+k) δE(n) for lags
  k = 0..K, M = N − K origins (K = ``max_lag_fs``, default N/2: then exactly PYXAID's
  estimator, ``namd.cpp`` ``decoherence_rates``). Every lag averages the same origins,
  which is what the bootstrap resamples.
* Second-order cumulant g(t) = (1/ħ²) ∫₀ᵗ dt₁ ∫₀^t₁ dt₂ C(t₂) (trapezoid rule; PYXAID uses
  left Riemann sums), dephasing function D(t) = exp(−g(t)).

Conventions for the dephasing time τ (the DISH decoherence time; results say which):

* ``"pyxaid"`` (default; PYXAID/DISH, the Prezhdo and Long groups, source read in
  alexvakimov/pyxaid-code ``PYXAID/src_cpp/namd.cpp``): keep the lags from 0 while
  g < 2.3 (D > 0.1; stop at the first crossing, "to avoid recurrences"), regress g on t²
  through the origin with PYXAID's default ``regress_mode = 0``, b = Σg / Σt², and
  τ = 1/√b, i.e. D ≈ exp(−(t/τ)²).
* ``"libra"``: τ = √(12/5) ħ/σ with σ the standard deviation of the gap, no fit (Libra
  ``libra_py/workflows/nbra/decoherence_times.py``; Akimov & Prezhdo, J. Phys. Chem. Lett.
  4, 3857 (2013)).
* ``"gaussian_sigma"``: least-squares fit of exp(−t²/(2τ²)) to D over every lag up to K
  (this project before 0.3).

For a slowly varying gap of width σ (g = σ²t²/2ħ²) these give √2 ħ/σ, √(12/5) ħ/σ and
ħ/σ: 1.41 : 1.55 : 1. The DISH decoherence rate scales as 1/τ, so the convention moves
τ_ET.

Uncertainty: a moving-block bootstrap over time origins (Künsch 1989). The M origin
products δE(n+k) δE(n) are resampled in blocks of consecutive origins (block length
default: 4 × the lag where C(k)/C(0) first drops below 1/e, at least N^(1/3), at most
M/5), C, g, D and τ are recomputed per replicate, and σ_τ is the replicates' standard
deviation. Cost: M × (fit lags) products, ``n_bootstrap`` replicates.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Literal

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from numpy.typing import ArrayLike, NDArray
from scipy.integrate import cumulative_trapezoid
from scipy.signal import correlate

from heterostructures.dynamics.fits import DecayFit, fit_gaussian_decay, with_bootstrap_sigma
from heterostructures.dynamics.spectra import SpectraInputError, _validated_signal
from heterostructures.units import HBAR_EV_FS

DephasingConvention = Literal["pyxaid", "libra", "gaussian_sigma"]
CONVENTIONS: dict[str, str] = {
    "pyxaid": "D = exp(-(t/tau)^2): g regressed on t^2 through 0 while D > 0.1 (PYXAID)",
    "libra": "tau = sqrt(12/5) hbar/sigma_gap (Libra decoherence_times)",
    "gaussian_sigma": "D = exp(-t^2/(2 tau^2)) least squares over all lags",
}
PYXAID_CUMULANT_LIMIT = 2.3  # g < 2.3 ⇔ D > 0.1 (PYXAID namd.cpp)
LIBRA_FACTOR = math.sqrt(12.0 / 5.0)


@dataclass(frozen=True)
class PureDephasing:
    """Cumulant dephasing D(t) = exp(−g(t)) on ``times_fs`` and its τ (``fit``, fs).

    ``convention`` names how τ was obtained (``CONVENTIONS``); ``fit.tau_sigma_fs`` is the
    block-bootstrap σ over time origins (``fit.uncertainty`` says how many replicates and
    the block length). ``tau_by_convention_fs`` gives every convention's τ for
    comparison. ``short_time_tau_fs`` = ħ/σ, σ² = C(0).
    """

    times_fs: NDArray
    acf_ev2: NDArray
    cumulant: NDArray
    dephasing: NDArray
    convention: str
    fit: DecayFit
    short_time_tau_fs: float
    tau_by_convention_fs: dict[str, float] = field(default_factory=dict)


def origin_acf(signal: NDArray, lags: int) -> NDArray:
    """C(k), k = 0..``lags``, averaged over the first N − ``lags`` time origins (eV²)."""
    origins = signal.size - lags
    return np.asarray(correlate(signal, signal[:origins], mode="valid", method="fft") / origins)


def cumulant(acf_ev2: NDArray, dt_fs: float) -> NDArray:
    """g(t) = (1/ħ²) ∫∫ C along the last axis (dimensionless), trapezoid rule."""
    inner = cumulative_trapezoid(acf_ev2, dx=dt_fs, axis=-1, initial=0.0)
    return np.asarray(cumulative_trapezoid(inner, dx=dt_fs, axis=-1, initial=0.0) / HBAR_EV_FS**2)


def pyxaid_tau(cumulants: NDArray, times_fs: NDArray) -> tuple[NDArray, NDArray]:
    """PYXAID τ (fs) of each row of ``cumulants`` and the number of lags it used.

    Rows whose g never reaches 2.3 use all lags (flag them: D did not drop to 0.1).
    """
    kept = np.cumprod(cumulants < PYXAID_CUMULANT_LIMIT, axis=-1).astype(bool)
    slope = np.sum(cumulants * kept, axis=-1) / np.sum(times_fs**2 * kept, axis=-1)
    with np.errstate(divide="ignore"):
        tau = np.where(slope > 0, 1.0 / np.sqrt(np.maximum(slope, 0.0)), np.inf)
    return tau, kept.sum(axis=-1)


def _tau(convention: str, acf: NDArray, dt_fs: float) -> float:
    """τ (fs) of one ACF (lags 0..K) in ``convention``."""
    times = dt_fs * np.arange(acf.size)
    if convention == "libra":
        return LIBRA_FACTOR * HBAR_EV_FS / math.sqrt(acf[0]) if acf[0] > 0 else math.inf
    g = cumulant(acf, dt_fs)
    if convention == "pyxaid":
        return float(pyxaid_tau(g, times)[0])
    return fit_gaussian_decay(times, np.exp(-g)).tau_fs


def default_block_steps(acf: NDArray, n_samples: int, n_origins: int) -> int:
    """Block length (steps): 4 × the 1/e lag of C, within [N^(1/3), M/5]."""
    below = np.flatnonzero(acf < acf[0] / math.e)
    correlation_steps = int(below[0]) if below.size else acf.size
    lowest = math.ceil(n_samples ** (1.0 / 3.0))
    return int(min(max(4 * correlation_steps, lowest), max(n_origins // 5, 1)))


def bootstrap_acfs(
    signal: NDArray, lags: int, n_origins: int, block: int, n_bootstrap: int, seed: int
) -> NDArray:
    """Moving-block bootstrap replicates (n_bootstrap × lags+1) of the origin ACF (eV²)."""
    products = signal[:n_origins, None] * sliding_window_view(signal, lags + 1)[:n_origins]
    prefix = np.concatenate([np.zeros((1, lags + 1)), np.cumsum(products, axis=0)])
    n_blocks = math.ceil(n_origins / block)
    starts = np.random.default_rng(seed).integers(0, n_origins - block + 1, (n_bootstrap, n_blocks))
    replicates = np.empty((n_bootstrap, lags + 1))
    for row, chosen in enumerate(starts):
        replicates[row] = (prefix[chosen + block] - prefix[chosen]).sum(axis=0)
    return replicates / (n_blocks * block)


def _main_fit(convention: str, g: NDArray, times: NDArray, acf0: float) -> tuple[DecayFit, float]:
    """Point estimate as a DecayFit (σ filled in later) and the fraction left at its end."""
    if convention == "gaussian_sigma":
        fit = fit_gaussian_decay(times, np.exp(-g))
        return fit, math.exp(-0.5 * (times[-1] / fit.tau_fs) ** 2)
    if convention == "libra":
        tau = LIBRA_FACTOR * HBAR_EV_FS / math.sqrt(acf0) if acf0 > 0 else math.inf
        window, remaining = float(times[-1]), math.exp(-g[-1])
    else:
        taus, used = pyxaid_tau(g, times)
        tau, window = float(taus), float(times[int(used) - 1])
        remaining = 1.0 if int(used) == g.size else math.exp(-g[int(used)])
    fit = DecayFit(CONVENTIONS[convention], tau, math.inf, 1.0, 0.0, window, False, 0.0, "")
    return fit, remaining


def pure_dephasing(
    fluctuation_ev: ArrayLike,
    dt_fs: float,
    *,
    convention: DephasingConvention = "pyxaid",
    max_lag_fs: float | None = None,
    n_bootstrap: int = 200,
    block_length_fs: float | None = None,
    seed: int = 0,
) -> PureDephasing:
    """Dephasing function of a gap fluctuation (eV, step dt in fs) and its τ ± bootstrap σ.

    ``n_bootstrap = 0`` skips the bootstrap (σ = inf, not determined): for the many pair
    times of :func:`dephasing_time_matrix`.
    """
    if convention not in CONVENTIONS:
        raise SpectraInputError(
            f"convention must be one of {sorted(CONVENTIONS)}, got {convention!r}"
        )
    signal = _validated_signal(fluctuation_ev, dt_fs)
    lags = signal.size // 2 if max_lag_fs is None else round(max_lag_fs / dt_fs)
    if not 2 <= lags < signal.size:
        raise SpectraInputError(
            f"max_lag_fs must lie in [{2 * dt_fs:g}, {signal.size * dt_fs:g}) fs"
        )
    acf = origin_acf(signal, lags)
    times, g = dt_fs * np.arange(lags + 1), cumulant(acf, dt_fs)
    variance = float(np.mean(signal**2))  # Libra's σ²: the whole series
    fit, remaining = _main_fit(convention, g, times, variance)
    if convention == "pyxaid" and remaining > 0.1:
        fit = replace(fit, note="D(t) stayed above 0.1 up to the largest lag")
    if n_bootstrap == 0:
        fit = replace(fit, note="; ".join(filter(None, [fit.note, "no bootstrap: σ not computed"])))
    else:
        fit = _bootstrapped(
            fit, remaining, signal, acf, dt_fs, convention, n_bootstrap, block_length_fs, seed
        )
    sigma = math.sqrt(max(float(acf[0]), 0.0))
    return PureDephasing(
        times_fs=times,
        acf_ev2=acf,
        cumulant=g,
        dephasing=np.exp(-g),
        convention=convention,
        fit=fit,
        short_time_tau_fs=HBAR_EV_FS / sigma if sigma > 0 else math.inf,
        tau_by_convention_fs={
            name: _tau(
                name, np.concatenate([[variance], acf[1:]]) if name == "libra" else acf, dt_fs
            )
            for name in CONVENTIONS
        },
    )


def _bootstrapped(
    fit: DecayFit,
    remaining: float,
    signal: NDArray,
    acf: NDArray,
    dt_fs: float,
    convention: str,
    n_bootstrap: int,
    block_length_fs: float | None,
    seed: int,
) -> DecayFit:
    """``fit`` with the block-bootstrap σ over time origins (lags the convention needs)."""
    lags = acf.size - 1
    origins = signal.size if convention == "libra" else signal.size - lags
    block = (
        default_block_steps(acf, signal.size, origins)
        if block_length_fs is None
        else max(1, min(round(block_length_fs / dt_fs), origins))
    )
    needed = {"libra": 0, "pyxaid": min(lags, 2 * max(round(fit.window_fs / dt_fs), 1) + 2)}
    used = needed.get(convention, lags)
    replicates = bootstrap_acfs(signal, used, origins, block, n_bootstrap, seed)
    if convention == "pyxaid":
        taus = pyxaid_tau(cumulant(replicates, dt_fs), dt_fs * np.arange(used + 1))[0]
    else:
        taus = np.array([_tau(convention, row, dt_fs) for row in replicates])
    label = f"moving-block bootstrap over {origins} time origins, blocks of {block * dt_fs:g} fs"
    judged = with_bootstrap_sigma(fit, taus, remaining, label)
    extra = fit.note if fit.note and fit.note not in judged.note else ""
    if extra:
        judged = replace(
            judged, determined=False, note="; ".join(filter(None, [judged.note, extra]))
        )
    return judged


def dephasing_time_matrix(
    energies_ev: ArrayLike, dt_fs: float, convention: DephasingConvention = "pyxaid"
) -> NDArray:
    """Pure-dephasing times τ_ij (fs) of every band pair, for DISH decoherence.

    Symmetric (nbands × nbands), ``inf`` on the diagonal and for pairs whose gap does not
    fluctuate. τ in ``convention`` is used as is (no bootstrap), also when not determined
    (slow dephasing: then the pair decoheres slowly in any case).
    """
    energies = np.asarray(energies_ev, dtype=float)
    if energies.ndim != 2:
        raise SpectraInputError(f"energies must be nsteps × nbands, got shape {energies.shape}")
    nbands = energies.shape[1]
    times = np.full((nbands, nbands), math.inf)
    for i in range(nbands):
        for j in range(i + 1, nbands):
            gap = energies[:, i] - energies[:, j]
            if np.ptp(gap) == 0.0:
                continue
            fluctuation = gap - gap.mean()
            tau = pure_dephasing(fluctuation, dt_fs, convention=convention, n_bootstrap=0)
            times[i, j] = times[j, i] = tau.fit.tau_fs
    return times
