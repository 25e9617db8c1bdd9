"""Figure: the gap spectral density above the element-resolved kinetic-energy spectra.

Read together: a peak of the IS–FS gap spectrum (top) is assigned to the elements whose
atoms carry kinetic energy at the same wavenumber (bottom, shares stacked to 1 where any
atom moves). Comparison wavenumbers (e.g. a paper's peaks) are drawn as grey ticks and
only labelled as such: they are never used in the assignment.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from numpy.typing import ArrayLike

from heterostructures.plots.na import draw_spectral_density

ELEMENT_COLOURS = {
    "Cs": "tab:purple",
    "Pb": "0.35",
    "Br": "tab:brown",
    "Cl": "tab:green",
    "I": "tab:pink",
    "Cd": "tab:orange",
    "Zn": "tab:cyan",
    "S": "gold",
    "Se": "tab:olive",
    "Te": "tab:blue",
}


def gap_peaks_by_element_figure(
    frequencies_cm: ArrayLike,
    gap_intensity: ArrayLike,
    element_frequencies_cm: ArrayLike,
    element_spectra: Mapping[str, ArrayLike],
    peak_labels: Sequence[tuple[float, str]],
    comparison_cm: Sequence[float] = (),
    max_frequency_cm: float = 500.0,
    resolution_cm: float | None = None,
    resolved: bool = True,
) -> Figure:
    """Two panels sharing the wavenumber axis (cm⁻¹).

    Top: gap spectral density (eV²·fs) with each assigned peak labelled (``peak_labels``:
    wavenumber, text); an unresolved spectrum (``resolved`` False, bins ``resolution_cm``
    apart) is drawn as stems at its bins, as in Fig. 4c
    (:func:`~heterostructures.plots.na.draw_spectral_density`), so no line through three
    bins draws a peak that is not there. Bottom: each element's share of the
    kinetic-energy spectrum (amu·Å²/fs normalised per bin), stacked; bins where no atom
    moves are left blank. ``comparison_cm``: wavenumbers drawn as grey ticks for
    comparison only.
    """
    frequencies = np.asarray(frequencies_cm, dtype=float)
    element_grid = np.asarray(element_frequencies_cm, dtype=float)
    spectra = {e: np.asarray(d, dtype=float) for e, d in element_spectra.items()}
    total = np.sum(list(spectra.values()), axis=0)
    figure = Figure(figsize=(6.5, 5.0), layout="constrained")
    top, bottom = figure.subplots(2, 1, sharex=True, height_ratios=(1.0, 1.0))
    _gap_panel(top, frequencies, gap_intensity, peak_labels, resolution_cm, resolved)
    base = np.zeros_like(element_grid)
    moving = total > 0
    for element, density in spectra.items():
        share = np.where(moving, density / np.where(moving, total, 1.0), 0.0)
        bottom.fill_between(
            element_grid, base, base + share, step="mid", lw=0,
            color=ELEMENT_COLOURS.get(element), label=element,
        )  # fmt: skip
        base = base + share
    for wavenumber in comparison_cm:
        for axes in (top, bottom):
            axes.axvline(wavenumber, color="0.6", lw=0.6, ls="--")
    if comparison_cm:
        bottom.plot([], [], color="0.6", lw=0.6, ls="--", label="paper (comparison)")
    bottom.set_ylim(0, 1)
    bottom.set_xlim(0, max_frequency_cm)
    bottom.set_xlabel("wavenumber (cm$^{-1}$)")
    bottom.set_ylabel("share of kinetic-energy spectrum")
    bottom.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=7, frameon=False)
    return figure


def _gap_panel(
    top: Axes,
    frequencies: np.ndarray,
    gap_intensity: ArrayLike,
    peak_labels: Sequence[tuple[float, str]],
    resolution_cm: float | None,
    resolved: bool,
) -> None:
    """The gap spectrum panel: a line when resolved, else stems at its bins; peaks labelled."""
    if resolved:
        top.plot(frequencies, np.asarray(gap_intensity, dtype=float), color="tab:blue")
    else:
        spacing = resolution_cm if resolution_cm is not None else float(np.diff(frequencies)[0])
        draw_spectral_density(top, frequencies, gap_intensity, [], spacing, False, "left")
        top.set_xlabel("")
    for wavenumber, text in peak_labels:
        top.axvline(wavenumber, color="tab:red", lw=0.8, ls=":")
        top.annotate(
            text, (wavenumber, 1.0), xycoords=("data", "axes fraction"),
            rotation=90, ha="right", va="top", fontsize=7,
        )  # fmt: skip
    top.set_ylabel("gap spectral density (eV$^2$ fs)")
    top.set_title("IS–FS gap spectrum and the elements moving at its peaks", fontsize=9)
