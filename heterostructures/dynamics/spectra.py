"""Phonon spectral density and pure dephasing of an energy gap along an MD trajectory.

The paper's Figure 4c: which phonon modes modulate the gap between the initial (IS) and
final (FS) states of the electron transfer. Conventions, stated once:

* Gap fluctuation δE(t) = ΔE(t) − ⟨ΔE⟩, ΔE = E_IS − E_FS (eV), one value per MD step.
* Un-normalised autocorrelation C(t) = ⟨δE(t'+t) δE(t')⟩_t' (eV²). ``"unbiased"``
  divides the lag-k sum by N − k (default: the right mean at every lag, noisy at large
  lags); ``"biased"`` divides by N (smaller variance, damped tail, positive-definite).
* Spectral density, ``method="power"`` (default): the periodogram
  I(ν̃) = (dt / N) |Σ_n δE_n exp(−2πi f n dt)|² (eV²·fs), which by Wiener–Khinchin *is*
  the Fourier transform of the biased ACF — the paper's "Fourier transform of the un-ACF".
  ``method="acf"``: the cosine transform dt [w(0)C(0) + 2 Σ_k w(k) C(k) cos(2π f k dt)]
  of the unbiased ACF up to the lag L = ``max_lag_fs`` (default half the trajectory),
  tapered by the lag window w (``lag_window="hann"``, default: w = ½(1 + cos πk/L), the
  Tukey–Hanning window). A rectangular cut (``"rectangular"``, the old behaviour)
  convolves the spectrum with a Dirichlet kernel whose side lobes reach −22 % of a peak
  and are reported as peaks; Hann's reach 2.7 %. Frequencies ν̃ = f / c in cm⁻¹ with
  c = 2.99792458·10⁻⁵ cm/fs.
* Resolution: Δν̃ = 1 / (c · T), T = N·dt for ``"power"`` (bin spacing); for ``"acf"``
  the full width at half maximum of the lag window's spectral window, computed
  numerically: 1/(c L) for Hann (0.60/(c L) for rectangular, at the price of the side
  lobes). Resolving a feature of width/spacing Δν̃ therefore needs T ≥ 1/(c Δν̃): 33 cm⁻¹
  (the paper's lowest PbBr6 mode) needs ≥ 1.01 ps; 10 cm⁻¹ needs 3.3 ps.
* Pure dephasing (second-order cumulant, the named τ conventions, bootstrap σ) is in
  :mod:`heterostructures.dynamics.dephasing`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.signal import find_peaks

from heterostructures.units import SPEED_OF_LIGHT_CM_PER_FS

MIN_SAMPLES = 8


class SpectraInputError(ValueError):
    """Raised when a time series cannot be analysed as given (shape, length, values)."""


class ResolutionError(SpectraInputError):
    """Raised when the trajectory is too short for the requested frequency resolution."""


def frequency_resolution_cm(length_fs: float) -> float:
    """Frequency resolution Δν̃ = 1/(c T) in cm⁻¹ of a signal of length T (fs)."""
    return 1.0 / (SPEED_OF_LIGHT_CM_PER_FS * length_fs)


def required_length_fs(resolution_cm: float) -> float:
    """Signal length T = 1/(c Δν̃) in fs needed to resolve Δν̃ (cm⁻¹)."""
    if resolution_cm <= 0:
        raise SpectraInputError(f"resolution must be positive (cm^-1), got {resolution_cm}")
    return 1.0 / (SPEED_OF_LIGHT_CM_PER_FS * resolution_cm)


def resolution_needed_for(features_cm: ArrayLike) -> float:
    """Resolution (cm⁻¹) that separates the given features from each other and from 0."""
    points = np.unique(np.concatenate([[0.0], np.abs(np.asarray(features_cm, dtype=float))]))
    if points.size < 2:
        raise SpectraInputError("give at least one non-zero feature frequency (cm^-1)")
    return float(np.min(np.diff(points)))


def _validated_signal(values: ArrayLike, dt_fs: float) -> NDArray:
    signal = np.asarray(values, dtype=float)
    if signal.ndim != 1:
        raise SpectraInputError(f"expected a 1-D time series, got shape {signal.shape}")
    if signal.size < MIN_SAMPLES:
        raise SpectraInputError(
            f"time series too short: {signal.size} samples, need at least {MIN_SAMPLES}"
        )
    if not np.all(np.isfinite(signal)):
        raise SpectraInputError("time series contains NaN or inf")
    if not dt_fs > 0:
        raise SpectraInputError(f"time step must be positive (fs), got {dt_fs}")
    return signal


@dataclass(frozen=True)
class GapSeries:
    """IS–FS gap ΔE(t) = E_IS − E_FS (eV) and its fluctuation δE = ΔE − ⟨ΔE⟩ (eV)."""

    times_fs: NDArray
    gap_ev: NDArray
    mean_gap_ev: float
    fluctuation_ev: NDArray


def gap_fluctuation(
    energies_ev: ArrayLike, dt_fs: float, initial_band: int, final_band: int
) -> GapSeries:
    """Gap time series between two band columns of ``energies_ev`` (nsteps × nbands, eV)."""
    energies = np.asarray(energies_ev, dtype=float)
    if energies.ndim != 2:
        raise SpectraInputError(f"energies must be nsteps × nbands, got shape {energies.shape}")
    nbands = energies.shape[1]
    for name, band in (("initial_band", initial_band), ("final_band", final_band)):
        if not 0 <= band < nbands:
            raise SpectraInputError(f"{name}={band} is outside the band window 0..{nbands - 1}")
    gap = _validated_signal(energies[:, initial_band] - energies[:, final_band], dt_fs)
    mean = float(gap.mean())
    times = dt_fs * np.arange(gap.size)
    return GapSeries(times_fs=times, gap_ev=gap, mean_gap_ev=mean, fluctuation_ev=gap - mean)


@dataclass(frozen=True)
class Autocorrelation:
    """Un-normalised ACF C(t) (eV²) at lags ``times_fs``; ``estimator`` as in the module doc."""

    times_fs: NDArray
    acf_ev2: NDArray
    estimator: str


def autocorrelation(
    fluctuation_ev: ArrayLike,
    dt_fs: float,
    estimator: Literal["unbiased", "biased"] = "unbiased",
) -> Autocorrelation:
    """C(k dt) = Σ_n δE(n+k) δE(n) / (N−k or N), lags 0..N−1, via zero-padded FFT (eV²)."""
    signal = _validated_signal(fluctuation_ev, dt_fs)
    n = signal.size
    spectrum = np.fft.rfft(signal, 2 * n)
    sums = np.fft.irfft(np.abs(spectrum) ** 2, 2 * n)[:n]
    if estimator == "unbiased":
        acf = sums / (n - np.arange(n))
    elif estimator == "biased":
        acf = sums / n
    else:
        raise SpectraInputError(f"estimator must be 'unbiased' or 'biased', got {estimator!r}")
    return Autocorrelation(times_fs=dt_fs * np.arange(n), acf_ev2=acf, estimator=estimator)


@dataclass(frozen=True)
class SpectralDensity:
    """Spectral density I(ν̃) (eV²·fs) on ``frequencies_cm`` (cm⁻¹, from 0 to Nyquist).

    ``resolution_cm``: 1/(c · ``transform_length_fs``) for the periodogram, the FWHM of
    the spectral window for ``acf`` (``lag_window`` names the taper). ``resolved`` is None when no
    resolution was requested, else whether ``resolution_cm`` ≤ the requested one;
    ``resolution_note`` says in words what trajectory length the request needs.
    """

    frequencies_cm: NDArray
    intensity: NDArray
    method: str
    lag_window: str
    resolution_cm: float
    transform_length_fs: float
    trajectory_length_fs: float
    resolved: bool | None = None
    resolution_note: str = field(default="")


def _resolution_verdict(
    resolution: float, requested: float, transform_fs: float, trajectory_fs: float
) -> tuple[bool, str]:
    needed_fs = trajectory_fs * resolution / requested  # resolution ∝ 1/length
    if resolution <= requested:
        return True, f"resolution {resolution:.1f} cm^-1 meets the requested {requested:.1f}"
    return False, (
        f"trajectory of {trajectory_fs:.0f} fs resolves only {resolution:.1f} cm^-1 "
        f"(Δν̃ = 1/(c T)); resolving {requested:.1f} cm^-1 needs a trajectory of "
        f"≥ {needed_fs:.0f} fs (T ≥ 1/(c Δν̃) = {required_length_fs(requested):.0f} fs "
        "of transformed signal)"
    )


def lag_window(name: str, lags: int) -> NDArray:
    """Lag window w(k), k = 0..``lags`` (dimensionless, w(0) = 1): ``hann`` or ``rectangular``."""
    k = np.arange(lags + 1)
    if name == "hann":
        return np.asarray(0.5 * (1.0 + np.cos(np.pi * k / lags)))
    if name == "rectangular":
        return np.ones(lags + 1)
    raise SpectraInputError(f"lag_window must be 'hann' or 'rectangular', got {name!r}")


def lag_window_fwhm_cm(name: str, lags: int, dt_fs: float) -> float:
    """FWHM (cm⁻¹) of the spectral window W(f) = FT of the symmetric lag window.

    A line at ν̃₀ appears in the ``acf`` spectrum as W(ν̃ − ν̃₀), so this FWHM is the
    resolution. Computed on a 64× zero-padded FFT with linear interpolation at W(0)/2.
    """
    weights = lag_window(name, lags)
    size = 64 * (2 * lags + 1)
    symmetric = np.zeros(size)
    symmetric[: lags + 1] = weights
    symmetric[size - lags :] = weights[1:][::-1]
    response = np.fft.rfft(symmetric).real
    below = int(np.argmax(response < 0.5 * response[0]))
    before, after = response[below - 1], response[below]
    crossing = below - 1 + (before - 0.5 * response[0]) / (before - after)
    frequency_per_fs = crossing / (size * dt_fs)
    return float(2.0 * frequency_per_fs / SPEED_OF_LIGHT_CM_PER_FS)


def _transform(
    signal: NDArray, dt_fs: float, method: str, max_lag_fs: float | None, window: str
) -> tuple[NDArray, float, float]:
    """Intensity (eV²·fs) on the rfft grid, the length (fs) transformed, resolution (cm⁻¹)."""
    n = signal.size
    if method == "power":
        return (
            dt_fs / n * np.abs(np.fft.rfft(signal)) ** 2,
            n * dt_fs,
            1.0 / (SPEED_OF_LIGHT_CM_PER_FS * n * dt_fs),
        )
    if method != "acf":
        raise SpectraInputError(f"method must be 'power' or 'acf', got {method!r}")
    lags = n // 2 if max_lag_fs is None else round(max_lag_fs / dt_fs)
    if not 1 <= lags < n:
        raise SpectraInputError(f"max_lag_fs must lie in (0, {n * dt_fs:g}) fs")
    acf = np.zeros(n)
    acf[: lags + 1] = autocorrelation(signal, dt_fs).acf_ev2[: lags + 1] * lag_window(window, lags)
    intensity = dt_fs * (2.0 * np.fft.rfft(acf).real - acf[0])
    return intensity, lags * dt_fs, lag_window_fwhm_cm(window, lags, dt_fs)


def spectral_density(
    fluctuation_ev: ArrayLike,
    dt_fs: float,
    *,
    method: Literal["power", "acf"] = "power",
    max_lag_fs: float | None = None,
    lag_window_name: Literal["hann", "rectangular"] = "hann",
    required_resolution_cm: float | None = None,
    on_unresolved: Literal["raise", "flag"] = "raise",
) -> SpectralDensity:
    """Spectral density of a gap fluctuation (conventions in the module docstring).

    With ``required_resolution_cm`` the resolution is checked: ``on_unresolved="raise"``
    raises :class:`ResolutionError` naming the needed trajectory length, ``"flag"``
    returns the spectrum with ``resolved=False`` and that message in ``resolution_note``.
    """
    signal = _validated_signal(fluctuation_ev, dt_fs)
    trajectory_fs = signal.size * dt_fs
    frequencies = np.fft.rfftfreq(signal.size, dt_fs) / SPEED_OF_LIGHT_CM_PER_FS
    intensity, transform_fs, resolution = _transform(
        signal, dt_fs, method, max_lag_fs, lag_window_name
    )
    window = "none (periodogram)" if method == "power" else f"{lag_window_name} lag window"
    resolved: bool | None = None
    note = f"resolution {resolution:.1f} cm^-1 (FWHM, {window}, {transform_fs:.0f} fs)"
    if required_resolution_cm is not None:
        resolved, note = _resolution_verdict(
            resolution, required_resolution_cm, transform_fs, trajectory_fs
        )
        if not resolved and on_unresolved == "raise":
            raise ResolutionError(note)
    return SpectralDensity(
        frequencies_cm=frequencies,
        intensity=intensity,
        method=method,
        lag_window=window,
        resolution_cm=resolution,
        transform_length_fs=transform_fs,
        trajectory_length_fs=trajectory_fs,
        resolved=resolved,
        resolution_note=note,
    )


@dataclass(frozen=True)
class SpectralPeak:
    """One peak: position (cm⁻¹), height and prominence (eV²·fs)."""

    frequency_cm: float
    intensity: float
    prominence: float


def find_spectral_peaks(
    density: SpectralDensity,
    *,
    prominence_fraction: float = 0.05,
    max_frequency_cm: float | None = None,
) -> tuple[SpectralPeak, ...]:
    """Peaks (ascending in frequency) whose prominence ≥ fraction × the largest intensity.

    The ν̃ = 0 bin is skipped (the mean was removed). Positions are bin centres, so they
    are accurate to ± ``density.resolution_cm`` / 2.
    """
    if not 0 < prominence_fraction < 1:
        raise SpectraInputError(f"prominence_fraction must be in (0, 1), got {prominence_fraction}")
    keep = density.frequencies_cm > 0
    if max_frequency_cm is not None:
        keep &= density.frequencies_cm <= max_frequency_cm
    frequencies = density.frequencies_cm[keep]
    intensity = density.intensity[keep]
    if intensity.size == 0:
        return ()
    indices, properties = find_peaks(intensity, prominence=prominence_fraction * intensity.max())
    return tuple(
        SpectralPeak(float(frequencies[i]), float(intensity[i]), float(p))
        for i, p in zip(indices, properties["prominences"], strict=True)
    )
