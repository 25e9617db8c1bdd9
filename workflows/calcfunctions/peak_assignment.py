"""Which elements move at each peak of the gap spectral density, from the MD's velocities.

Provenance around :mod:`heterostructures.dynamics.vibrational_dos`: the assignment links to
the trajectory it used and to the spectral summary whose peaks it assigns.
"""

from __future__ import annotations

from dataclasses import asdict

import numpy as np
from aiida import orm
from aiida.engine import calcfunction
from ase.data import atomic_masses, atomic_numbers

from heterostructures.dynamics.paper_spectrum import PAPER_GAP_PEAKS
from heterostructures.dynamics.vibrational_dos import (
    DOMINANT_SHARE,
    LOW_WEIGHT,
    PeakAssignment,
    assign_peaks,
    element_of,
    element_spectra,
)
from heterostructures.plots.vibrational import gap_peaks_by_element_figure
from workflows.calcfunctions.figures import figure_nodes


@calcfunction
def gap_peak_assignment(
    trajectory: orm.TrajectoryData,
    spectral_density: orm.ArrayData,
    spectral_summary: orm.Dict,
    settings: orm.Dict,
) -> dict[str, orm.Data]:
    """Element shares of the kinetic-energy spectrum at every gap peak.

    ``settings``: ``production_start_fs`` (only NVE frames are used, the same frames as
    the MD gap series). Masses are ASE's standard atomic masses of each kind's element
    (amu), as the pw.x inputs the pipeline writes use them. Outputs ``peak_assignment``
    (Dict: per peak the shares, the element named or "mixed", the window weight),
    ``element_spectra`` (ArrayData: ``frequencies_cm`` and one array per element,
    amu·Å²/fs) and the figure ``peak_assignment_plot`` (PNG 300 dpi) / ``_vector`` (SVG),
    with the paper's peaks drawn beside ours for comparison only.
    """
    start = float(settings["production_start_fs"])
    times = trajectory.get_array("times")
    frames = times >= start - 1e-9
    velocities = trajectory.get_array("velocities")[frames]
    symbols = list(trajectory.symbols)
    masses = [atomic_masses[atomic_numbers[element_of(name)]] for name in symbols]
    dt_fs = float(np.median(np.diff(times[frames])))
    spectra = element_spectra(velocities, masses, symbols, dt_fs)
    peaks = spectral_summary.get_dict().get("peaks_cm", [])
    assignments = assign_peaks(peaks, spectra)
    arrays = orm.ArrayData()
    arrays.set_array("frequencies_cm", spectra.frequencies_cm)
    for element, density in spectra.by_element.items():
        arrays.set_array(element, density)
    arrays.base.attributes.set("units", "frequencies cm^-1, spectra amu·Å²/fs")
    summary = {
        "peaks": [asdict(assignment) for assignment in assignments],
        "elements": list(spectra.by_element),
        "resolution_cm": spectra.resolution_cm,
        "nve_frames": int(frames.sum()),
        "method": (
            "mass-weighted velocity power spectrum per element over the NVE frames; a peak "
            f"is named after an element holding >= {DOMINANT_SHARE:.0%} of the kinetic-energy "
            f"spectrum within ± one bin, flagged when the window holds < {LOW_WEIGHT} of "
            "the mean spectral weight"
        ),
    }
    figure = gap_peaks_by_element_figure(
        spectral_density.get_array("frequencies_cm"),
        spectral_density.get_array("intensity"),
        spectra.frequencies_cm,
        spectra.by_element,
        [(a.frequency_cm, _label(a)) for a in assignments],
        comparison_cm=[peak.centre_cm for peak in PAPER_GAP_PEAKS],
        resolution_cm=spectral_summary.get_dict().get("resolution_cm"),
        resolved=bool(spectral_summary.get_dict().get("resolved", True)),
    )
    files = figure_nodes(figure, "gap_peaks_by_element")
    return {
        "peak_assignment": orm.Dict(summary),
        "element_spectra": arrays,
        "peak_assignment_plot": files["png"],
        "peak_assignment_plot_vector": files["svg"],
    }


def _label(assignment: PeakAssignment) -> str:
    """``'121: Cs 64%'``, ``'233: mixed'``; a trailing ``?`` when no atom moves there."""
    text = f"{assignment.frequency_cm:.0f}: {assignment.assigned_to}"
    if assignment.assigned_to != "mixed":
        text += f" {assignment.shares[assignment.assigned_to]:.0%}"
    return text + (" ?" if assignment.low_weight else "")
