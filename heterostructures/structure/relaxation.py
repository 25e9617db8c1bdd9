"""Checks of a finished relaxation: residual forces on free atoms, fixed atoms unmoved."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike


@dataclass(frozen=True)
class RelaxationSummary:
    """Forces in eV/Å, displacements in Å."""

    max_free_force_ev_ang: float
    max_fixed_displacement_ang: float
    max_free_displacement_ang: float
    steps: int


def relaxation_summary(
    positions_ang: ArrayLike, forces_ev_ang: ArrayLike, cell_ang: ArrayLike, fixed: ArrayLike
) -> RelaxationSummary:
    """Summarise a relaxation trajectory (steps × atoms × 3) given per-atom fixed flags.

    Displacements are minimum-image differences between the first and last frame.
    """
    positions = np.asarray(positions_ang, dtype=float)
    forces = np.asarray(forces_ev_ang, dtype=float)
    mask = np.asarray(fixed, dtype=bool)
    if positions.ndim != 3 or positions.shape[1] != mask.size:
        raise ValueError(f"positions {positions.shape} do not match {mask.size} fixed flags")
    cell = np.asarray(cell_ang, dtype=float)
    delta = positions[-1] - positions[0]
    fractional = np.linalg.solve(cell.T, delta.T).T
    delta = (fractional - np.round(fractional)) @ cell
    moved = np.linalg.norm(delta, axis=1)
    force = np.linalg.norm(forces[-1], axis=1)
    free = ~mask
    return RelaxationSummary(
        max_free_force_ev_ang=float(force[free].max()) if free.any() else 0.0,
        max_fixed_displacement_ang=float(moved[mask].max()) if mask.any() else 0.0,
        max_free_displacement_ang=float(moved[free].max()) if free.any() else 0.0,
        steps=int(positions.shape[0]),
    )
