"""Units of pw.x molecular dynamics and the sizing of MD chunks for a scheduler walltime.

pw.x takes the MD time step ``dt`` in Rydberg atomic units of time: ħ/Ry =
2 × 2.4188843e-17 s = 4.8377687e-17 s, so 1 fs = 20.6707 Ry a.u. (pw.x 6.7 prints
"Time step = 20.00 a.u., 0.9676 femto-seconds"). Energies are printed in Ry and forces
in Ry/bohr. Kinetic energies here use masses in amu and velocities in Å/fs:
1 amu Å² fs⁻² = 103.6427 eV.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from heterostructures.units import FS_IN_PW_RYDBERG_TIME

MIN_TIMESTEP_FS = 0.1
MAX_TIMESTEP_FS = 5.0


class MdInputError(ValueError):
    """An MD setting that cannot give a physical or runnable trajectory."""


def fs_to_rydberg_time(time_fs: float) -> float:
    """Convert a time in fs to the Rydberg atomic units that pw.x expects for ``dt``."""
    return time_fs * FS_IN_PW_RYDBERG_TIME


def rydberg_time_to_fs(time_ry: float) -> float:
    """Convert a pw.x ``dt`` (Rydberg atomic units) to fs."""
    return time_ry / FS_IN_PW_RYDBERG_TIME


def check_timestep_fs(timestep_fs: float) -> None:
    """Reject time steps outside 0.1–5 fs: too small wastes SCFs, too large breaks Verlet."""
    if not MIN_TIMESTEP_FS <= timestep_fs <= MAX_TIMESTEP_FS:
        raise MdInputError(
            f"time step {timestep_fs} fs is outside the sane range "
            f"{MIN_TIMESTEP_FS}–{MAX_TIMESTEP_FS} fs; use about 1 fs (0.5 fs with light atoms)."
        )


@dataclass(frozen=True)
class ChunkPlan:
    """How many MD steps fit one scheduler job and how many jobs a run needs."""

    total_steps: int
    steps_per_chunk: int
    n_chunks: int
    seconds_per_step: float
    walltime_seconds: float


def plan_chunks(
    total_steps: int,
    walltime_seconds: float,
    seconds_per_step: float,
    setup_seconds: float = 0.0,
    safety: float = 0.8,
) -> ChunkPlan:
    """Size MD chunks so each job's steps finish inside ``safety`` × walltime (s).

    ``setup_seconds`` is the start-up of pw.x before the first step (first SCF from scratch).
    """
    if total_steps < 1:
        raise MdInputError(f"an MD run needs at least one step, got {total_steps}.")
    if seconds_per_step <= 0:
        raise MdInputError(f"time per step must be positive, got {seconds_per_step} s.")
    usable = safety * walltime_seconds - setup_seconds
    if usable < seconds_per_step:
        raise MdInputError(
            f"walltime {walltime_seconds:.0f} s is shorter than one MD step "
            f"({seconds_per_step:.0f} s per step + {setup_seconds:.0f} s set-up, "
            f"{safety:.0%} of the walltime usable): raise the walltime or use more cores."
        )
    steps_per_chunk = min(total_steps, int(usable // seconds_per_step))
    return ChunkPlan(
        total_steps=total_steps,
        steps_per_chunk=steps_per_chunk,
        n_chunks=math.ceil(total_steps / steps_per_chunk),
        seconds_per_step=seconds_per_step,
        walltime_seconds=walltime_seconds,
    )


MIN_INTERATOMIC_DISTANCE_ANGSTROM = 0.5


def check_md_settings(
    temperature_k: float, timestep_fs: float, min_distance_ang: float | None
) -> None:
    """Reject settings that cannot give a physical trajectory, with what to change.

    ``min_distance_ang`` None: no structure yet, only the settings are checked.
    """
    if temperature_k <= 0:
        raise MdInputError(f"target temperature must be > 0 K, got {temperature_k} K.")
    check_timestep_fs(timestep_fs)
    if min_distance_ang is not None and min_distance_ang < MIN_INTERATOMIC_DISTANCE_ANGSTROM:
        raise MdInputError(
            f"two atoms are {min_distance_ang:.3f} Å apart "
            f"(< {MIN_INTERATOMIC_DISTANCE_ANGSTROM} Å): the structure has overlapping atoms; "
            "fix or relax it before MD."
        )
