"""Epitaxial relations of CsPbX3 on MX chalcogenides: d-spacings, oriented relations, report.

Qiu et al. (Adv. Sci. 2023) compare *d-spacings*: d{220} of CsPbBr3 (they quote 2.0610 Å,
which is Pnma a/4 = d(400) of the 298 K lattice; pseudo-cubic a_pc/√8 is 2.0617 Å) with
d{220} of zinc-blende CdS (they quote 2.0614 Å; a/√8 = 2.0570 Å with the Madelung a), and
report the zone axes [001]CsPbBr3 ∥ [111]CdS. Both zone axes lie in the interface plane,
where 5.83 Å ([001] pc) meets a√3 = 10.08 Å ([111] CdS): that relation needs a large
coincidence cell. Cube-on-cube (110)/(110), [001] ∥ [001], matches 1:1 in a 5.8 × 8.2 Å
cell with ≈ 0.2 % strain; the computed model uses it (see
:mod:`heterostructures.structure.interface`).
This module puts both side by side. Strains are the film's (chalcogenide) onto the substrate
(perovskite), in %.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
from ase import Atoms

from heterostructures.structure.errors import InvalidMillerIndexError, NoEpitaxialMatchError
from heterostructures.structure.facet_matching import (
    FacetMatch,
    MatchTolerances,
    Vector3,
    interplanar_spacing,
    plane_normal,
    primitive_miller,
    rank_facet_pairs,
)
from heterostructures.structure.phases import chalcogenide, perovskite


def pseudocubic_spacing(a_pc: float, hkl: tuple[int, ...]) -> float:
    """d_hkl = a_pc / √(h²+k²+l²) (Å) in the pseudo-cubic setting of a perovskite."""
    primitive_miller(hkl)
    return float(a_pc / np.sqrt(sum(v * v for v in hkl)))


def mismatch_percent(film_length: float, substrate_length: float) -> float:
    """(film − substrate) / substrate in %, the strain the film takes to fit the substrate."""
    return 100.0 * (film_length - substrate_length) / substrate_length


def lattice_period(atoms: Atoms, direction: tuple[int, ...], max_divisor: int = 6) -> float:
    """Shortest translation (Å) of the crystal along [uvw] (e.g. a/√2 along fcc [110])."""
    if not any(direction):
        raise InvalidMillerIndexError("direction [0 0 0] has zero length: give e.g. [0, 0, 1]")
    vector = np.asarray(direction, dtype=float) @ atoms.cell[:]
    for divisor in range(max_divisor, 0, -1):
        if _is_translation(atoms, vector / divisor):
            return float(np.linalg.norm(vector) / divisor)
    return float(np.linalg.norm(vector))


def _is_translation(atoms: Atoms, shift: np.ndarray, tolerance: float = 1e-3) -> bool:
    """True if shifting every atom by ``shift`` (Å) maps the crystal onto itself."""
    cell = np.asarray(atoms.cell[:], dtype=float)
    fractional = atoms.get_scaled_positions()
    shifted = fractional + np.linalg.solve(cell.T, shift)
    symbols = atoms.get_chemical_symbols()
    for position, symbol in zip(shifted, symbols, strict=True):
        delta = fractional - position
        delta -= np.rint(delta)
        distances = np.linalg.norm(delta @ cell, axis=1)
        same = [d < tolerance and s == symbol for d, s in zip(distances, symbols, strict=True)]
        if not any(same):
            return False
    return True


@dataclass(frozen=True)
class AxisMatch:
    """A 1D coincidence along one in-plane axis: ``film_repeats`` × film period ≈ substrate."""

    film_direction: Vector3
    substrate_direction: Vector3
    film_period: float
    substrate_period: float
    film_repeats: int
    substrate_repeats: int
    strain_percent: float
    one_to_one_strain_percent: float


@dataclass(frozen=True)
class OrientedRelation:
    """An epitaxial relation fixed by planes and one in-plane direction pair, with its cell."""

    name: str
    film_hkl: Vector3
    substrate_hkl: Vector3
    axes: tuple[AxisMatch, AxisMatch]
    supercell_lengths: tuple[float, float]
    atoms_per_repeat: int

    @property
    def max_strain_percent(self) -> float:
        """Largest |strain| (%) over the two in-plane axes."""
        return max(abs(axis.strain_percent) for axis in self.axes)


def _perpendicular_direction(
    atoms: Atoms, hkl: Vector3, direction: Vector3, search: int = 6
) -> Vector3:
    """Shortest integer [uvw] in plane (hkl) perpendicular to ``direction``."""
    target = np.cross(plane_normal(atoms, hkl), np.asarray(direction) @ atoms.cell[:])
    target /= np.linalg.norm(target)
    best = None
    for u in itertools.product(range(-search, search + 1), repeat=3):
        vector = np.asarray(u) @ atoms.cell[:]
        length = np.linalg.norm(vector)
        if (
            length > 0
            and np.dot(vector, target) / length > 1 - 1e-8
            and (best is None or length < best[0])
        ):
            best = (length, u)
    if best is None:
        raise NoEpitaxialMatchError(f"no lattice direction in {hkl} perpendicular to {direction}")
    return (int(best[1][0]), int(best[1][1]), int(best[1][2]))


def _axis_match(
    film: Atoms,
    film_dir: Vector3,
    substrate: Atoms,
    substrate_dir: Vector3,
    max_repeats: int,
    tolerance: float,
) -> AxisMatch:
    """Smallest repeat pair along one axis with |strain| ≤ tolerance (%), else the best one."""
    film_period = lattice_period(film, film_dir)
    substrate_period = lattice_period(substrate, substrate_dir)
    pairs = itertools.product(range(1, max_repeats + 1), repeat=2)
    options = sorted(
        (
            max(m * film_period, n * substrate_period),
            m,
            n,
            mismatch_percent(m * film_period, n * substrate_period),
        )
        for m, n in pairs
    )
    within = [option for option in options if abs(option[3]) <= tolerance]
    _, m, n, strain = within[0] if within else min(options, key=lambda option: abs(option[3]))
    return AxisMatch(
        film_dir, substrate_dir, film_period, substrate_period, m, n, strain,
        mismatch_percent(film_period, substrate_period),
    )  # fmt: skip


def oriented_relation(
    film: Atoms,
    film_hkl: tuple[int, ...],
    film_direction: Vector3,
    substrate: Atoms,
    substrate_hkl: tuple[int, ...],
    substrate_direction: Vector3,
    name: str = "",
    max_repeats: int = 12,
    tolerance_percent: float = 1.0,
) -> OrientedRelation:
    """Coincidence cell of a relation given by planes and one in-plane direction pair.

    The second axis is the in-plane perpendicular on each side. ``atoms_per_repeat``
    counts film plus substrate atoms in one stacking period of each side over the cell.
    """
    film_plane, substrate_plane = primitive_miller(film_hkl), primitive_miller(substrate_hkl)
    for hkl, direction in ((film_plane, film_direction), (substrate_plane, substrate_direction)):
        if int(np.dot(hkl, direction)) != 0:
            raise InvalidMillerIndexError(f"direction {direction} does not lie in plane {hkl}")
    first = _axis_match(
        film, film_direction, substrate, substrate_direction, max_repeats, tolerance_percent
    )
    second = _axis_match(
        film, _perpendicular_direction(film, film_plane, film_direction),
        substrate, _perpendicular_direction(substrate, substrate_plane, substrate_direction),
        max_repeats, tolerance_percent,
    )  # fmt: skip
    lengths = (
        first.substrate_repeats * first.substrate_period,
        second.substrate_repeats * second.substrate_period,
    )
    area = lengths[0] * lengths[1]
    atoms_count = sum(
        len(atoms) / atoms.get_volume() * area * interplanar_spacing(atoms, hkl)
        for atoms, hkl in ((film, film_plane), (substrate, substrate_plane))
    )
    return OrientedRelation(
        name, film_plane, substrate_plane, (first, second), lengths, round(atoms_count)
    )


def paper_relation(chalcogenide_atoms: Atoms, perovskite_atoms: Atoms) -> OrientedRelation:
    """Qiu et al.: CdS (−202) on CsPbBr3 (220), [111]CdS ∥ [001]CsPbBr3 (pseudo-cubic)."""
    return oriented_relation(
        chalcogenide_atoms, (-2, 0, 2), (1, 1, 1), perovskite_atoms, (2, 2, 0), (0, 0, 1),
        name="paper: (-202)[111] chalcogenide || (220)[001] perovskite",
    )  # fmt: skip


def cube_on_cube_relation(chalcogenide_atoms: Atoms, perovskite_atoms: Atoms) -> OrientedRelation:
    """Cube-on-cube (110)/(110) with [001] ∥ [001]: the relation the computed model uses."""
    return oriented_relation(
        chalcogenide_atoms, (1, 1, 0), (0, 0, 1), perovskite_atoms, (1, 1, 0), (0, 0, 1),
        name="cube-on-cube: (110)[001] chalcogenide || (110)[001] perovskite",
    )  # fmt: skip


REPORT_TOLERANCES = MatchTolerances(max_area=400.0)
"""Report default: coincidence cells up to 400 Å² (ZnS on CsPbBr3 needs ≈ 270 Å²)."""


@dataclass(frozen=True)
class EpitaxyReport:
    """Everything the epitaxy section of the docs quotes for one perovskite/chalcogenide pair."""

    perovskite: str
    chalcogenide: str
    pseudocubic_a: float
    chalcogenide_a: float
    d220_perovskite: float
    d220_chalcogenide: float
    d220_mismatch_percent: float
    orthorhombic_d220_pnma: float
    orthorhombic_d220_pbnm: float
    paper: OrientedRelation
    cube_on_cube: OrientedRelation
    candidates: tuple[FacetMatch, ...]
    lattice_mismatch_percent: float


def epitaxy_report(
    perovskite_formula: str = "CsPbBr3",
    chalcogenide_formula: str = "CdS",
    perovskite_a: float | None = None,
    chalcogenide_a: float | None = None,
    tolerances: MatchTolerances | None = None,
) -> EpitaxyReport:
    """d-spacings, the paper's relation, cube-on-cube and ranked ZSL candidates.

    Pass ``perovskite_a``/``chalcogenide_a`` (Å) to report for computed (e.g. PBE) lattices.
    """
    cubic = perovskite(perovskite_formula, "cubic", a=perovskite_a)
    orthorhombic = perovskite(perovskite_formula, "orthorhombic")
    zincblende = chalcogenide(chalcogenide_formula, "zincblende", a=chalcogenide_a)
    a_pc, a_zb = float(cubic.cell[0, 0]), float(zincblende.cell[0, 0])
    d_p, d_c = pseudocubic_spacing(a_pc, (2, 2, 0)), interplanar_spacing(zincblende, (2, 2, 0))
    try:
        candidates = rank_facet_pairs(zincblende, cubic, 1, tolerances or REPORT_TOLERANCES)
    except NoEpitaxialMatchError:
        candidates = ()
    return EpitaxyReport(
        perovskite_formula, chalcogenide_formula, a_pc, a_zb, d_p, d_c, mismatch_percent(d_c, d_p),
        interplanar_spacing(orthorhombic, (2, 2, 0)), interplanar_spacing(orthorhombic, (2, 0, 2)),
        paper_relation(zincblende, cubic), cube_on_cube_relation(zincblende, cubic), candidates,
        mismatch_percent(a_zb, a_pc),
    )  # fmt: skip


def _relation_lines(relation: OrientedRelation) -> list[str]:
    """Text lines for one oriented relation: per-axis periods, repeats and strains."""
    lines = [f"  {relation.name}"]
    for axis in relation.axes:
        lines.append(
            f"    film {list(axis.film_direction)} {axis.film_period:.3f} Å x{axis.film_repeats}"
            f"  || substrate {list(axis.substrate_direction)} {axis.substrate_period:.3f} Å"
            f" x{axis.substrate_repeats}: strain {axis.strain_percent:+.2f} %"
            f" (1:1 would be {axis.one_to_one_strain_percent:+.2f} %)"
        )
    length_a, length_b = relation.supercell_lengths
    lines.append(
        f"    cell {length_a:.2f} x {length_b:.2f} Å,"
        f" max |strain| {relation.max_strain_percent:.2f} %,"
        f" ~{relation.atoms_per_repeat} atoms per stacking period of both sides"
    )
    return lines


def format_epitaxy_report(report: EpitaxyReport, max_candidates: int = 6) -> str:
    """Plain-text epitaxy report: d-spacings, paper relation, cube-on-cube, ZSL ranking."""
    lines = [
        f"Epitaxy {report.chalcogenide} (film, zinc blende a = {report.chalcogenide_a:.4f} Å) on "
        f"{report.perovskite} (substrate, pseudo-cubic a = {report.pseudocubic_a:.4f} Å)",
        f"  d{{220}} pseudo-cubic {report.d220_perovskite:.4f} Å vs {report.chalcogenide} "
        f"{report.d220_chalcogenide:.4f} Å: mismatch {report.d220_mismatch_percent:+.2f} %",
        f"  orthorhombic (220) in Pnma {report.orthorhombic_d220_pnma:.4f} Å;"
        f" in Pbnm (= Pnma (202)) "
        f"{report.orthorhombic_d220_pbnm:.4f} Å: a different plane from pseudo-cubic {{220}}",
        "  relations (strain = film onto substrate):",
        *_relation_lines(report.paper),
        *_relation_lines(report.cube_on_cube),
        "  ZSL candidates (smallest coincidence cell first):",
    ]
    for match in report.candidates[:max_candidates]:
        lines.append(
            f"    film {match.film_hkl} {[list(d) for d in match.film_directions]}"
            f" x{match.film_cells}"
            f" on {match.substrate_hkl} {[list(d) for d in match.substrate_directions]}"
            f" x{match.substrate_cells}: area {match.match_area:.1f} Å², linear "
            f"{match.linear_mismatch_percent:+.2f} %, areal {match.areal_mismatch_percent:+.2f} %"
        )
    if not report.candidates:
        lines.append("    none under the tolerances")
    return "\n".join(lines)
