"""Oriented slabs of one phase: atomic planes, terminations, formal charges and dipoles.

A slab is built plane by plane from an *oriented unit*: the bulk re-expressed in a cell
whose first two vectors are the chosen in-plane lattice vectors (rotated onto x and the
xy plane) and whose third spans one stacking period along the normal (z). Formal ionic
charges (:data:`heterostructures.structure.phases.FORMAL_CHARGES`, e per in-plane cell) make the
polarity explicit: pseudo-cubic CsPbBr3 (110) alternates CsPbBr (+2) / Br2 (−2) planes
(Tasker type III, polar); zinc-blende (110) planes M2X2 are neutral (type I).

Slab modes: ``stoichiometric`` (whole periods, polar if the planes are charged),
``symmetric`` (same plane type at both ends, odd plane count) and ``compensated``
(symmetric, with the same fraction of each terminal plane removed so the slab is neutral,
e.g. Br / CsPbBr / Br2 / CsPbBr / Br: zero formal charge and dipole).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
from ase import Atoms
from ase.build import make_supercell
from pymatgen.core import Composition

from heterostructures.structure.errors import StructureInputError, TooFewLayersError
from heterostructures.structure.facet_matching import (
    Vector3,
    in_plane_lattice,
    plane_normal,
    primitive_miller,
)
from heterostructures.structure.layers import assign_layers
from heterostructures.structure.phases import FORMAL_CHARGES

SLAB_MODES = ("stoichiometric", "symmetric", "compensated")
PLANE_TOLERANCE = 0.3
"""Atoms closer than this along the normal (Å) belong to one plane."""


@dataclass(frozen=True)
class Termination:
    """A slab's plane sequence (bottom to top) with formal charges (e per in-plane cell)."""

    mode: str
    plane_formulas: tuple[str, ...]
    plane_charges: tuple[float, ...]
    total_charge: float
    dipole: float
    """Formal dipole Σ q z about the slab centre along the normal (e·Å)."""

    @property
    def name(self) -> str:
        """Planes from bottom to top, e.g. ``Br/CsPbBr/Br2/CsPbBr/Br``."""
        return "/".join(self.plane_formulas)


def plane_formula(symbols: list[str]) -> str:
    """Compact plane formula, cations by rising charge then anions: ``CsPbBr``, ``Cd2S2``."""
    counts: dict[str, int] = {}
    charge = FORMAL_CHARGES.get
    for symbol in sorted(symbols, key=lambda s: (charge(s, 0) < 0, charge(s, 0), s)):
        counts[symbol] = counts.get(symbol, 0) + 1
    return "".join(f"{s}{n if n > 1 else ''}" for s, n in counts.items())


def oriented_unit(
    bulk: Atoms, hkl: tuple[int, ...], in_plane: tuple[Vector3, Vector3] | None = None
) -> Atoms:
    """One stacking period of ``bulk`` with ``in_plane`` [uvw] on x/xy and the normal on z.

    The third cell vector keeps its in-plane component (the stacking offset); positions
    are wrapped so every atom lies at 0 ≤ z < period.
    """
    plane = primitive_miller(hkl)
    first, second = in_plane if in_plane is not None else in_plane_lattice(bulk, plane)
    for vector in (first, second):
        if int(np.dot(vector, plane)) != 0:
            raise StructureInputError(f"in-plane direction {vector} is not in plane {plane}")
    normal = plane_normal(bulk, plane)
    if (
        np.dot(
            np.cross(np.asarray(first) @ bulk.cell[:], np.asarray(second) @ bulk.cell[:]), normal
        )
        < 0
    ):
        second = (-second[0], -second[1], -second[2])
    stacking = _stacking_vector(plane)
    unit = make_supercell(bulk, np.array([first, second, stacking]), wrap=True)
    x_axis = unit.cell[0] / np.linalg.norm(unit.cell[0])
    rotation = np.array([x_axis, np.cross(normal, x_axis), normal])
    unit.set_cell(unit.cell[:] @ rotation.T, scale_atoms=False)
    unit.positions = unit.positions @ rotation.T
    unit.wrap()
    return unit


def _stacking_vector(plane: Vector3, search: int = 3) -> Vector3:
    """Shortest integer vector u with u·hkl = 1: one plane period of the lattice."""
    candidates = [
        u
        for u in itertools.product(range(-search, search + 1), repeat=3)
        if int(np.dot(u, plane)) == 1
    ]
    best = min(candidates, key=lambda u: (sum(v * v for v in u), u))
    return (best[0], best[1], best[2])


