"""Coincidence supercells for pairs whose 1:1 cube-on-cube cell strains a side too much (Å, %).

When the 1:1 cell of an :class:`~heterostructures.structure.interface.InterfaceSpec` needs more than
``max_strain_percent`` on either side, :func:`resolve_cell` searches pymatgen's Zur–McGill
superlattices (:class:`~pymatgen.analysis.interfaces.zsl.ZSLGenerator`, chalcogenide as
film, perovskite as substrate) over the allowed facet pairs, keeps the cells in which both
films can be built neutral with zero formal dipole (the spec's slab modes, else the
``compensated`` mode with an odd plane count, :mod:`heterostructures.structure.terminations`), whose
per-side principal strains meet the bound after the spec's strain split, and picks the one
with the fewest atoms (then the smallest strain, then the smallest area) under the atom cap.
The 1:1 cell stays whenever it meets the bound, so the CsPbBr3/CdS models do not change.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import numpy as np
from ase import Atoms
from pymatgen.analysis.interfaces.zsl import ZSLGenerator

from heterostructures.structure.errors import StrainTooLargeError, StructureInputError
from heterostructures.structure.facet_matching import (
    Vector3,
    direction_indices,
    in_plane_lattice,
    plane_normal,
    primitive_miller,
)
from heterostructures.structure.phases import chalcogenide, perovskite
from heterostructures.structure.strain_split import StrainSplit, planar_frame, split_strain
from heterostructures.structure.terminations import (
    bottom_plane_index,
    build_slab,
    describe,
    oriented_unit,
)

if TYPE_CHECKING:
    from heterostructures.structure.interface import InterfaceSpec

ALLOWED_FACETS: tuple[Vector3, ...] = ((1, 0, 0), (1, 1, 0), (1, 1, 1))
"""Low-index facets searched on each side (cubic perovskite and zinc blende)."""
SEARCH_MAX_AREA = 400.0
"""Largest coincidence-cell area searched (Å²)."""
DEFAULT_MAX_ATOMS = 300
"""Atom cap of an automatic coincidence cell when the spec sets no ``max_atoms``: admits the
``fast`` thickness series (3+2 … 7+6 planes, ≤ 288 atoms) of every pair, refuses the
``production`` slabs (9+8 planes, 2 × 1 cells)."""
COINCIDENCE_MODES = ("auto", "facets", "off")
"""``auto``: every allowed facet pair; ``facets``: only the spec's own pair; ``off``: no search."""


@dataclass(frozen=True)
class CoincidenceCell:
    """A coincidence supercell pair with the films it carries.

    Directions are [uvw] in each conventional bulk cell; ``*_cells`` count the facet's 2D
    cells of the conventional bulk's in-plane lattice inside the supercell (for zinc-blende
    (100) an a × a square, twice the fcc primitive face); ``area`` is the common cell's (Å²);
    strains are principal in-plane strains of each side (%), after the spec's split.
    """

    perovskite_hkl: Vector3
    chalcogenide_hkl: Vector3
    perovskite_directions: tuple[Vector3, Vector3]
    chalcogenide_directions: tuple[Vector3, Vector3]
    perovskite_cells: int
    chalcogenide_cells: int
    area: float
    perovskite_strain_percent: tuple[float, float]
    chalcogenide_strain_percent: tuple[float, float]
    perovskite_planes: int
    chalcogenide_planes: int
    perovskite_mode: str
    chalcogenide_mode: str
    n_atoms: int

    @property
    def worst_strain_percent(self) -> float:
        """Largest |principal strain| (%) on either side."""
        return max(
            abs(v) for v in (*self.perovskite_strain_percent, *self.chalcogenide_strain_percent)
        )

    def as_dict(self) -> dict[str, Any]:
        """JSON-safe fields plus the worst strain."""
        values: dict[str, Any] = tuples_as_lists(asdict(self))
        values["worst_strain_percent"] = self.worst_strain_percent
        return values

    def describe(self) -> str:
        """One line: atoms, facets, supercell vectors, area and strain per side."""
        p, c = self.perovskite_strain_percent, self.chalcogenide_strain_percent
        return (
            f"{self.n_atoms} atoms: perovskite {self.perovskite_hkl}"
            f" {[list(d) for d in self.perovskite_directions]} ({self.perovskite_cells} cells,"
            f" {self.perovskite_planes} planes) on chalcogenide {self.chalcogenide_hkl}"
            f" {[list(d) for d in self.chalcogenide_directions]} ({self.chalcogenide_cells}"
            f" cells, {self.chalcogenide_planes} planes), area {self.area:.1f} Å², strain"
            f" perovskite {p[0]:+.2f}/{p[1]:+.2f} %, chalcogenide {c[0]:+.2f}/{c[1]:+.2f} %"
        )


