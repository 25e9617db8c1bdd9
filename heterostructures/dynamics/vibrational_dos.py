"""Element-resolved vibrational density of states, and which elements move at a gap peak.

Why: a peak of the IS–FS gap spectral density (Fig. 4c of the paper) says *that* a mode at
that wavenumber modulates the gap, not *which* atoms carry it. The paper assigns its peaks
to PbBr₆ bending, Cs rattling and Cd–S stretching by literature; here the assignment comes
from the same MD: the kinetic-energy spectrum of each element at the peak's wavenumber.

Conventions:

* Mass-weighted power spectrum of the velocities of atom i (mean removed, component-summed)
  D_i(ν̃) = m_i (dt / N) |Σ_n v_i(n dt) exp(−2πi f n dt)|², in amu·Å²/fs (velocities Å/fs,
  dt fs). By Parseval, Σ_k D_i(ν̃_k) / (N dt) = m_i ⟨|v_i − ⟨v_i⟩|²⟩, so the one-sided
  sum over the rfft bins (interior bins doubled) of ``total`` is twice the mean kinetic
  energy in amu·Å²/fs² — the check the tests make.
* The element spectrum D_e = Σ_{i∈e} D_i; frequencies ν̃ = f / c (cm⁻¹), on the same
  periodogram grid as :func:`heterostructures.dynamics.spectra.spectral_density`
  (``method="power"``): bin spacing 1 / (c N dt).
* A peak's share of element e: Σ D_e / Σ_e' D_e' over the bins within ± ``half_width_cm``
  of the peak. It is "assigned" to e when that share is ≥ ``dominant_share`` (0.5),
  otherwise "mixed". Its ``weight`` is the mean total D in the window divided by the mean
  over all bins > 0: a peak where no atom moves (weight ≪ 1) is flagged, since the gap
  then follows no vibration at that wavenumber (noise, or an overtone/combination).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from heterostructures.units import SPEED_OF_LIGHT_CM_PER_FS

DOMINANT_SHARE = 0.5
"""Share of the kinetic-energy spectrum above which one element is named for a peak."""

LOW_WEIGHT = 0.2
"""Window weight (relative to the mean over all bins) below which a peak is flagged."""


class VibrationalInputError(ValueError):
    """Raised when velocities, masses or symbols cannot be analysed as given."""


@dataclass(frozen=True)
class ElementSpectra:
    """Kinetic-energy spectra per element (amu·Å²/fs) on one wavenumber grid (cm⁻¹)."""

    frequencies_cm: NDArray
    by_element: dict[str, NDArray]
    resolution_cm: float

    @property
    def total(self) -> NDArray:
        """Sum over elements (amu·Å²/fs)."""
        return np.sum(list(self.by_element.values()), axis=0)


@dataclass(frozen=True)
class PeakAssignment:
    """Which elements move at one gap peak (cm⁻¹): shares (0–1), verdict and weight."""

    frequency_cm: float
    shares: dict[str, float]
    assigned_to: str
    weight: float
    low_weight: bool


def element_of(kind_name: str) -> str:
    """The element of an AiiDA/pw.x kind name (``Cd1`` → ``Cd``, ``Br_top`` → ``Br``)."""
    letters = ""
    for character in kind_name:
        if not character.isalpha() or (letters and character.isupper()):
            break
        letters += character
    if not letters:
        raise VibrationalInputError(f"kind name {kind_name!r} does not start with an element")
    return letters[:2].capitalize() if len(letters) > 1 else letters.upper()


def _checked(velocities: ArrayLike, masses: ArrayLike, symbols: list[str]) -> tuple[NDArray, ...]:
    v = np.asarray(velocities, dtype=float)
    m = np.asarray(masses, dtype=float)
    if v.ndim != 3 or v.shape[2] != 3:
        raise VibrationalInputError(f"velocities must be (frames, atoms, 3), got {v.shape}")
    if v.shape[0] < 8:
        raise VibrationalInputError(f"need ≥ 8 frames for a spectrum, got {v.shape[0]}")
    if m.shape != (v.shape[1],) or len(symbols) != v.shape[1]:
        raise VibrationalInputError(
            f"{v.shape[1]} atoms in the velocities, {m.shape} masses, {len(symbols)} symbols"
        )
    if not (np.all(np.isfinite(v)) and np.all(m > 0)):
        raise VibrationalInputError("velocities must be finite and masses > 0")
    return v, m


def element_spectra(
    velocities: ArrayLike, masses_amu: ArrayLike, symbols: list[str], dt_fs: float
) -> ElementSpectra:
    """Mass-weighted velocity power spectra summed per element (see the module docstring).

    ``velocities`` (frames × atoms × 3, Å/fs), ``masses_amu`` per atom, ``symbols`` per
    atom (kind names are reduced to elements), ``dt_fs`` the frame spacing.
    """
    if not dt_fs > 0:
        raise VibrationalInputError(f"dt_fs must be > 0, got {dt_fs}")
    v, m = _checked(velocities, masses_amu, symbols)
    n_frames = v.shape[0]
    fluctuation = v - v.mean(axis=0)
    amplitude = np.fft.rfft(fluctuation, axis=0)
    per_atom = (dt_fs / n_frames) * np.sum(np.abs(amplitude) ** 2, axis=2) * m[None, :]
    elements = [element_of(name) for name in symbols]
    by_element = {
        element: per_atom[:, [e == element for e in elements]].sum(axis=1)
        for element in dict.fromkeys(elements)
    }
    frequencies = np.fft.rfftfreq(n_frames, d=dt_fs) / SPEED_OF_LIGHT_CM_PER_FS
    resolution = 1.0 / (SPEED_OF_LIGHT_CM_PER_FS * n_frames * dt_fs)
    return ElementSpectra(frequencies, by_element, float(resolution))


def assign_peaks(
    peaks_cm: ArrayLike,
    spectra: ElementSpectra,
    half_width_cm: float | None = None,
    dominant_share: float = DOMINANT_SHARE,
) -> tuple[PeakAssignment, ...]:
    """Element shares of the kinetic-energy spectrum at each gap peak (cm⁻¹).

    ``half_width_cm`` defaults to the spectra's bin spacing, so the window holds the
    peak's bin and its two neighbours: a gap peak is accurate to ± half a bin only.
    """
    half_width = spectra.resolution_cm if half_width_cm is None else half_width_cm
    if not half_width > 0:
        raise VibrationalInputError(f"half_width_cm must be > 0, got {half_width}")
    positive = spectra.frequencies_cm > 0
    mean_total = float(spectra.total[positive].mean())
    assignments = []
    for peak in np.atleast_1d(np.asarray(peaks_cm, dtype=float)):
        window = np.abs(spectra.frequencies_cm - peak) <= half_width + 1e-9
        window &= positive
        sums = {e: float(d[window].sum()) for e, d in spectra.by_element.items()}
        total = sum(sums.values())
        shares = {e: (s / total if total > 0 else 0.0) for e, s in sums.items()}
        leader = max(shares, key=lambda e: shares[e])
        weight = float(spectra.total[window].mean()) / mean_total if window.any() else 0.0
        assignments.append(
            PeakAssignment(
                frequency_cm=float(peak),
                shares=shares,
                assigned_to=leader if shares[leader] >= dominant_share else "mixed",
                weight=weight,
                low_weight=weight < LOW_WEIGHT,
            )
        )
    return tuple(assignments)
