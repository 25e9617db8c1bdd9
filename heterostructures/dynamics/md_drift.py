"""Is the MD time step small enough? The NVE energy drift against a protocol's bound.

Velocity Verlet conserves the total energy only up to an error that grows with the time
step (and with loose SCF convergence, whose force noise heats the system). The drift is
measured on the NVE window as the slope of a linear fit of E_pot + E_kin against time
(``md_diagnostics``, eV/atom/ps); a protocol states the largest slope it accepts. A drift
above the bound flags the trajectory and says what to change: the time step first, the SCF
threshold second. Units: eV/atom/ps, fs.
"""

from __future__ import annotations

from dataclasses import dataclass


class DriftBoundError(ValueError):
    """A drift bound that cannot be checked (not a positive number)."""


@dataclass(frozen=True)
class DriftCheck:
    """The NVE drift of a run against the protocol's bound (eV/atom/ps) and the verdict."""

    drift_ev_per_atom_per_ps: float
    bound_ev_per_atom_per_ps: float
    timestep_fs: float
    within_bound: bool
    note: str


def check_energy_drift(
    drift_ev_per_atom_per_ps: float, bound_ev_per_atom_per_ps: float, timestep_fs: float
) -> DriftCheck:
    """Compare |drift| with the bound; the note names the fix when it is exceeded.

    The sign is ignored: a cooling run (energy lost) is as wrong as a heating one.
    """
    if not bound_ev_per_atom_per_ps > 0.0:
        raise DriftBoundError(
            f"the drift bound must be a positive number of eV/atom/ps, got "
            f"{bound_ev_per_atom_per_ps!r}: set max_drift_ev_per_atom_per_ps in the protocol."
        )
    within = abs(drift_ev_per_atom_per_ps) <= bound_ev_per_atom_per_ps
    if within:
        note = (
            f"NVE drift {drift_ev_per_atom_per_ps:+.2e} eV/atom/ps is within the bound "
            f"{bound_ev_per_atom_per_ps:.1e} at a {timestep_fs:g} fs time step"
        )
    else:
        note = (
            f"NVE drift {drift_ev_per_atom_per_ps:+.2e} eV/atom/ps exceeds the bound "
            f"{bound_ev_per_atom_per_ps:.1e} at a {timestep_fs:g} fs time step: use a smaller "
            "timestep_fs (e.g. half), or tighten the SCF (conv_thr) if halving does not help"
        )
    return DriftCheck(
        drift_ev_per_atom_per_ps=float(drift_ev_per_atom_per_ps),
        bound_ev_per_atom_per_ps=float(bound_ev_per_atom_per_ps),
        timestep_fs=float(timestep_fs),
        within_bound=bool(within),
        note=note,
    )
