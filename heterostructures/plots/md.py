"""Figure of an MD run: temperature and energies against time (300 dpi PNG)."""

from __future__ import annotations

from pathlib import Path

from matplotlib.figure import Figure

from heterostructures.io.pw_md_output import Trajectory
from heterostructures.plots.files import save_figure


def plot_temperature_and_energy(
    trajectory: Trajectory,
    path: str | Path,
    production_start_fs: float | None = None,
    target_k: float | None = None,
) -> Path:
    """Write T (K) and potential/total energy (eV, relative to frame 0) against t (fs);
    dotted: the start of the NVE production, dashed: the target temperature."""
    fig = Figure(figsize=(6, 5))
    ax_t, ax_e = fig.subplots(2, 1, sharex=True)
    ax_t.plot(trajectory.times_fs, trajectory.temperature_k, color="tab:red")
    ax_t.set_ylabel("T (K)")
    if target_k is not None:
        ax_t.axhline(target_k, color="k", linestyle="--", linewidth=0.8)
    reference = trajectory.total_energy_ev[0]
    ax_e.plot(trajectory.times_fs, trajectory.total_energy_ev - reference, label="total")
    ax_e.plot(trajectory.times_fs, trajectory.potential_energy_ev - reference, label="potential")
    ax_e.set_xlabel("t (fs)")
    ax_e.set_ylabel("E − E_tot(0) (eV)")
    ax_e.legend()
    if production_start_fs is not None:
        for axis in (ax_t, ax_e):
            axis.axvline(production_start_fs, color="grey", linestyle=":")
    fig.tight_layout()
    return save_figure(fig, path)
