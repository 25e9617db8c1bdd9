"""Is an MD trajectory usable: energy drift, temperature, stationarity, snapshot windows.

Diagnostics of a window of frames of a :class:`heterostructures.io.pw_md_output.Trajectory`
(drift of the total energy, mean and spread of the temperature, the two halves of the
window compared), the verdict whether the NVE production is thermalised at the target,
and the frames handed to the NA step. Units: Å, fs, eV, K.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from heterostructures.io.pw_md_output import Trajectory, TrajectoryError


@dataclass(frozen=True)
class MdDiagnostics:
    """Energy conservation, temperature and stationarity of a window of frames.

    ``drift_ev_per_atom_per_ps`` is the slope of a linear fit of the total energy against
    time, per atom; meaningful for NVE only. The window is also cut in two halves (by
    frame count): their mean temperatures (K) and the change of the mean potential
    energy from the first to the second half (eV), compared with the mean kinetic
    energy (eV, = n_dof k_B T / 2), test whether the run is stationary.
    """

    n_frames: int
    duration_fs: float
    drift_ev_per_atom_per_ps: float
    total_energy_std_ev: float
    temperature_mean_k: float
    temperature_std_k: float
    temperature_first_half_k: float
    temperature_second_half_k: float
    potential_energy_change_ev: float
    kinetic_energy_mean_ev: float


def md_diagnostics(trajectory: Trajectory, start_fs: float = 0.0) -> MdDiagnostics:
    """Drift (eV/atom/ps), T (K) and half-window stationarity of frames at or after ``start_fs``."""
    window = trajectory.times_fs >= start_fs
    times = trajectory.times_fs[window]
    if len(times) < 2:
        raise TrajectoryError(f"need at least two frames after {start_fs} fs for diagnostics.")
    total = trajectory.total_energy_ev[window]
    slope_ev_per_fs = np.polyfit(times, total, 1)[0]
    temperature = trajectory.temperature_k[window]
    potential = trajectory.potential_energy_ev[window]
    half = len(times) // 2
    return MdDiagnostics(
        n_frames=len(times),
        duration_fs=float(times[-1] - times[0]),
        drift_ev_per_atom_per_ps=float(slope_ev_per_fs * 1000.0 / len(trajectory.masses_amu)),
        total_energy_std_ev=float(np.std(total)),
        temperature_mean_k=float(np.mean(temperature)),
        temperature_std_k=float(np.std(temperature)),
        temperature_first_half_k=float(np.mean(temperature[:half])),
        temperature_second_half_k=float(np.mean(temperature[half:])),
        potential_energy_change_ev=float(np.mean(potential[half:]) - np.mean(potential[:half])),
        kinetic_energy_mean_ev=float(np.mean(trajectory.kinetic_energy_ev[window])),
    )


THERMALISATION_TOLERANCE_PERCENT = 15.0
"""Largest |mean NVE T − target| (%) still called thermalised; also the largest change
between the two halves of the NVE window, of T (% of the target) and of the mean
potential energy (% of the mean kinetic energy, the equipartition scale).

Why 15 %: the instantaneous temperature of N free atoms fluctuates by T·√(2/3N) (≈ 25 %
for the 13-atom demo model), and 100 fs of NVE holds only a handful of independent
samples of the slow Pb–Br modes, so the mean itself carries ~10 % noise there."""


def thermalisation(
    diagnostics: MdDiagnostics,
    target_k: float,
    tolerance_percent: float = THERMALISATION_TOLERANCE_PERCENT,
) -> dict[str, float | bool | str]:
    """Thermalised = mean NVE T near the target *and* stationary over the window.

    A run still heating or cooling can have the right mean: the halves test catches it.
    Returns the three deviations (%), the tolerance, the verdict and a note saying which
    test failed.
    """
    deviation = 100.0 * (diagnostics.temperature_mean_k - target_k) / target_k
    half_change = (
        100.0
        * (diagnostics.temperature_second_half_k - diagnostics.temperature_first_half_k)
        / target_k
    )
    scale = max(diagnostics.kinetic_energy_mean_ev, 1e-12)  # finite for the JSON Dict
    potential_change = 100.0 * diagnostics.potential_energy_change_ev / scale
    failed = [
        name
        for name, value in (
            ("mean temperature off the target", deviation),
            ("temperature drifts between the NVE halves", half_change),
            ("potential energy drifts between the NVE halves", potential_change),
        )
        if not abs(value) <= tolerance_percent
    ]
    return {
        "target_temperature_k": float(target_k),
        "temperature_deviation_percent": float(deviation),
        "temperature_half_change_percent": float(half_change),
        "potential_energy_half_change_percent": float(potential_change),
        "thermalisation_tolerance_percent": float(tolerance_percent),
        "thermalised": not failed,
        "thermalisation_note": "; ".join(failed) or "stationary, at the target temperature",
    }


@dataclass(frozen=True)
class SnapshotSelection:
    """Frames handed to the NA step: every ``stride``-th frame with start ≤ t ≤ stop (fs)."""

    start_fs: float
    stop_fs: float
    stride: int
    frame_indices: tuple[int, ...]
    times_fs: tuple[float, ...]


def select_snapshots(
    times_fs: np.ndarray, start_fs: float, stop_fs: float | None = None, stride: int = 1
) -> SnapshotSelection:
    """Pick every ``stride``-th frame in the window [start_fs, stop_fs] (stop None = end)."""
    if stride < 1:
        raise TrajectoryError(f"snapshot stride must be ≥ 1, got {stride}.")
    stop = float(times_fs[-1]) if stop_fs is None else stop_fs
    in_window = np.flatnonzero((times_fs >= start_fs - 1e-9) & (times_fs <= stop + 1e-9))
    if len(in_window) == 0:
        raise TrajectoryError(
            f"no frame in the snapshot window {start_fs}–{stop} fs; the trajectory spans "
            f"{times_fs[0]}–{times_fs[-1]} fs."
        )
    chosen = in_window[::stride]
    return SnapshotSelection(
        start_fs=start_fs,
        stop_fs=stop,
        stride=stride,
        frame_indices=tuple(int(i) for i in chosen),
        times_fs=tuple(float(times_fs[i]) for i in chosen),
    )