def bottom_plane_index(unit: Atoms, wanted: str | None) -> int:
    """Index of the plane in one period whose formula is ``wanted`` (default: anion-only).

    With ``wanted=None``: the first plane without Cs or Pb (the perovskite's anion plane,
    so its half-filled Br plane faces the other side), else the plane with the largest
    share of anions (PbBr2 rather than CsBr on (100), so Pb–S bonds can form), else plane 0.
    """
    count = assign_layers(unit.positions[:, 2], float(unit.cell[2, 2]), PLANE_TOLERANCE).count
    period = stack_planes(unit, count, 0)
    formulas, _ = plane_charges(period)
    if wanted is None:
        neutral_or_anion = [
            k for k, f in enumerate(formulas) if not any(c in f for c in ("Cs", "Pb"))
        ]
        if neutral_or_anion:
            return neutral_or_anion[0]
        shares = [_anion_share(period, period.arrays["plane"] == k) for k in range(count)]
        return int(np.argmax(shares))
    if wanted not in formulas:
        raise StructureInputError(f"no plane {wanted!r} in this facet; planes are {formulas}")
    return formulas.index(wanted)


def _anion_share(unit: Atoms, members: np.ndarray) -> float:
    """Fraction of the atoms selected by the boolean mask that carry a negative formal charge."""
    symbols = np.asarray(unit.get_chemical_symbols())[members]
    return float(np.mean([FORMAL_CHARGES[s] < 0 for s in symbols]))


def stack_planes(unit: Atoms, n_planes: int, start_plane: int = 0) -> Atoms:
    """``n_planes`` consecutive atomic planes of ``unit`` starting at its ``start_plane``.

    Returns atoms in the unit's in-plane cell with the lowest plane at z = 0 and an array
    ``plane`` = 0 … n_planes−1 counted from the bottom (the cell's c is left to the caller).
    """
    period = float(unit.cell[2, 2])
    layers = assign_layers(unit.positions[:, 2], period, PLANE_TOLERANCE, periodic=True)
    per_period = layers.count
    if not 0 <= start_plane < per_period:
        raise StructureInputError(f"start_plane must be in 0..{per_period - 1} (planes per period)")
    centred = unit.copy()
    centred.positions[:, 2] -= _widest_gap_middle(np.asarray(layers.positions), period)
    centred.wrap()
    local = assign_layers(centred.positions[:, 2], period, PLANE_TOLERANCE, periodic=False)
    periods = (start_plane + n_planes) // per_period + 1
    stacked = centred.repeat((1, 1, periods))
    copy_index = np.repeat(np.arange(periods), len(unit))
    plane_index = np.tile(np.asarray(local.indices), periods) + copy_index * per_period
    keep = (plane_index >= start_plane) & (plane_index < start_plane + n_planes)
    slab = stacked[keep]
    slab.arrays["plane"] = plane_index[keep] - start_plane
    slab.positions[:, 2] -= slab.positions[slab.arrays["plane"] == 0, 2].mean()
    return slab


def _widest_gap_middle(plane_positions: np.ndarray, period: float) -> float:
    """Normal coordinate (Å) in the middle of the widest gap between periodic planes."""
    ordered = np.sort(plane_positions)
    gaps = np.diff(np.append(ordered, ordered[0] + period))
    widest = int(np.argmax(gaps))
    return float(ordered[widest] + 0.5 * gaps[widest])


def plane_charges(slab: Atoms) -> tuple[tuple[str, ...], tuple[float, ...]]:
    """Formula and formal charge (e) of each plane of a slab carrying a ``plane`` array."""
    formulas, charges = [], []
    symbols = slab.get_chemical_symbols()
    for plane in range(int(slab.arrays["plane"].max()) + 1):
        members = [symbols[i] for i in np.flatnonzero(slab.arrays["plane"] == plane)]
        formulas.append(plane_formula(members))
        charges.append(float(sum(FORMAL_CHARGES[s] for s in members)))
    return tuple(formulas), tuple(charges)


def formal_dipole(slab: Atoms) -> float:
    """Σ q_i (z_i − z_centre) in e·Å with formal charges; zero for a non-polar slab."""
    charges = np.array([FORMAL_CHARGES[s] for s in slab.get_chemical_symbols()], dtype=float)
    z = slab.positions[:, 2]
    centre = 0.5 * (z.min() + z.max())
    return float(np.sum(charges * (z - centre)))


