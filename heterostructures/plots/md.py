"""Figure of an MD run: temperature, and total, potential and kinetic energy against time.

One energy axis (eV) for the three: E_tot − E_tot(0), E_pot − E_tot(0) and E_kin, so that
in NVE the potential and kinetic curves mirror each other about the flat total
(E_tot = E_pot + E_kin, :attr:`heterostructures.io.pw_md_output.Trajectory.total_energy_ev`).
Plain matplotlib ``Figure``; files through :mod:`heterostructures.plots.files`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.figure import Figure
from numpy.typing import ArrayLike

from heterostructures.io.pw_md_output import Trajectory
from heterostructures.plots.files import save_figure


def md_figure(
    times_fs: ArrayLike,
    temperature_k: ArrayLike,
    potential_energy_ev: ArrayLike,
    kinetic_energy_ev: ArrayLike,
    production_start_fs: float | None = None,
    target_k: float | None = None,
) -> Figure:
    """T (K) above the energies (eV) against t (fs): total and potential relative to the
    total at frame 0, kinetic as it is; dotted: the start of the NVE production, dashed:
    the target temperature."""
    times = np.asarray(times_fs, dtype=float)
    potential = np.asarray(potential_energy_ev, dtype=float)
    kinetic = np.asarray(kinetic_energy_ev, dtype=float)
    if not times.shape == potential.shape == kinetic.shape == np.shape(temperature_k):
        raise ValueError("times, temperature and energies need one value per frame each")
    total = potential + kinetic
    figure = Figure(figsize=(6, 5), layout="constrained")
    ax_t, ax_e = figure.subplots(2, 1, sharex=True)
    ax_t.plot(times, np.asarray(temperature_k, dtype=float), color="tab:red")
    ax_t.set_ylabel("T (K)")
    if target_k is not None:
        ax_t.axhline(target_k, color="k", linestyle="--", linewidth=0.8, label="target")
        ax_t.legend(fontsize=7, loc="lower right", frameon=False)
    reference = total[0]
    ax_e.plot(times, total - reference, color="k", label="total E$_{tot}$ − E$_{tot}$(0)")
    ax_e.plot(
        times, potential - reference, color="tab:blue", label="potential E$_{pot}$ − E$_{tot}$(0)"
    )
    ax_e.plot(times, kinetic, color="tab:orange", label="kinetic E$_{kin}$")
    ax_e.set_xlabel("t (fs)")
    ax_e.set_ylabel("energy (eV)")
    ax_e.legend(fontsize=7, loc="lower left", bbox_to_anchor=(0.0, 1.0), ncols=3, frameon=False)
    if production_start_fs is not None:
        for axis in (ax_t, ax_e):
            axis.axvline(production_start_fs, color="grey", linestyle=":")
    return figure


def plot_temperature_and_energy(
    trajectory: Trajectory,
    path: str | Path,
    production_start_fs: float | None = None,
    target_k: float | None = None,
) -> Path:
    """Write :func:`md_figure` of a trajectory to ``path`` (format by suffix; PNG 300 dpi)."""
    figure = md_figure(
        trajectory.times_fs,
        trajectory.temperature_k,
        trajectory.potential_energy_ev,
        trajectory.kinetic_energy_ev,
        production_start_fs,
        target_k,
    )
    return save_figure(figure, path)
