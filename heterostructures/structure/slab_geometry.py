"""Slab and superlattice cells: in-plane area, period along the normal, and where the
vacuum is for pw.x's sawtooth dipole correction (fractions of c)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from ase import Atoms
from numpy.typing import ArrayLike


def in_plane_area_ang2(cell: ArrayLike) -> float:
    """|a × b| (Å²) of a cell (rows a, b, c in Å): the interface area."""
    rows = np.asarray(cell, dtype=float)
    return float(np.linalg.norm(np.cross(rows[0], rows[1])))


def normal_length_ang(cell: ArrayLike) -> float:
    """Length (Å) of the cell along the normal of the a–b plane: c · (a × b)/|a × b|, the
    stacking period of a superlattice (c need not be normal to the interface)."""
    rows = np.asarray(cell, dtype=float)
    normal = np.cross(rows[0], rows[1])
    return float(abs(rows[2] @ normal) / np.linalg.norm(normal))


@dataclass(frozen=True)
class VacuumRegion:
    """Largest atom-free region along the cell's third axis, in fractional coordinates."""

    centre: float
    width: float
    width_ang: float


def largest_vacuum(atoms: Atoms) -> VacuumRegion:
    """Largest gap between consecutive atomic planes along c (periodic wrap included)."""
    z = np.sort(atoms.get_scaled_positions(wrap=True)[:, 2])
    gaps = np.diff(np.append(z, z[0] + 1.0))
    i = int(gaps.argmax())
    centre = (z[i] + gaps[i] / 2.0) % 1.0
    return VacuumRegion(float(centre), float(gaps[i]), float(gaps[i] * atoms.cell.lengths()[2]))


MIN_VACUUM_ANG = 6.0
"""Smallest atom-free gap along c (Å) that makes a cell a slab in vacuum; below it the cell
is a superlattice (the periodic 13-atom CsPbBr3/CdS demo model's widest gap is 2.81 Å, the
slabs' vacuum 12-15 Å: ``largest_vacuum`` on the built models)."""


def has_vacuum(atoms: Atoms, min_vacuum_ang: float = MIN_VACUUM_ANG) -> bool:
    """True for a slab in vacuum (a gap of at least ``min_vacuum_ang`` Å along c), False for
    a superlattice: the one test the dipole correction and the k-point mesh share."""
    return largest_vacuum(atoms).width_ang >= min_vacuum_ang


def dipole_correction_parameters(
    atoms: Atoms, min_vacuum_ang: float = MIN_VACUUM_ANG
) -> dict[str, object]:
    """pw.x ``CONTROL``/``SYSTEM`` keys of the dipole correction placed in the vacuum.

    The sawtooth's discontinuity (``emaxpos`` … ``emaxpos + eopreg``) must lie in vacuum,
    away from the atoms; a cell with less than ``min_vacuum_ang`` of vacuum is a
    superlattice and gets no correction (an empty dict).
    """
    if not has_vacuum(atoms, min_vacuum_ang):
        return {}
    region = largest_vacuum(atoms)
    eopreg = 0.25 * region.width
    return {
        "CONTROL": {"tefield": True, "dipfield": True},
        "SYSTEM": {
            "edir": 3,
            "emaxpos": float((region.centre - eopreg / 2.0) % 1.0),
            "eopreg": float(eopreg),
            "eamp": 0.0,
        },
    }
