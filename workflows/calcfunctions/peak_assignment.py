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

from heterostructures.dynamics.vibrational_dos import (
    DOMINANT_SHARE,
    LOW_WEIGHT,
    assign_peaks,
    element_of,
    element_spectra,
)


@calcfunction
def gap_peak_assignment(
    trajectory: orm.TrajectoryData, spectral_summary: orm.Dict, settings: orm.Dict
) -> dict[str, orm.Data]:
    """Element shares of the kinetic-energy spectrum at every gap peak.

    ``settings``: ``production_start_fs`` (only NVE frames are used, the same frames as
    the MD gap series). Masses are ASE's standard atomic masses of each kind's element
    (amu), as the pw.x inputs the pipeline writes use them. Outputs ``peak_assignment``
    (Dict: per peak the shares, the element named or "mixed", the window weight) and
    ``element_spectra`` (ArrayData: ``frequencies_cm`` and one array per element,
    amu·Å²/fs).
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
    return {"peak_assignment": orm.Dict(summary), "element_spectra": arrays}
