"""The IS–FS gap series from the MD itself: spectral density and dephasing without snapshots.

pw.x prints the Kohn–Sham energies after every MD step's SCF (see
:mod:`heterostructures.io.pw_md_eigenvalues`); ``janus.aimd`` stores them as its
``band_energies`` output when it runs with ``empty_bands``. The gap between the IS and FS
bands (pw.x numbering, as ``janus.na_analysis``'s ``initial_band``/``final_band``) at every
NVE step then gives the spectral density and the pure dephasing with the same code and
settings as :func:`workflows.calcfunctions.na.gap_spectral_analysis`, at the MD time step
and for every MD step, so snapshot SCFs are needed only for the NACs.

Difference from the snapshot path: the columns are band indices (adiabatic order), not
states tracked through crossings by their overlaps; where the IS and FS bands cross, the
two series differ. The summary says so (``gap_source``) and gives the smallest gap met.
"""

from __future__ import annotations

import numpy as np
from aiida import orm
from aiida.engine import calcfunction

from heterostructures.io.pw_md_eigenvalues import MdEigenvalues, band_window_energies
from workflows.calcfunctions.na import gap_spectral_outputs


@calcfunction
def md_gap_spectral_analysis(
    band_energies: orm.ArrayData, bands: orm.Dict, settings: orm.Dict
) -> dict[str, orm.Data]:
    """Gap spectral density and pure dephasing of the IS–FS gap of every NVE MD step.

    ``bands``: ``initial_band`` and ``final_band`` (pw.x numbering, 1-based),
    ``production_start_fs`` (the first NVE time). ``settings``: as for
    ``gap_spectral_analysis``. Outputs: the same nodes (``gap``, ``spectral_density``,
    ``dephasing``, ``spectral_summary``).
    """
    options = bands.get_dict()
    initial, final = int(options["initial_band"]), int(options["final_band"])
    first, last = min(initial, final), max(initial, final)
    times = band_energies.get_array("times_fs")
    window = times >= float(options["production_start_fs"])
    eigenvalues = MdEigenvalues(
        steps=band_energies.get_array("steps")[window],
        eigenvalues_ev=band_energies.get_array("eigenvalues_ev")[window],
    )
    energies = band_window_energies(eigenvalues, first, last)
    dt_fs = float(band_energies.base.attributes.get("dt_fs"))
    outputs = gap_spectral_outputs(energies, dt_fs, initial - first, final - first, settings)
    gap = energies[:, initial - first] - energies[:, final - first]
    summary = outputs["spectral_summary"].get_dict()
    summary["gap_source"] = (
        f"Kohn-Sham energies printed by pw.x after each of {len(gap)} NVE MD steps, bands "
        f"{initial} (IS) and {final} (FS) by index (no state tracking)"
    )
    summary["smallest_gap_ev"] = float(np.min(np.abs(gap)))
    outputs["spectral_summary"] = orm.Dict(summary)
    return outputs
