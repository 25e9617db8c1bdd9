"""Figures of the NA Hamiltonian against time: |NAC| per band pair, gap ACF beside I(ν̃).

:func:`nac_figure` draws ħ|d_ij(t)| (meV) of the band pairs of the NA window at the pair
midpoints t + dt/2 (fs), from the stored ``nac_per_fs`` of
:func:`heterostructures.dynamics.nac.couplings_from_overlaps`. :func:`gap_acf_figure` draws
the normalised autocorrelation C(t)/C(0) of the IS–FS gap fluctuation (the origin ACF that
:func:`heterostructures.dynamics.dephasing.pure_dephasing` integrates, not a second
estimate) beside the spectral density (:func:`heterostructures.plots.na.draw_spectral_density`).
Plain matplotlib ``Figure``, no AiiDA; files through :mod:`heterostructures.plots.files`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from matplotlib.figure import Figure
from numpy.typing import ArrayLike, NDArray

from heterostructures.plots.na import draw_spectral_density
from heterostructures.units import HBAR_MEV_FS

MAX_LABELLED_PAIRS = 8
"""Pairs drawn in colour with a legend entry (largest time-mean |NAC|); the rest grey."""


@dataclass(frozen=True)
class PairCouplings:
    """ħ|d_ij(t)| (meV) of one band pair (pw.x numbers ``bands``) at ``times_fs``."""

    bands: tuple[int, int]
    times_fs: NDArray
    magnitude_mev: NDArray


def pair_couplings(
    snapshot_times_fs: ArrayLike, nac_per_fs: ArrayLike, bands: Sequence[int]
) -> list[PairCouplings]:
    """Every pair i < j of the window, |NAC| as an energy ħ|d_ij| (meV), largest mean first.

    ``nac_per_fs``: (n_pairs, n_b, n_b) couplings d_ij (fs⁻¹) between snapshots n and n+1;
    ``snapshot_times_fs``: the n_pairs + 1 snapshot times; ``bands``: pw.x band numbers of
    the n_b window labels. Each coupling is placed at its pair's midpoint time.
    """
    times = np.asarray(snapshot_times_fs, dtype=float)
    nac = np.abs(np.asarray(nac_per_fs))
    if nac.ndim != 3 or nac.shape[1] != nac.shape[2] or nac.shape[1] != len(bands):
        raise ValueError(f"need NAC of shape (n_pairs, {len(bands)}, {len(bands)}): {nac.shape}")
    if times.shape != (nac.shape[0] + 1,):
        raise ValueError(f"need {nac.shape[0] + 1} snapshot times for {nac.shape[0]} pairs")
    midpoints = 0.5 * (times[:-1] + times[1:])
    pairs = [
        PairCouplings((bands[i], bands[j]), midpoints, HBAR_MEV_FS * nac[:, i, j])
        for i in range(len(bands))
        for j in range(i + 1, len(bands))
    ]
    return sorted(pairs, key=lambda pair: -float(pair.magnitude_mev.mean()))


def nac_figure(
    snapshot_times_fs: ArrayLike,
    nac_per_fs: ArrayLike,
    bands: Sequence[int],
    highlight: tuple[int, int] | None = None,
) -> Figure:
    """ħ|d_ij| (meV) against time (fs) for the pairs of the NA window.

    The :data:`MAX_LABELLED_PAIRS` pairs with the largest mean coupling are coloured and
    named, the others drawn thin grey; ``highlight`` (the IS/FS bands, pw.x numbers, in
    either order) is drawn black on top. The legend sits to the right, off the data.
    """
    figure = Figure(figsize=(7, 3.5), layout="constrained")
    axes = figure.add_subplot()
    wanted = None if highlight is None else tuple(sorted(highlight))
    for rank, pair in enumerate(pair_couplings(snapshot_times_fs, nac_per_fs, bands)):
        name = f"{pair.bands[0]}–{pair.bands[1]}"
        if pair.bands == wanted:
            axes.plot(
                pair.times_fs,
                pair.magnitude_mev,
                color="k",
                lw=1.4,
                zorder=3,
                label=f"{name} (IS–FS)",
            )
        elif rank < MAX_LABELLED_PAIRS:
            axes.plot(pair.times_fs, pair.magnitude_mev, lw=0.9, label=name)
        else:
            axes.plot(
                pair.times_fs,
                pair.magnitude_mev,
                color="0.75",
                lw=0.5,
                zorder=1,
                label="other pairs" if rank == MAX_LABELLED_PAIRS else "_nolegend_",
            )
    axes.set_xlabel("time (fs)")
    axes.set_ylabel("ħ|d$_{ij}$| (meV)")
    axes.set_ylim(bottom=0)
    axes.legend(
        title="pw.x bands",
        fontsize=7,
        title_fontsize=7,
        loc="upper left",
        bbox_to_anchor=(1.01, 1.0),
        frameon=False,
    )
    return figure


def normalised_acf(acf_ev2: ArrayLike) -> NDArray:
    """C(t)/C(0) (dimensionless); a gap that does not fluctuate (C(0) = 0) is an error."""
    acf = np.asarray(acf_ev2, dtype=float)
    if acf.ndim != 1 or acf.size < 2 or not acf[0] > 0:
        raise ValueError("need an ACF over ≥ 2 lags with C(0) > 0 (a fluctuating gap)")
    return np.asarray(acf / acf[0])


def gap_acf_figure(
    acf_times_fs: ArrayLike,
    acf_ev2: ArrayLike,
    frequencies_cm: ArrayLike,
    intensity: ArrayLike,
    resolution_cm: float,
    resolved: bool,
) -> Figure:
    """Left: C(t)/C(0) of the IS–FS gap against the lag (fs), σ = √C(0) stated; right:
    the spectral density (eV² fs against cm⁻¹) with its resolution."""
    acf = np.asarray(acf_ev2, dtype=float)
    figure = Figure(figsize=(8, 3.2), layout="constrained")
    left, right = figure.subplots(1, 2, width_ratios=[1, 1.2])
    left.plot(np.asarray(acf_times_fs, dtype=float), normalised_acf(acf), color="tab:purple")
    left.axhline(0.0, color="0.6", lw=0.6)
    left.set_xlabel("time lag (fs)")
    left.set_ylabel("C(t)/C(0) of the IS–FS gap")
    left.set_title(f"σ = √C(0) = {1e3 * np.sqrt(acf[0]):.0f} meV", fontsize=9)
    draw_spectral_density(right, frequencies_cm, intensity, [], resolution_cm, resolved)
    return figure
