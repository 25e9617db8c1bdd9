"""Figures of the non-adiabatic analysis: the paper's Fig. 4c (spectral density of the IS–FS
gap) and Fig. 4d (populations and energy relaxation), each written as a vector file (SVG)
and a 300 dpi PNG (:mod:`heterostructures.plots.files`).

Fig. 4d shows the population τ_ET is fitted to as the solid line (the donor-domain
population P_D(t) = Σ_i P_i(t) w_i^D(t) of :mod:`heterostructures.electronic.domain_populations`
when the snapshots carry domain weights), its exp(−t/τ_ET) fit dotted, and P_IS(t), the
population of the initial state, dashed: the two differ by relaxation inside the donor,
which is not transfer. Plain matplotlib (``Figure``, no pyplot state), no AiiDA.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from numpy.typing import ArrayLike


@dataclass(frozen=True)
class DecayLabel:
    """What a plot says about one fitted τ (fs): the value ± σ, or a lower bound."""

    name: str
    tau_fs: float
    sigma_fs: float
    determined: bool
    lower_bound_fs: float

    def text(self) -> str:
        """``τ_ET = 801 ± 40 fs`` or ``τ_ET ≥ 900 fs (not determined)`` (mathtext)."""
        if self.determined:
            return f"τ$_{{{self.name}}}$ = {self.tau_fs:.0f} ± {self.sigma_fs:.0f} fs"
        return f"τ$_{{{self.name}}}$ ≥ {self.lower_bound_fs:.0f} fs (not determined)"


def spectral_density_figure(
    frequencies_cm: ArrayLike,
    intensity: ArrayLike,
    peaks_cm: list[float],
    resolution_cm: float,
    resolved: bool,
) -> Figure:
    """Fig. 4c: I(ν̃) (eV² fs against cm⁻¹) with the peaks marked and the resolution stated
    (drawn by :func:`draw_spectral_density`)."""
    figure = Figure(figsize=(6, 3.5), layout="constrained")
    draw_spectral_density(
        figure.add_subplot(), frequencies_cm, intensity, peaks_cm, resolution_cm, resolved
    )
    return figure


def draw_spectral_density(
    axes: Axes,
    frequencies_cm: ArrayLike,
    intensity: ArrayLike,
    peaks_cm: list[float],
    resolution_cm: float,
    resolved: bool,
    note_side: str = "right",
) -> None:
    """I(ν̃) (eV² fs against cm⁻¹) on ``axes``, peaks dotted, the resolution in the title.

    A spectrum too coarse for the peaks asked for is drawn as stems at its frequency bins:
    a line through a few bins 334 cm⁻¹ apart would draw a peak that is not there. The
    note saying so sits in the top ``note_side`` ("left"/"right") corner, off the stems.
    """
    frequencies = np.asarray(frequencies_cm, dtype=float)
    values = np.asarray(intensity, dtype=float)
    if resolved:
        axes.plot(frequencies, values, color="tab:blue")
    else:
        axes.stem(frequencies, values, linefmt="tab:blue", markerfmt="o", basefmt="0.6")
        axes.text(
            0.98 if note_side == "right" else 0.02, 0.95,
            f"bins {resolution_cm:.0f} cm$^{{-1}}$ apart: no peak can be resolved",
            transform=axes.transAxes, ha=note_side, va="top", fontsize=8,
        )  # fmt: skip
    for peak in peaks_cm:
        axes.axvline(peak, color="0.6", lw=0.8, ls=":")
    axes.set_xlim(0, min(float(frequencies.max()), 600.0))
    axes.set_xlabel("frequency (cm$^{-1}$)")
    axes.set_ylabel("spectral density (eV$^2$ fs)")
    verdict = "resolved" if resolved else "NOT resolved"
    axes.set_title(f"IS–FS gap, Δν̃ = {resolution_cm:.0f} cm$^{{-1}}$ ({verdict})", fontsize=9)


@dataclass(frozen=True)
class DynamicsCurves:
    """Fig. 4d data: times (fs), the fitted population, P_IS(t) and E(t) − E_FS (eV).

    ``transfer_domain``: the donor domain whose population τ_ET is fitted to, or None when
    it is fitted to P_IS(t) itself (no domain weights). ``transfer_population_sem``: the
    standard error of the fitted population over the initial times
    (:func:`heterostructures.dynamics.na_analysis.standard_error_over_starts`), drawn as a
    ±1 SE band; None or NaN (one initial time) draws no band.
    """

    times_fs: ArrayLike
    transfer_population: ArrayLike
    initial_state_population: ArrayLike
    energy_ev: ArrayLike
    transfer_domain: str | None
    transfer_population_sem: ArrayLike | None = None


def _uncertainty_band(axes: Axes, times: np.ndarray, curves: DynamicsCurves) -> None:
    """Mean ± 1 standard error of the fitted population, shaded, when it is known."""
    if curves.transfer_population_sem is None:
        return
    sem = np.asarray(curves.transfer_population_sem, dtype=float)
    if not np.isfinite(sem).any():
        return
    mean = np.asarray(curves.transfer_population, dtype=float)
    axes.fill_between(
        times,
        mean - sem,
        mean + sem,
        where=np.isfinite(sem),
        color="tab:red",
        alpha=0.2,
        lw=0,
        label="± 1 standard error over initial times",
    )


def _population_axes(axes: Axes, curves: DynamicsCurves, transfer: DecayLabel) -> None:
    times = np.asarray(curves.times_fs, dtype=float)
    fitted = "IS" if curves.transfer_domain is None else curves.transfer_domain
    axes.plot(
        times,
        np.asarray(curves.transfer_population, dtype=float),
        color="tab:red",
        label=f"P$_{{{fitted}}}$(t) (τ$_{{ET}}$ fitted)",
    )
    _uncertainty_band(axes, times, curves)
    if np.isfinite(transfer.tau_fs) and transfer.tau_fs > 0:
        axes.plot(
            times,
            np.exp(-(times - times[0]) / transfer.tau_fs),
            color="tab:red",
            ls=":",
            lw=0.8,
            label=f"exp(−t/τ$_{{ET}}$), {transfer.text()}",
        )
    if curves.transfer_domain is not None:
        axes.plot(
            times,
            np.asarray(curves.initial_state_population, dtype=float),
            color="tab:red",
            ls="--",
            alpha=0.6,
            label="P$_{IS}$(t) (initial state)",
        )
    axes.set_xlabel("time (fs)")
    axes.set_ylabel("population", color="tab:red")
    axes.set_ylim(0, _population_top(curves))


def _population_top(curves: DynamicsCurves) -> float:
    """Upper y limit: 1.05, or above the highest drawn value (mean + standard error).

    Why: the domain-projected population is normalised by its value at t = 0, so it can
    exceed 1 when the state's weight on the donor domain grows along the trajectory (the
    0.12 demo's 100 fs replayed for 2 ps reached 1.45 at its recurrences); a fixed limit cut
    those excursions off the figure.
    """
    drawn = [np.asarray(curves.transfer_population, dtype=float)]
    if curves.transfer_population_sem is not None:
        drawn.append(drawn[0] + np.asarray(curves.transfer_population_sem, dtype=float))
    drawn.append(np.asarray(curves.initial_state_population, dtype=float))
    finite = np.concatenate([values[np.isfinite(values)] for values in drawn])
    highest = float(finite.max()) if finite.size else 1.0
    return max(1.05, 1.02 * highest)


def dynamics_figure(
    curves: DynamicsCurves, transfer: DecayLabel, relaxation: DecayLabel, title: str
) -> Figure:
    """Fig. 4d: the fitted population (solid), its fit (dotted), P_IS(t) (dashed) on top,
    E(t) − E_FS on its own panel below, sharing the time axis.

    Two panels rather than twin axes: E(t) of a short trajectory replayed for picoseconds
    oscillates with the trajectory's period and, on a twin axis, hid the populations. The
    legend sits above the data. ``title`` names the method and the number of trajectories.
    """
    figure = Figure(figsize=(6, 5.0), layout="constrained")
    top, bottom = figure.subplots(2, 1, sharex=True, height_ratios=[3, 2])
    _population_axes(top, curves, transfer)
    top.set_xlabel("")
    top.legend(fontsize=7, loc="lower left", bbox_to_anchor=(0.0, 1.02), ncols=2, frameon=False)
    bottom.plot(
        np.asarray(curves.times_fs, dtype=float),
        np.asarray(curves.energy_ev, dtype=float),
        color="tab:blue",
        lw=0.6,
    )
    bottom.set_ylabel("E(t) − E$_{FS}$ (eV)", color="tab:blue")
    bottom.set_xlabel("time (fs)")
    bottom.set_title(relaxation.text(), fontsize=7, loc="left")
    figure.suptitle(title, fontsize=8)
    return figure
