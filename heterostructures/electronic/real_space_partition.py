"""Atom and element shares of a density from real-space partitions of its cube grid.

Why: projection (Löwdin) weights are shares of Σ|<φ|ψ>|² over the pseudo-atomic
orbitals, normalised over that basis. A diffuse projector (the 6s of the one-electron Cs
norm-conserving pseudopotential) overlaps with states centred elsewhere and takes a share
they do not have. A real-space partition of |ψ|² from pp.x needs no basis: each grid point
goes to one atom and the shares are integrals of the density.

Two partitions, both periodic and exact on the grid (no interpolation):

- :data:`VORONOI`: each grid point to the nearest atom (minimum image). Simple and
  parameter-free, but geometric: a large cell around a cation (Cs in its cuboctahedral
  cavity) gets a large share of any density spread through the cell.
- :data:`BADER`: the on-grid steepest-ascent method of Henkelman, Arnaldsson and Jónsson
  (Comput. Mater. Sci. 36, 354 (2006)) applied to the state's own density: each grid point
  follows the steepest uphill neighbour (26 neighbours, gradient = Δρ/distance) to a
  maximum; each basin goes to the atom nearest its maximum, as the Henkelman group's
  ``bader`` program assigns basins. It follows the density, not the geometry.

Checked: ``baderkit`` (PyPI, the maintained Python port of ``bader``) would downgrade
pymatgen and pandas in this environment; ``pybader`` is unmaintained since 2020. The
on-grid method is short and is tested here against closed forms.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
from ase.data import chemical_symbols
from scipy.spatial import cKDTree

from heterostructures.io.cube import CubeGrid

VORONOI = "voronoi: each grid point to the nearest atom (minimum image)"
BADER = (
    "bader: on-grid steepest-ascent basins of the density (Henkelman 2006), each basin to "
    "the atom nearest its maximum"
)
METHODS = ("voronoi", "bader")


class PartitionError(ValueError):
    """A density cannot be partitioned (no atoms, no positive density, unknown method)."""


@dataclass(frozen=True)
class RealSpaceShares:
    """Shares (0…1, summing to 1) of a density on each atom (cube order) and element."""

    method: str
    atom_shares: tuple[float, ...]
    element_shares: dict[str, float]


def grid_points_bohr(grid: CubeGrid) -> np.ndarray:
    """Cartesian position (bohr) of every grid point, shape (n1·n2·n3, 3), C order."""
    indices = np.indices(grid.data.shape).reshape(3, -1).T
    return np.asarray(grid.origin_bohr + indices @ grid.voxel_bohr)


def nearest_atom(grid: CubeGrid, points_bohr: np.ndarray) -> np.ndarray:
    """Index of the atom nearest each point (bohr) under the minimum-image convention.

    Points and atoms are wrapped into the cell and the atoms repeated in the 27 cells
    around it, which is exact for cells whose angles are not far from 90°.
    """
    if len(grid.atomic_numbers) == 0:
        raise PartitionError("the cube lists no atoms: nothing to partition the density on")
    cell = grid.voxel_bohr * np.array(grid.data.shape)[:, None]
    inverse = np.linalg.inv(cell)

    def wrapped(positions: np.ndarray) -> np.ndarray:
        fractions = (positions - grid.origin_bohr) @ inverse
        return np.asarray((fractions % 1.0) @ cell)

    shifts = np.array(list(itertools.product((-1, 0, 1), repeat=3))) @ cell
    atoms = wrapped(grid.positions_bohr)
    images = (atoms[None, :, :] + shifts[:, None, :]).reshape(-1, 3)
    _, nearest = cKDTree(images).query(wrapped(points_bohr))
    return np.asarray(nearest % len(atoms))


def ascent_maxima(data: np.ndarray, voxel_bohr: np.ndarray) -> np.ndarray:
    """Flat index of the maximum each grid point climbs to (periodic on-grid ascent).

    Each point steps to the neighbour of largest (ρ_n − ρ)/|r_n − r| if that is > 0,
    else it is a maximum; the chains are followed by pointer doubling.
    """
    index = np.arange(data.size).reshape(data.shape)
    best_gain = np.zeros(data.shape)
    target = index.copy()
    for step in itertools.product((-1, 0, 1), repeat=3):
        if step == (0, 0, 0):
            continue
        back = tuple(-s for s in step)
        distance = float(np.linalg.norm(np.array(step) @ voxel_bohr))
        gain = (np.roll(data, back, axis=(0, 1, 2)) - data) / distance
        better = gain > best_gain
        best_gain = np.where(better, gain, best_gain)
        target = np.where(better, np.roll(index, back, axis=(0, 1, 2)), target)
    pointer = target.ravel()
    while True:
        doubled = pointer[pointer]
        if np.array_equal(doubled, pointer):
            return np.asarray(pointer)
        pointer = doubled


def atom_of_grid_points(grid: CubeGrid, method: str) -> np.ndarray:
    """Atom index (cube order) owning each grid point, flat C order, by ``method``."""
    if method == "voronoi":
        return nearest_atom(grid, grid_points_bohr(grid))
    if method == "bader":
        maxima = ascent_maxima(grid.data, grid.voxel_bohr)
        peaks, owner_of_point = np.unique(maxima, return_inverse=True)
        flat_points = np.indices(grid.data.shape).reshape(3, -1).T[peaks]
        peak_atoms = nearest_atom(grid, grid.origin_bohr + flat_points @ grid.voxel_bohr)
        return np.asarray(peak_atoms[owner_of_point.ravel()])
    raise PartitionError(f"partition method {method!r}: use one of {METHODS}")


def real_space_shares(
    grid: CubeGrid, method: str, symbols: list[str] | None = None
) -> RealSpaceShares:
    """Share of ∫ρ dV on each atom and element; ``symbols`` default to the cube's Z.

    Negative values (none in pp.x |ψ|²) are clipped; the shares are normalised by the
    integral over the cell, so they sum to 1 whatever the norm of the cube.
    """
    density = grid.data.clip(min=0).ravel()
    total = density.sum()
    if total <= 0:
        raise PartitionError("the density has no positive value: not a |ψ|² or charge cube")
    owners = atom_of_grid_points(grid, method)
    atom_shares = np.bincount(owners, weights=density, minlength=len(grid.atomic_numbers)) / total
    if symbols is None:
        symbols = [chemical_symbols[int(z)] for z in grid.atomic_numbers]
    if len(symbols) != len(atom_shares):
        raise PartitionError(
            f"{len(symbols)} element symbols for {len(atom_shares)} atoms in the cube: give one "
            "symbol per atom in pw.x order"
        )
    elements: dict[str, float] = {}
    for symbol, share in zip(symbols, atom_shares, strict=True):
        elements[symbol] = elements.get(symbol, 0.0) + float(share)
    method_text = VORONOI if method == "voronoi" else BADER
    return RealSpaceShares(method_text, tuple(float(s) for s in atom_shares), elements)


def element_ranking(shares: dict[str, float]) -> list[str]:
    """Elements from the largest share to the smallest (ties in the given order)."""
    return sorted(shares, key=lambda element: -shares[element])
