"""Lattice parameters of a (relaxed) bulk cell, compared with experiment.

The interface is built from these so that the strain it carries is that of the level of
theory used (PBE expands lattices by 1–3 %), and reported next to the experimental one.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from ase import Atoms
from ase.build import bulk

from heterostructures.structure.errors import UnknownPhaseError
from heterostructures.structure.phases import (
    CHALCOGENIDE_PHASES,
    LATTICE_DEFAULTS,
    PEROVSKITE_PHASES,
    bulk_phase,
    chalcogenide_ions,
    pseudocubic_lattice_constant,
)


@dataclass(frozen=True)
class BulkLattice:
    """Lattice lengths (Å) of one phase and their deviation from experiment (%)."""

    formula: str
    phase: str
    a: float
    c: float | None
    experimental_a: float | None
    deviation_a_percent: float | None


def _experimental_a(formula: str, phase: str) -> float | None:
    if phase == "cubic":
        try:
            return pseudocubic_lattice_constant(formula)
        except UnknownPhaseError:
            return None
    default = LATTICE_DEFAULTS.get((formula, phase))
    return None if default is None else default.a


def bulk_lattice(atoms: Atoms, formula: str, phase: str) -> BulkLattice:
    """Read ``a`` (and ``c`` for wurtzite) from a cell built by
    :mod:`heterostructures.structure.phases`.

    Cubic lattices come from the volume per formula unit, so primitive and conventional
    cells give the same a: a³ = V/n_fu (perovskite, 1 f.u. per cube) or 4V/n_fu (zinc
    blende, 4 f.u. per cube). Wurtzite has a = |a1|, c = |a3|. For a cubic perovskite the
    experimental reference is the room-temperature pseudo-cubic constant.
    """
    lengths = np.linalg.norm(np.asarray(atoms.cell), axis=1)
    volume = abs(float(atoms.get_volume()))
    if phase == "cubic":
        a, c = (volume / (len(atoms) / 5)) ** (1 / 3), None
    elif phase == "zincblende":
        a, c = (4 * volume / (len(atoms) / 2)) ** (1 / 3), None
    elif phase == "wurtzite":
        a, c = float(lengths[0]), float(lengths[2])
    elif phase in PEROVSKITE_PHASES + CHALCOGENIDE_PHASES:
        raise UnknownPhaseError(f"lattice extraction for {phase!r} is not supported; use cubic")
    else:
        raise UnknownPhaseError(f"unknown phase {phase!r}")
    experimental = _experimental_a(formula, phase)
    deviation = None if experimental is None else 100.0 * (a - experimental) / experimental
    return BulkLattice(formula, phase, a, c, experimental, deviation)


def primitive_bulk(formula: str, phase: str, **lattice: float) -> Atoms:
    """The primitive cell of a bulk phase (2 atoms for zinc blende instead of 8).

    Relaxing the primitive cell gives the same lattice constant for a quarter of the
    cost; :func:`bulk_lattice` reads it back from the volume. ``lattice`` (``a``, and
    ``c`` for wurtzite, Å) replaces the experimental default, for formulas without one.
    """
    atoms = bulk_phase(formula, phase, **lattice)
    if phase != "zincblende":
        return atoms
    metal, anion = chalcogenide_ions(formula)
    a = bulk_lattice(atoms, formula, phase).a
    return bulk(f"{metal}{anion}", "zincblende", a=a)