def describe(slab: Atoms, mode: str) -> Termination:
    """Charge accounting of a slab: plane formulas and charges, total charge, dipole."""
    formulas, charges = plane_charges(slab)
    return Termination(mode, formulas, charges, float(sum(charges)), formal_dipole(slab))


def enumerate_terminations(unit: Atoms) -> tuple[Termination, ...]:
    """Every distinct plane sequence of one period (one per distinct starting plane)."""
    count = assign_layers(unit.positions[:, 2], float(unit.cell[2, 2]), PLANE_TOLERANCE).count
    found: dict[tuple[str, ...], Termination] = {}
    for start in range(count):
        termination = describe(stack_planes(unit, count, start), "stoichiometric")
        found.setdefault(termination.plane_formulas, termination)
    return tuple(found.values())


def build_slab(
    unit: Atoms, n_planes: int, start_plane: int = 0, mode: str = "compensated"
) -> Atoms:
    """A slab of ``n_planes`` in one of :data:`SLAB_MODES`; raises if the mode is impossible."""
    if mode not in SLAB_MODES:
        raise StructureInputError(f"unknown slab mode {mode!r}; choose from {SLAB_MODES}")
    minimum = 3 if mode != "stoichiometric" else 1
    if n_planes < minimum:
        raise TooFewLayersError(f"a {mode} slab needs at least {minimum} planes, got {n_planes}")
    slab = stack_planes(unit, n_planes, start_plane)
    formulas, charges = plane_charges(slab)
    per_period = len(enumerate_terminations(unit)[0].plane_formulas)
    stoichiometric = Composition(slab.get_chemical_formula()).reduced_formula == (
        Composition(unit.get_chemical_formula()).reduced_formula
    )
    if mode == "stoichiometric" and not stoichiometric:
        raise TooFewLayersError(f"a stoichiometric slab needs a multiple of {per_period} planes")
    if mode != "stoichiometric" and formulas[0] != formulas[-1]:
        raise TooFewLayersError(
            f"{n_planes} planes from plane {start_plane} end on {formulas[-1]}, not {formulas[0]}: "
            f"use n_planes = k*{per_period} + 1 for a symmetric slab"
        )
    if mode == "compensated" and abs(sum(charges)) > 1e-9:
        slab = _compensate(slab, sum(charges) / 2.0)
    return slab


def _compensate(slab: Atoms, excess_per_side: float) -> Atoms:
    """Remove atoms of the terminal planes carrying ``excess_per_side`` (e) on each side.

    The top removal mirrors the bottom one through the slab centre, so the formal dipole
    stays zero.
    """
    symbols = np.array(slab.get_chemical_symbols())
    planes = slab.arrays["plane"]
    bottom = np.flatnonzero(planes == 0)
    charge = FORMAL_CHARGES[str(symbols[bottom[0]])]
    count = excess_per_side / charge
    same_species = all(FORMAL_CHARGES[str(s)] == charge for s in symbols[bottom])
    if (
        not same_species
        or count <= 0
        or abs(count - round(count)) > 1e-9
        or round(count) >= len(bottom)
    ):
        raise StructureInputError(
            f"terminal plane {plane_formula(list(symbols[bottom]))} "
            f"cannot shed {excess_per_side:+g} e "
            "with whole atoms: enlarge the in-plane cell or use mode='symmetric'"
        )
    order = np.lexsort((slab.positions[bottom, 1], slab.positions[bottom, 0]))
    removed_bottom = bottom[order[: round(count)]]
    top = np.flatnonzero(planes == planes.max())
    centre = 0.5 * (slab.positions[bottom, :2].mean(axis=0) + slab.positions[top, :2].mean(axis=0))
    removed_top = []
    for index in removed_bottom:
        mirror = 2 * centre - slab.positions[index, :2]
        delta = slab.positions[top, :2] - mirror
        fractional = np.linalg.solve(slab.cell[:2, :2].T, delta.T).T
        fractional -= np.rint(fractional)
        distances = np.linalg.norm(fractional @ slab.cell[:2, :2], axis=1)
        candidates = [t for t in np.argsort(distances) if top[t] not in removed_top]
        removed_top.append(top[candidates[0]])
    keep = np.setdiff1d(np.arange(len(slab)), np.concatenate([removed_bottom, removed_top]))
    return slab[keep]