def tuples_as_lists(value: Any) -> Any:
    """A JSON-safe copy of nested dicts, lists and tuples: every tuple becomes a list."""
    if isinstance(value, dict):
        return {k: tuples_as_lists(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [tuples_as_lists(v) for v in value]
    return value


def bulk_pair(spec: InterfaceSpec) -> tuple[Atoms, Atoms]:
    """(perovskite, chalcogenide) bulk cells of a spec, with its lattice constants (Å)."""
    return (
        perovskite(spec.perovskite, spec.perovskite_phase, a=spec.perovskite_a),
        chalcogenide(spec.chalcogenide, spec.chalcogenide_phase, a=spec.chalcogenide_a),
    )


def one_to_one_split(spec: InterfaceSpec) -> StrainSplit:
    """The strain split of the spec's cell as given (1:1 primitive cells or its directions)."""
    bulk_p, bulk_c = bulk_pair(spec)
    scale = np.diag(spec.supercell).astype(float)
    cells = []
    for bulk, hkl, directions in (
        (bulk_p, spec.perovskite_hkl, spec.perovskite_directions),
        (bulk_c, spec.chalcogenide_hkl, spec.chalcogenide_directions),
    ):
        plane = primitive_miller(hkl)
        pair = directions if directions is not None else in_plane_lattice(bulk, plane)
        vectors = np.asarray(pair, dtype=float) @ bulk.cell[:]
        cells.append(scale @ planar_frame(_right_handed(vectors, plane_normal(bulk, plane))))
    return split_strain(cells[0], cells[1], spec.strain_weight)


def _right_handed(vectors: np.ndarray, normal: np.ndarray) -> np.ndarray:
    """The pair with its second vector flipped if it is left-handed about ``normal``."""
    if np.dot(np.cross(vectors[0], vectors[1]), normal) < 0:
        return np.array([vectors[0], -vectors[1]])
    return np.asarray(vectors)


def _zsl_pairs(
    bulk_p: Atoms, hkl_p: Vector3, bulk_c: Atoms, hkl_c: Vector3, tolerance: float, area: float
) -> list[tuple[np.ndarray, np.ndarray]]:
    """ZSL supercell vector pairs (perovskite, chalcogenide; Cartesian Å), same handedness.

    ZSL compares unsigned angles, so a pair may be mirror-related; the second vectors are
    flipped to make both right-handed, which keeps the match only for rectangular cells.
    """
    basis_p = np.asarray(in_plane_lattice(bulk_p, hkl_p), float) @ bulk_p.cell[:]
    basis_c = np.asarray(in_plane_lattice(bulk_c, hkl_c), float) @ bulk_c.cell[:]
    generator = ZSLGenerator(
        max_area_ratio_tol=0.09,
        max_area=area,
        max_length_tol=tolerance,
        max_angle_tol=tolerance,
        bidirectional=True,
    )
    normals = (plane_normal(bulk_p, hkl_p), plane_normal(bulk_c, hkl_c))
    pairs = []
    for match in generator(basis_c, basis_p, lowest=False):
        vectors_p = np.asarray(match.substrate_sl_vectors, dtype=float)
        vectors_c = np.asarray(match.film_sl_vectors, dtype=float)
        pair = (vectors_p, vectors_c)
        hands = [np.dot(np.cross(*v), n) > 0 for v, n in zip(pair, normals, strict=True)]
        cosines = [abs(np.dot(*v)) / np.prod(np.linalg.norm(v, axis=1)) for v in pair]
        if hands[0] != hands[1] and max(cosines) > 1e-6:
            continue
        pairs.append((_right_handed(vectors_p, normals[0]), _right_handed(vectors_c, normals[1])))
    return pairs


def _tolerance(spec: InterfaceSpec) -> float:
    """ZSL length/angle tolerance (fraction) that can still meet the bound after the split."""
    share = max(spec.strain_weight, 1.0 - spec.strain_weight)
    return spec.max_strain_percent / 100.0 / share + 2e-3


def nonpolar_film(
    unit: Atoms, planes: int, mode: str, bottom: str | None
) -> tuple[Atoms, int, str] | None:
    """A neutral slab with zero formal dipole: the requested one, else compensated (odd count).

    Returns (slab, planes, mode) or None when neither can be built. Why: a polar facet
    (zinc-blende (100), perovskite (111)) cannot keep the requested stoichiometric stack.
    """
    options = [(planes, mode), (planes if planes % 2 else planes + 1, "compensated")]
    for count, slab_mode in dict.fromkeys(options):
        try:
            slab = build_slab(unit, count, bottom_plane_index(unit, bottom), slab_mode)
        except StructureInputError:
            continue
        termination = describe(slab, slab_mode)
        if abs(termination.total_charge) < 1e-9 and abs(termination.dipole) < 1e-6:
            return slab, count, slab_mode
    return None


def _candidate(
    spec: InterfaceSpec,
    bulks: tuple[Atoms, Atoms],
    facets: tuple[Vector3, Vector3],
    vectors: tuple[np.ndarray, np.ndarray],
) -> CoincidenceCell | None:
    """The cell of one ZSL pair with both films built; None if over the bound or polar."""
    scale = np.diag(spec.supercell).astype(float)
    frames = [scale @ planar_frame(v) for v in vectors]
    split = split_strain(frames[0], frames[1], spec.strain_weight)
    if split.worst_percent > spec.max_strain_percent:
        return None
    directions: list[tuple[Vector3, Vector3]] = [
        (direction_indices(b, pair[0]), direction_indices(b, pair[1]))
        for b, pair in zip(bulks, vectors, strict=True)
    ]
    requests = (
        (spec.perovskite_planes, spec.perovskite_mode, spec.perovskite_bottom_plane),
        (spec.chalcogenide_planes, spec.chalcogenide_mode, None),
    )
    films = []
    for bulk, hkl, pair, (planes, mode, bottom) in zip(
        bulks, facets, directions, requests, strict=True
    ):
        unit = oriented_unit(bulk, hkl, pair).repeat((spec.supercell[0], spec.supercell[1], 1))
        film = nonpolar_film(unit, planes, mode, bottom)
        if film is None:
            return None
        films.append(film)
    cells = [
        round(abs(np.linalg.det(planar_frame(v))) / _primitive_area(b, h))
        for v, b, h in zip(vectors, bulks, facets, strict=True)
    ]
    return CoincidenceCell(
        facets[0], facets[1], directions[0], directions[1],
        cells[0], cells[1], float(abs(np.linalg.det(split.common))),
        split.perovskite_strain_percent, split.chalcogenide_strain_percent,
        films[0][1], films[1][1], films[0][2], films[1][2], len(films[0][0]) + len(films[1][0]),
    )  # fmt: skip


def _primitive_area(bulk: Atoms, hkl: Vector3) -> float:
    """Area (Å²) of the 2D cell of plane (hkl) in the conventional bulk's lattice."""
    vectors = np.asarray(in_plane_lattice(bulk, hkl), float) @ bulk.cell[:]
    return float(np.linalg.norm(np.cross(vectors[0], vectors[1])))


@lru_cache(maxsize=32)
def coincidence_candidates(
    spec: InterfaceSpec, max_area: float = SEARCH_MAX_AREA
) -> tuple[CoincidenceCell, ...]:
    """Every distinct cell over the allowed facet pairs meeting the strain bound, best first.

    Best = fewest atoms (the SCF cost), then the smallest worst strain, then the smallest
    area. No atom cap here: :func:`resolve_cell` applies it and names the smallest cell.
    """
    bulks = bulk_pair(spec)
    found: dict[tuple, CoincidenceCell | None] = {}
    tolerance = _tolerance(spec)
    pairs = [(p, c) for p in ALLOWED_FACETS for c in ALLOWED_FACETS]
    if spec.coincidence == "facets":
        pairs = [(primitive_miller(spec.perovskite_hkl), primitive_miller(spec.chalcogenide_hkl))]
    for facets in pairs:
        for vectors in _zsl_pairs(bulks[0], facets[0], bulks[1], facets[1], tolerance, max_area):
            frames = np.round([planar_frame(vectors[0]), planar_frame(vectors[1])], 2)
            key = (facets, *frames.ravel())
            if key not in found:
                found[key] = _candidate(spec, bulks, facets, vectors)
    return tuple(sorted((c for c in found.values() if c is not None), key=_rank))


def _rank(cell: CoincidenceCell) -> tuple:
    """Fewest atoms, then smallest worst strain, then area; facets/directions break ties."""
    return (
        cell.n_atoms,
        round(cell.worst_strain_percent, 3),
        round(cell.area, 2),
        cell.perovskite_hkl,
        cell.chalcogenide_hkl,
        cell.perovskite_directions,
    )


def apply_cell(spec: InterfaceSpec, cell: CoincidenceCell) -> InterfaceSpec:
    """The spec with the cell's facets, supercell directions, plane counts and slab modes."""
    return replace(
        spec,
        perovskite_hkl=cell.perovskite_hkl,
        chalcogenide_hkl=cell.chalcogenide_hkl,
        perovskite_directions=cell.perovskite_directions,
        chalcogenide_directions=cell.chalcogenide_directions,
        perovskite_planes=cell.perovskite_planes,
        chalcogenide_planes=cell.chalcogenide_planes,
        perovskite_mode=cell.perovskite_mode,
        chalcogenide_mode=cell.chalcogenide_mode,
    )


def resolve_cell(spec: InterfaceSpec) -> tuple[InterfaceSpec, CoincidenceCell | None]:
    """The spec to build and the coincidence cell chosen for it (None: the cell as given).

    The cell as given (1:1, or the spec's own directions) is kept when it meets the bound
    or when ``coincidence="off"``; otherwise the best candidate under the atom cap
    (``max_atoms``, default :data:`DEFAULT_MAX_ATOMS`). Raises
    :class:`StrainTooLargeError` naming the smallest cell that would work and its atoms.
    """
    if spec.coincidence not in COINCIDENCE_MODES:
        raise StructureInputError(
            f"coincidence={spec.coincidence!r}; choose from {COINCIDENCE_MODES}"
        )
    split = one_to_one_split(spec)
    given = spec.perovskite_directions is not None or spec.chalcogenide_directions is not None
    if split.worst_percent <= spec.max_strain_percent or spec.coincidence == "off" or given:
        return spec, None
    cap = spec.max_atoms if spec.max_atoms is not None else DEFAULT_MAX_ATOMS
    candidates = coincidence_candidates(spec)
    fitting = [c for c in candidates if c.n_atoms <= cap]
    if fitting:
        return apply_cell(spec, fitting[0]), fitting[0]
    raise StrainTooLargeError(_refusal(spec, split, candidates, cap))


def _refusal(
    spec: InterfaceSpec, split: StrainSplit, candidates: tuple[CoincidenceCell, ...], cap: int
) -> str:
    """Why no model was built, with the smallest one that would work."""
    p, c = split.perovskite_strain_percent, split.chalcogenide_strain_percent
    head = (
        f"{spec.perovskite}/{spec.chalcogenide}: the 1:1 cell needs {split.worst_percent:.2f} %"
        f" (perovskite {p[0]:+.2f}/{p[1]:+.2f} %, chalcogenide {c[0]:+.2f}/{c[1]:+.2f} %)"
        f" > max_strain_percent={spec.max_strain_percent:g}"
    )
    if not candidates:
        return (
            f"{head}, and no coincidence cell up to {SEARCH_MAX_AREA:g} Å² meets it with"
            " non-polar films: raise max_strain_percent (--max-strain) or move strain_weight"
        )
    return (
        f"{head}; the smallest coincidence cell that meets it has {candidates[0].n_atoms} atoms"
        f" > max_atoms={cap} ({candidates[0].describe()}): pass max_atoms={candidates[0].n_atoms}"
        " (--max-atoms) or raise max_strain_percent (--max-strain)"
    )
