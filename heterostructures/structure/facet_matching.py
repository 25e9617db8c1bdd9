"""2D lattice geometry of crystal planes and supercell matching between two phases (Å).

Miller indices and directions refer to the cell of the ``ase.Atoms`` given (the
conventional cubic cell for zinc blende and cubic perovskites). Matching uses pymatgen's
Zur–McGill superlattice search (:class:`~pymatgen.analysis.interfaces.zsl.ZSLGenerator`);
strains here are those the *film* takes to fit the *substrate*; the interface builder
splits them between the two sides.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from functools import reduce
from math import gcd

import numpy as np
from ase import Atoms
from pymatgen.analysis.interfaces.zsl import ZSLGenerator
from pymatgen.core.surface import get_symmetrically_distinct_miller_indices
from pymatgen.io.ase import AseAtomsAdaptor

from heterostructures.structure.errors import InvalidMillerIndexError, NoEpitaxialMatchError

Vector3 = tuple[int, int, int]


def primitive_miller(hkl: tuple[int, ...]) -> Vector3:
    """Reduce Miller indices by their common divisor, refusing the zero or non-3 vector."""
    if len(hkl) != 3 or any(int(v) != v for v in hkl):
        raise InvalidMillerIndexError(f"Miller index {hkl} must be three integers, e.g. (1, 1, 0)")
    if not any(hkl):
        raise InvalidMillerIndexError("Miller index (0, 0, 0) has zero length: give e.g. (1, 1, 0)")
    divisor = reduce(gcd, (abs(int(v)) for v in hkl))
    first, second, third = (int(v) // divisor for v in hkl)
    return (first, second, third)


def reciprocal_vector(atoms: Atoms, hkl: tuple[int, ...]) -> np.ndarray:
    """Cartesian G/2π = Σ hᵢ bᵢ (Å⁻¹) of plane (hkl), bᵢ the crystallographic reciprocal vectors.

    The bᵢ are the rows of (C⁻¹)ᵀ for a cell C with lattice vectors as rows (bᵢ·aⱼ = δᵢⱼ), so
    Σ hᵢ bᵢ = h·(C⁻¹)ᵀ; ``h·C⁻¹`` instead is right only for a symmetric C (e.g. an
    orthogonal cell with its axes along x, y, z), not for a rotated orthogonal one.
    """
    reciprocal = np.linalg.inv(np.asarray(atoms.cell[:], dtype=float)).T
    return np.asarray(hkl, dtype=float) @ reciprocal


def interplanar_spacing(atoms: Atoms, hkl: tuple[int, ...]) -> float:
    """d_hkl = 1/|Σ hᵢbᵢ| (Å) in the cell of ``atoms``; not reduced: d(220) = d(110)/2."""
    primitive_miller(hkl)
    return float(1.0 / np.linalg.norm(reciprocal_vector(atoms, hkl)))


def plane_normal(atoms: Atoms, hkl: tuple[int, ...]) -> np.ndarray:
    """Unit Cartesian normal of the (hkl) planes (along Σ hᵢbᵢ)."""
    normal = reciprocal_vector(atoms, primitive_miller(hkl))
    return normal / np.linalg.norm(normal)


def direction_indices(atoms: Atoms, vector: np.ndarray) -> Vector3:
    """Integer [uvw] (in the cell of ``atoms``) of a Cartesian lattice vector."""
    fractional = np.linalg.solve(np.asarray(atoms.cell[:], dtype=float).T, np.asarray(vector))
    rounded = np.rint(fractional).astype(int)
    return (int(rounded[0]), int(rounded[1]), int(rounded[2]))


def in_plane_lattice(
    atoms: Atoms, hkl: tuple[int, ...], search: int = 4
) -> tuple[Vector3, Vector3]:
    """Two shortest lattice directions [uvw] spanning the primitive 2D cell of plane (hkl).

    The 2D cell area equals V/d_hkl for the reduced indices; the pair is right-handed
    about the plane normal and the second vector is as close to 90° as the lattice allows.
    """
    h = np.asarray(primitive_miller(hkl))
    cell = np.asarray(atoms.cell[:], dtype=float)
    candidates = [
        np.array(u)
        for u in itertools.product(range(-search, search + 1), repeat=3)
        if any(u) and int(np.dot(u, h)) == 0
    ]
    candidates.sort(key=lambda u: (np.linalg.norm(u @ cell), tuple(-u)))
    target_area = abs(np.linalg.det(cell)) / interplanar_spacing(atoms, tuple(h))
    first = candidates[0]
    for second in candidates[1:]:
        area = np.linalg.norm(np.cross(first @ cell, second @ cell))
        if np.isclose(area, target_area, rtol=1e-6):
            if np.dot(np.cross(first @ cell, second @ cell), plane_normal(atoms, tuple(h))) < 0:
                second = -second
            return tuple(int(v) for v in first), tuple(int(v) for v in second)  # type: ignore[return-value]
    raise InvalidMillerIndexError(f"no primitive 2D cell for {tuple(h)} within [uvw] ≤ {search}")


def strain_2d(
    film_vectors: np.ndarray, substrate_vectors: np.ndarray
) -> tuple[float, float, float]:
    """Principal in-plane strains (fractions) and areal strain taking film cell onto substrate cell.

    Both pairs are reduced to their own 2D frames (first vector along x) so only lengths and
    the angle matter; returns (ε_1, ε_2, ΔA/A) with ε from the right stretch tensor of
    F = S·Fm⁻¹.
    """

    def frame(vectors: np.ndarray) -> np.ndarray:
        v1, v2 = (np.asarray(v, dtype=float) for v in vectors)
        length1 = np.linalg.norm(v1)
        cos_angle = np.dot(v1, v2) / (length1 * np.linalg.norm(v2))
        sin_angle = np.sqrt(max(0.0, 1.0 - cos_angle**2))
        return np.array(
            [[length1, 0.0], [np.linalg.norm(v2) * cos_angle, np.linalg.norm(v2) * sin_angle]]
        )

    deformation = np.linalg.solve(frame(film_vectors), frame(substrate_vectors)).T
    stretches = np.sqrt(np.linalg.eigvalsh(deformation.T @ deformation))
    return float(stretches[0] - 1), float(stretches[1] - 1), float(np.linalg.det(deformation) - 1)


@dataclass(frozen=True)
class FacetMatch:
    """One coincidence supercell between a film facet and a substrate facet.

    Directions are [uvw] in each bulk cell; ``film_cells``/``substrate_cells`` count 2D
    primitive cells in the matched supercell; mismatches are in % (film onto substrate).
    """

    film_hkl: Vector3
    substrate_hkl: Vector3
    film_directions: tuple[Vector3, Vector3]
    substrate_directions: tuple[Vector3, Vector3]
    film_cells: int
    substrate_cells: int
    match_area: float
    linear_mismatch_percent: float
    areal_mismatch_percent: float

    @property
    def max_strain_percent(self) -> float:
        """Largest |principal strain| (%) the film would take if it alone were strained."""
        return abs(self.linear_mismatch_percent)


@dataclass(frozen=True)
class MatchTolerances:
    """ZSL tolerances: fractional length and area-ratio mismatch, angle (fraction), max area Å²."""

    max_length_tol: float = 0.03
    max_angle_tol: float = 0.01
    max_area_ratio_tol: float = 0.09
    max_area: float = 200.0


def match_facets(
    film: Atoms,
    film_hkl: tuple[int, ...],
    substrate: Atoms,
    substrate_hkl: tuple[int, ...],
    tolerances: MatchTolerances | None = None,
) -> FacetMatch:
    """Smallest-area ZSL coincidence cell of two facets; raises if none within tolerance."""
    tol = tolerances or MatchTolerances()
    film_basis = in_plane_lattice(film, film_hkl)
    substrate_basis = in_plane_lattice(substrate, substrate_hkl)
    film_vectors = np.array(film_basis, dtype=float) @ film.cell[:]
    substrate_vectors = np.array(substrate_basis, dtype=float) @ substrate.cell[:]
    generator = ZSLGenerator(
        max_area_ratio_tol=tol.max_area_ratio_tol,
        max_area=tol.max_area,
        max_length_tol=tol.max_length_tol,
        max_angle_tol=tol.max_angle_tol,
        bidirectional=True,
    )
    best = None
    for match in generator(film_vectors, substrate_vectors, lowest=False):
        strain = strain_2d(np.array(match.film_sl_vectors), np.array(match.substrate_sl_vectors))
        key = (round(match.match_area, 3), max(abs(strain[0]), abs(strain[1])))
        if best is None or key < best[0]:
            best = (key, match, strain)
    if best is None:
        raise NoEpitaxialMatchError(
            f"no coincidence cell for film {tuple(film_hkl)} on substrate {tuple(substrate_hkl)} "
            f"under {tol}: raise max_length_tol/max_area or choose other facets"
        )
    _, match, (eps1, eps2, areal) = best
    film_cell_area = float(np.linalg.norm(np.cross(*film_vectors)))
    substrate_cell_area = float(np.linalg.norm(np.cross(*substrate_vectors)))
    return FacetMatch(
        film_hkl=primitive_miller(film_hkl),
        substrate_hkl=primitive_miller(substrate_hkl),
        film_directions=(
            direction_indices(film, match.film_sl_vectors[0]),
            direction_indices(film, match.film_sl_vectors[1]),
        ),
        substrate_directions=(
            direction_indices(substrate, match.substrate_sl_vectors[0]),
            direction_indices(substrate, match.substrate_sl_vectors[1]),
        ),
        film_cells=round(vec_area(np.asarray(match.film_sl_vectors)) / film_cell_area),
        substrate_cells=round(
            vec_area(np.asarray(match.substrate_sl_vectors)) / substrate_cell_area
        ),
        match_area=vec_area(np.asarray(match.substrate_sl_vectors)),
        linear_mismatch_percent=100.0 * (eps1 if abs(eps1) > abs(eps2) else eps2),
        areal_mismatch_percent=100.0 * areal,
    )


def vec_area(vectors: np.ndarray) -> float:
    """Area (Å²) of the parallelogram spanned by two Cartesian vectors."""
    return float(np.linalg.norm(np.cross(vectors[0], vectors[1])))


def rank_facet_pairs(
    film: Atoms,
    substrate: Atoms,
    max_index: int = 1,
    tolerances: MatchTolerances | None = None,
) -> tuple[FacetMatch, ...]:
    """All symmetry-distinct facet pairs up to ``max_index`` that match, best first.

    Ranked by coincidence-cell area (smaller is a cheaper, more coherent interface), then by
    the largest principal strain.
    """
    to_structure = AseAtomsAdaptor.get_structure
    film_millers = get_symmetrically_distinct_miller_indices(to_structure(film), max_index)
    substrate_millers = get_symmetrically_distinct_miller_indices(
        to_structure(substrate), max_index
    )
    matches = []
    for film_hkl, substrate_hkl in itertools.product(film_millers, substrate_millers):
        try:
            matches.append(match_facets(film, film_hkl, substrate, substrate_hkl, tolerances))
        except NoEpitaxialMatchError:
            continue
    if not matches:
        raise NoEpitaxialMatchError(
            f"no facet pair up to index {max_index} matches under {tolerances or MatchTolerances()}"
        )
    return tuple(sorted(matches, key=lambda m: (round(m.match_area, 1), m.max_strain_percent)))
