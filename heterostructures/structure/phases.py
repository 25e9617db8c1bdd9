"""Bulk phases of CsPbX3 perovskites and MX metal chalcogenides as ``ase.Atoms`` (Å).

Default lattice parameters are experimental (sources in :data:`LATTICE_DEFAULTS`); every
builder takes explicit lattice parameters so computed (e.g. PBE-relaxed) values can
replace them. Perovskite "cubic" cells default to the room-temperature *pseudo-cubic*
lattice constant a_pc = (V_Pnma / 4)^(1/3), because that is the setting in which
Qiu et al. (Adv. Sci. 2023, 10, 2206560) index CsPbBr3: with the 298 K Pnma default,
d{220} = a_pc/√8 = 2.0617 Å. (The paper's 2.0610 Å is Pnma a/4 = d(400), one of the three
Pnma planes pseudo-cubic {220} splits into.)
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import spglib
from ase import Atoms
from ase.build import bulk
from ase.data import atomic_numbers
from ase.io import read
from pymatgen.core import Composition

from heterostructures.structure.errors import UnknownElementError, UnknownPhaseError

PEROVSKITE_PHASES = ("cubic", "orthorhombic")
CHALCOGENIDE_PHASES = ("zincblende", "wurtzite")

FORMAL_CHARGES: dict[str, int] = {
    "Cs": 1, "Rb": 1, "K": 1, "Na": 1,
    "Pb": 2, "Sn": 2, "Ge": 2, "Cd": 2, "Zn": 2, "Hg": 2,
    "F": -1, "Cl": -1, "Br": -1, "I": -1,
    "O": -2, "S": -2, "Se": -2, "Te": -2,
}  # fmt: skip
"""Formal ionic charges (e) used for plane charges and slab dipoles."""


@dataclass(frozen=True)
class LatticeDefault:
    """Experimental lattice parameters (Å) of one formula/phase with their source."""

    a: float
    b: float | None = None
    c: float | None = None
    source: str = ""


LATTICE_DEFAULTS: dict[tuple[str, str], LatticeDefault] = {
    # Room-temperature orthorhombic Pnma (b is the long, in-phase tilt axis).
    ("CsPbBr3", "orthorhombic"): LatticeDefault(
        8.2440, 11.7351, 8.1982, "Stoumpos et al., Cryst. Growth Des. 13, 2722 (2013), 298 K"
    ),
    ("CsPbCl3", "orthorhombic"): LatticeDefault(
        7.9020, 11.2487, 7.8980, "Linaburg et al., Chem. Mater. 29, 3507 (2017), 300 K"
    ),
    ("CsPbI3", "orthorhombic"): LatticeDefault(
        8.6437, 12.5121, 8.8547, "Sutton et al., ACS Energy Lett. 3, 1787 (2018), gamma, 298 K"
    ),
    # High-temperature cubic Pm-3m (reference only; "cubic" builds use a_pc by default).
    ("CsPbBr3", "cubic_high_temperature"): LatticeDefault(
        5.874, source="Stoumpos et al., Cryst. Growth Des. 13, 2722 (2013), > 403 K"
    ),
    ("CsPbCl3", "cubic_high_temperature"): LatticeDefault(
        5.605, source="Møller, Nature 182, 1436 (1958)"
    ),
    ("CsPbI3", "cubic_high_temperature"): LatticeDefault(
        6.2894, source="Trots & Myagkota, J. Phys. Chem. Solids 69, 2520 (2008), 634 K"
    ),
    # II-VI semiconductors, room temperature: Madelung, Semiconductors: Data Handbook,
    # 3rd ed. (Springer, 2004).
    ("CdS", "zincblende"): LatticeDefault(5.818, source="Madelung, Semiconductors (2004)"),
    ("CdS", "wurtzite"): LatticeDefault(4.1367, None, 6.7161, "Madelung, Semiconductors (2004)"),
    ("ZnS", "zincblende"): LatticeDefault(5.4093, source="Madelung, Semiconductors (2004)"),
    ("ZnS", "wurtzite"): LatticeDefault(3.8227, None, 6.2607, "Madelung, Semiconductors (2004)"),
    ("CdSe", "zincblende"): LatticeDefault(6.077, source="Madelung, Semiconductors (2004)"),
    ("CdSe", "wurtzite"): LatticeDefault(4.2999, None, 7.0109, "Madelung, Semiconductors (2004)"),
    ("ZnSe", "zincblende"): LatticeDefault(5.6676, source="Madelung, Semiconductors (2004)"),
}


COMPUTED_LATTICES: dict[tuple[str, str], LatticeDefault] = {
    ("CsPbBr3", "cubic"): LatticeDefault(
        5.973, source="janus.bulk_reference fast, PBE, pslibrary 1.0.0 PAW (README, demo 0.2.0)"
    ),
    ("CdS", "zincblende"): LatticeDefault(
        5.927, source="janus.bulk_reference fast, PBE, pslibrary 1.0.0 PAW (README, demo 0.2.0)"
    ),
}
"""PBE lattice constants (Å) this project has computed; pairs without one are not computed."""


def _check_elements(formula: str) -> Composition:
    """Parse a formula, refusing unknown symbols and elements without a formal charge."""
    try:
        composition = Composition(formula)
    except (ValueError, KeyError) as error:
        raise UnknownElementError(f"cannot parse formula {formula!r}: {error}") from error
    for element in composition.elements:
        symbol = str(element)
        if symbol not in atomic_numbers:
            raise UnknownElementError(f"{symbol!r} in {formula!r} is not a chemical element")
        if symbol not in FORMAL_CHARGES:
            raise UnknownElementError(
                f"{symbol!r} in {formula!r} has no formal charge; known: {sorted(FORMAL_CHARGES)}"
            )
    return composition


def perovskite_ions(formula: str) -> tuple[str, str, str]:
    """Return (A, B, X) of an ABX3 perovskite formula such as ``"CsPbBr3"``."""
    composition = _check_elements(formula)
    amounts = {str(el): composition[el] for el in composition.elements}
    by_charge = {FORMAL_CHARGES[symbol]: symbol for symbol in amounts}
    if len(amounts) != 3 or set(by_charge) != {1, 2, -1} or amounts[by_charge[-1]] != 3:
        raise UnknownPhaseError(
            f"{formula!r} is not an A(+1)B(+2)X(-1)3 perovskite formula such as 'CsPbBr3'"
        )
    return by_charge[1], by_charge[2], by_charge[-1]


def chalcogenide_ions(formula: str) -> tuple[str, str]:
    """Return (M, X) of a 1:1 M(+2)X(-2) formula such as ``"CdS"``."""
    composition = _check_elements(formula)
    symbols = [str(el) for el in composition.elements]
    charges = sorted((FORMAL_CHARGES[s], s) for s in symbols)
    if (
        len(symbols) != 2
        or [q for q, _ in charges] != [-2, 2]
        or len(set(composition.values())) != 1
    ):
        raise UnknownPhaseError(f"{formula!r} is not a 1:1 M(+2)X(-2) formula such as 'CdS'")
    return charges[1][1], charges[0][1]


def pseudocubic_lattice_constant(formula: str) -> float:
    """Room-temperature pseudo-cubic a_pc = (V_Pnma / 4)^(1/3) in Å from the Pnma defaults."""
    perovskite_ions(formula)
    default = LATTICE_DEFAULTS.get((formula, "orthorhombic"))
    if default is None or default.b is None or default.c is None:
        raise UnknownPhaseError(f"no default lattice for {formula!r}: pass a= explicitly")
    return float((default.a * default.b * default.c / 4.0) ** (1.0 / 3.0))


def perovskite(
    formula: str,
    phase: str = "cubic",
    a: float | None = None,
    tilt_deg: float = 8.0,
    **lattice: float,
) -> Atoms:
    """Bulk ABX3 perovskite (Å).

    ``cubic``: 5-atom Pm-3m cell, B at the origin; ``a`` defaults to the room-temperature
    pseudo-cubic constant. ``orthorhombic``: 20-atom Pnma cell (b long) built from the
    cubic cell by a⁻b⁺a⁻ octahedral rotations of ``tilt_deg`` and scaled to the
    experimental (or given ``a``, ``b``, ``c``) lattice; the A cation stays at its ideal
    site, so use :func:`from_file` with a refined CIF where internal coordinates matter.
    """
    a_site, b_site, x_site = perovskite_ions(formula)
    if phase == "cubic":
        a_cubic = a if a is not None else pseudocubic_lattice_constant(formula)
        _require_positive(a=a_cubic)
        half = 0.5 * a_cubic
        positions = [(0, 0, 0), (half, half, half), (half, 0, 0), (0, half, 0), (0, 0, half)]
        symbols = [b_site, a_site, x_site, x_site, x_site]
        return Atoms(symbols, positions=positions, cell=np.eye(3) * a_cubic, pbc=True)
    if phase == "orthorhombic":
        default = LATTICE_DEFAULTS.get((formula, "orthorhombic"))
        abc = (a, lattice.get("b"), lattice.get("c"))
        if default is None and None in abc:
            raise UnknownPhaseError(f"no Pnma default for {formula!r}: pass a=, b=, c=")
        if default is not None:
            abc = (abc[0] or default.a, abc[1] or default.b, abc[2] or default.c)
        return _tilted_pnma((a_site, b_site, x_site), tuple(float(v) for v in abc), tilt_deg)  # type: ignore[arg-type]
    raise UnknownPhaseError(f"unknown perovskite phase {phase!r}; choose from {PEROVSKITE_PHASES}")


def _rotation(axis: int, angle_rad: float) -> np.ndarray:
    """Right-handed rotation matrix about Cartesian axis 0, 1 or 2."""
    i, j = [k for k in range(3) if k != axis]
    matrix = np.eye(3)
    matrix[i, i] = matrix[j, j] = np.cos(angle_rad)
    matrix[i, j], matrix[j, i] = -np.sin(angle_rad), np.sin(angle_rad)
    return matrix


def _tilted_pnma(
    ions: tuple[str, str, str], abc: tuple[float, float, float], tilt_deg: float
) -> Atoms:
    """Pnma cell from a 2×2×2 cubic supercell with a⁻b⁺a⁻ rotations, standardised by spglib."""
    a_site, b_site, x_site = ions
    angle = np.radians(tilt_deg)
    symbols, positions = [], []
    for i, j, k in itertools.product(range(2), repeat=3):
        signs = ((-1) ** (j + k + i), (-1) ** (i + k), (-1) ** (i + j + k))
        rotation = _rotation(2, signs[2] * angle) @ _rotation(1, signs[1] * angle)
        rotation = rotation @ _rotation(0, signs[0] * angle)
        origin = np.array([i, j, k], dtype=float)
        symbols += [b_site, a_site]
        positions += [origin, origin + 0.5]
        for axis in range(3):
            bond = 0.5 * np.eye(3)[axis]
            symbols.append(x_site)
            positions.append(origin + rotation @ bond)
    numbers = [atomic_numbers[s] for s in symbols]
    fractional = (np.array(positions) / 2.0 % 1.0).tolist()
    cell = ((np.eye(3) * 2.0).tolist(), fractional, numbers)
    dataset = spglib.get_symmetry_dataset(cell, symprec=0.05)
    if dataset is None or dataset.number != 62:
        raise UnknownPhaseError(f"tilt {tilt_deg}° did not produce Pnma; use a tilt in (1°, 20°)")
    standard = spglib.standardize_cell(cell, symprec=0.05)
    if standard is None:
        raise UnknownPhaseError(f"spglib could not standardise the Pnma cell (tilt {tilt_deg}°)")
    std_lattice, std_positions, std_numbers = standard
    lengths = np.linalg.norm(std_lattice, axis=1)
    if not np.isclose(lengths[1], lengths.max()):
        raise UnknownPhaseError("internal error: Pnma standard cell does not have b longest")
    return Atoms(numbers=std_numbers, scaled_positions=std_positions, cell=np.diag(abc), pbc=True)


def chalcogenide(
    formula: str, phase: str = "zincblende", a: float | None = None, c: float | None = None
) -> Atoms:
    """Bulk MX zinc blende (8-atom conventional cubic cell) or wurtzite (4-atom cell), Å.

    Any M(+2)X(-2) pair works when ``a`` (and ``c`` for wurtzite) are given; known pairs
    default to :data:`LATTICE_DEFAULTS`.
    """
    metal, anion = chalcogenide_ions(formula)
    if phase not in CHALCOGENIDE_PHASES:
        raise UnknownPhaseError(
            f"unknown chalcogenide phase {phase!r}; choose from {CHALCOGENIDE_PHASES}"
        )
    default = LATTICE_DEFAULTS.get((formula, phase))
    if a is None and default is None:
        raise UnknownPhaseError(f"no default lattice for {formula!r} {phase}: pass a= (and c=)")
    a_value = a if a is not None else default.a  # type: ignore[union-attr]
    if phase == "zincblende":
        _require_positive(a=a_value)
        return bulk(f"{metal}{anion}", "zincblende", a=a_value, cubic=True)
    c_value = (
        c if c is not None else (default.c if default and default.c else a_value * np.sqrt(8 / 3))
    )
    _require_positive(a=a_value, c=c_value)
    return bulk(f"{metal}{anion}", "wurtzite", a=a_value, c=c_value)


def bulk_phase(formula: str, phase: str, **lattice: float) -> Atoms:
    """Dispatch to :func:`perovskite` or :func:`chalcogenide` by phase name."""
    if phase in PEROVSKITE_PHASES:
        return perovskite(formula, phase, **lattice)
    if phase in CHALCOGENIDE_PHASES:
        return chalcogenide(formula, phase, **lattice)
    raise UnknownPhaseError(
        f"unknown phase {phase!r}; choose from {PEROVSKITE_PHASES + CHALCOGENIDE_PHASES}"
    )


def from_file(path: str | Path) -> Atoms:
    """Read a bulk structure from a CIF or POSCAR file, checking every element is known."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"structure file {path} does not exist")
    atoms = read(path, index=0)
    if not isinstance(atoms, Atoms):
        raise UnknownPhaseError(f"{path} holds no single structure")
    for symbol in set(atoms.get_chemical_symbols()):
        if symbol not in FORMAL_CHARGES:
            raise UnknownElementError(f"{symbol!r} in {path} has no formal charge")
    return atoms


def _require_positive(**values: float) -> None:
    """Refuse non-positive lattice parameters."""
    for name, value in values.items():
        if not value > 0:
            raise UnknownPhaseError(f"lattice parameter {name}={value} Å must be positive")
