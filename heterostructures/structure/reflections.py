"""Allowed reflections of the bulk phases, and what a quoted d-spacing mismatch can mean (Å, %).

A paper that quotes a lattice mismatch without its planes (Qiu et al. quote ≈ 4.2 % for
CsPbBr3/ZnS) can be matched by *some* pair of plane spacings almost whatever the figure.
For CsPbBr3/ZnS on the experimental lattices, the 135 distinct spacings of Pnma and the
15 of zinc blende + wurtzite with d ≥ 1.5 Å (every allowed (hkl): indices are bounded by
d, not by a fixed |index|) make 2025 pairs; a ±0.3 % window around any target from 1 to
10 % holds 29.7 of them on average and is never empty; 26 fall within 4.2 ± 0.3 %. This
module therefore compares the planes the paper compares for CdS ({220}-type) first, and
reports a blind search only with how many pairs it searched and how often a window that
wide is hit by chance. The blind search uses the Pnma cell only: CsPbBr3 is orthorhombic
at room temperature, and every pseudo-cubic reflection (d ≥ 1.5 Å) is a Pnma one within 0.7 %,
so scanning both settings would count those planes twice.

Extinction rules, in the cells :mod:`heterostructures.structure.phases` builds (conventional cubic
for zinc blende, a₁ ∧ a₂ = 120° for wurtzite, b long for Pnma):

- ``cubic`` (Pm-3m, 5-atom perovskite): every (hkl).
- ``zincblende`` (F-43m): h, k, l all even or all odd (F centring).
- ``wurtzite`` (P6₃mc, both species on 2b): (h k i l) absent when h − k ≡ 0 (mod 3) and l
  is odd. This holds for any u and contains the space group's hh2̄hl and 000l, l odd.
- ``orthorhombic`` (Pnma = P 2₁/n 2₁/m 2₁/a): 0kl needs k + l even, hk0 needs h even,
  h00, 0k0 and 00l need an even index.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from ase import Atoms

from heterostructures.structure.errors import UnknownPhaseError
from heterostructures.structure.facet_matching import Vector3, interplanar_spacing, primitive_miller
from heterostructures.structure.phases import (
    LATTICE_DEFAULTS,
    chalcogenide,
    perovskite,
    pseudocubic_lattice_constant,
)


def _zincblende_allowed(h: int, k: int, l_index: int) -> bool:
    return h % 2 == k % 2 == l_index % 2


def _wurtzite_allowed(h: int, k: int, l_index: int) -> bool:
    return not ((h - k) % 3 == 0 and l_index % 2 == 1)


def _pnma_allowed(h: int, k: int, l_index: int) -> bool:
    if h == 0 and (k + l_index) % 2:
        return False
    if l_index == 0 and h % 2:
        return False
    return not (h == 0 and l_index == 0 and k % 2)


EXTINCTION_RULES: dict[str, tuple[str, Callable[[int, int, int], bool]]] = {
    "cubic": ("Pm-3m", lambda h, k, l_index: True),
    "zincblende": ("F-43m", _zincblende_allowed),
    "wurtzite": ("P6_3mc", _wurtzite_allowed),
    "orthorhombic": ("Pnma", _pnma_allowed),
}
"""Phase name of :mod:`heterostructures.structure.phases` → (space group, is (hkl) allowed)."""


def reflection_allowed(phase: str, hkl: tuple[int, ...]) -> bool:
    """True unless (hkl) (indices not reduced) is systematically absent in ``phase``."""
    if phase not in EXTINCTION_RULES:
        raise UnknownPhaseError(
            f"no extinction rules for {phase!r}; known: {list(EXTINCTION_RULES)}"
        )
    primitive_miller(hkl)
    h, k, l_index = (int(v) for v in hkl)
    return EXTINCTION_RULES[phase][1](h, k, l_index)


def miller_label(phase: str, hkl: tuple[int, ...]) -> str:
    """``(220)``, ``(-202)``; Miller–Bravais ``(10-11)`` for wurtzite (i = −h − k)."""
    indices = [int(v) for v in hkl]
    if phase == "wurtzite":
        indices = [indices[0], indices[1], -indices[0] - indices[1], indices[2]]
    separator = "," if any(abs(v) > 9 for v in indices) else ""
    return "(" + separator.join(str(v) for v in indices) + ")"


@dataclass(frozen=True)
class Reflection:
    """One allowed family of planes: a representative (hkl) and its spacing d (Å)."""

    setting: str
    phase: str
    hkl: Vector3
    spacing: float

    @property
    def label(self) -> str:
        """Setting and indices, e.g. ``wurtzite (10-11)``."""
        return f"{self.setting} {miller_label(self.phase, self.hkl)}"


def index_bounds(atoms: Atoms, min_spacing: float) -> Vector3:
    """Largest |hᵢ| of any (hkl) with d ≥ ``min_spacing`` (Å): floor(|aᵢ| / d_min).

    Exact, not a guess: hᵢ = aᵢ·G with G = Σ hⱼbⱼ and |G| = 1/d, so |hᵢ| ≤ |aᵢ|/d. A fixed
    index cutoff instead is a different d cutoff in every cell (b ≈ 11.7 Å in Pnma).
    """
    if min_spacing <= 0:
        raise ValueError(f"min_spacing must be > 0 Å, got {min_spacing}")
    lengths = np.asarray(atoms.cell.lengths(), dtype=float)
    first, second, third = (int(np.floor(length / min_spacing + 1e-9)) for length in lengths)
    return (first, second, third)


def allowed_reflections(
    atoms: Atoms, phase: str, setting: str, min_spacing: float = 1.5
) -> tuple[Reflection, ...]:
    """Every allowed reflection with d ≥ ``min_spacing`` (Å), indices bounded by d alone.

    One per distinct spacing (to 1e-4 Å), largest d first; the representative has the
    fewest negative indices, then the largest leading ones.
    """
    n_h, n_k, n_l = index_bounds(atoms, min_spacing)
    axes = (range(-n_h, n_h + 1), range(-n_k, n_k + 1), range(-n_l, n_l + 1))
    candidates: list[Vector3] = sorted(
        (hkl for hkl in itertools.product(*axes) if any(hkl)),
        key=lambda hkl: (sum(v < 0 for v in hkl), tuple(-v for v in hkl)),
    )
    by_spacing: dict[float, Reflection] = {}
    for hkl in candidates:
        spacing = interplanar_spacing(atoms, hkl)
        if spacing >= min_spacing and reflection_allowed(phase, hkl):
            by_spacing.setdefault(round(spacing, 4), Reflection(setting, phase, hkl, spacing))
    return tuple(sorted(by_spacing.values(), key=lambda r: -r.spacing))


@dataclass(frozen=True)
class SpacingPair:
    """A perovskite and a chalcogenide spacing; mismatch (%) is the chalcogenide's onto it."""

    perovskite: Reflection
    chalcogenide: Reflection

    @property
    def mismatch_percent(self) -> float:
        """(d_chalcogenide − d_perovskite) / d_perovskite in %."""
        d_p, d_c = self.perovskite.spacing, self.chalcogenide.spacing
        return 100.0 * (d_c - d_p) / d_p


@dataclass(frozen=True)
class MismatchScan:
    """Every pair of allowed spacings tried against a quoted |mismatch| ± a window (%).

    ``chance_mean_hits`` and ``chance_hit_fraction``: over targets 1.0, 1.1 … 10.0 %, the
    mean number of pairs inside a window this wide, and the share of targets with ≥ 1 hit.
    """

    target_percent: float
    window_percent: float
    perovskite_spacings: int
    chalcogenide_spacings: int
    hits: tuple[SpacingPair, ...]
    chance_mean_hits: float
    chance_hit_fraction: float

    @property
    def pairs_searched(self) -> int:
        """Number of (perovskite, chalcogenide) spacing pairs compared."""
        return self.perovskite_spacings * self.chalcogenide_spacings


def scan_mismatch(
    perovskite: tuple[Reflection, ...],
    chalcogenide: tuple[Reflection, ...],
    target_percent: float,
    window_percent: float = 0.3,
) -> MismatchScan:
    """Pairs with ||mismatch| − target| ≤ window (percentage points), closest first."""
    pairs = [SpacingPair(p, c) for p, c in itertools.product(perovskite, chalcogenide)]
    magnitudes = np.abs([pair.mismatch_percent for pair in pairs])
    hits = sorted(
        (pair for pair, m in zip(pairs, magnitudes, strict=True)
         if abs(m - target_percent) <= window_percent),
        key=lambda pair: abs(abs(pair.mismatch_percent) - target_percent),
    )  # fmt: skip
    targets = np.arange(10, 101) / 10.0
    counts = (np.abs(magnitudes[None, :] - targets[:, None]) <= window_percent).sum(axis=1)
    return MismatchScan(
        target_percent, window_percent, len(perovskite), len(chalcogenide), tuple(hits),
        float(counts.mean()), float((counts > 0).mean()),
    )  # fmt: skip


def pnma_indices(pseudocubic_hkl: tuple[int, ...]) -> Vector3:
    """Pnma (b long) indices of a pseudo-cubic plane: (h + l, 2k, h − l).

    The Pnma cell is a_o ≈ a_pc[101], b_o = 2a_pc[010], c_o ≈ a_pc[10-1], and Miller
    indices transform like the cell vectors; pc {220} splits into Pnma {400}, {004}, {242}.
    """
    primitive_miller(pseudocubic_hkl)
    h, k, l_index = (int(v) for v in pseudocubic_hkl)
    return (h + l_index, 2 * k, h - l_index)


PSEUDOCUBIC_220 = ((2, 2, 0), (2, 0, 2), (2, 0, -2))
"""pc {220} representatives that stay distinct in Pnma: (242), (400), (004)."""
WURTZITE_OF_ZINCBLENDE_220 = (1, 1, 0)
"""Wurtzite (11-20): the zinc-blende {220} planes that contain [111] ∥ [0001], d = a/2."""


@dataclass(frozen=True)
class QuotedMismatchCheck:
    """A quoted |mismatch| (%) against the {220}-type comparisons and against a blind scan.

    ``meaningful`` pairs compare the planes the paper compares for CdS: pseudo-cubic {220}
    (and its Pnma counterparts) with zinc-blende {220} and wurtzite {11-20}. The blind
    ``scan`` uses the Pnma cell only (the room-temperature structure; every pseudo-cubic
    reflection is a Pnma one within 0.7 %, so scanning both would count it twice).
    ``lattices`` says which lattice constants were used.
    """

    perovskite_formula: str
    chalcogenide_formula: str
    quoted_percent: float
    meaningful: tuple[SpacingPair, ...]
    scan: MismatchScan
    min_spacing: float
    lattices: str

    @property
    def meaningful_match(self) -> SpacingPair | None:
        """The {220}-type pair closest to the quoted figure if inside the window, else None."""
        closest = min(
            self.meaningful, key=lambda p: abs(abs(p.mismatch_percent) - self.quoted_percent)
        )
        distance = abs(abs(closest.mismatch_percent) - self.quoted_percent)
        return closest if distance <= self.scan.window_percent else None


def _scaled(atoms: Atoms, factor: float) -> Atoms:
    """Copy of ``atoms`` with the cell and positions scaled isotropically by ``factor``."""
    scaled = atoms.copy()
    scaled.set_cell(np.asarray(atoms.cell[:]) * factor, scale_atoms=True)
    return scaled


def _perovskite_cells(formula: str, pseudocubic_a: float | None) -> dict[str, tuple[str, Atoms]]:
    """Pseudo-cubic cell with ``pseudocubic_a`` (Å), and the experimental Pnma cell scaled
    isotropically to the same (V/4)^(1/3): a given a_pc keeps the measured Pnma distortion."""
    if (formula, "orthorhombic") not in LATTICE_DEFAULTS:
        raise UnknownPhaseError(
            f"no default Pnma lattice for {formula!r}: add it to phases.LATTICE_DEFAULTS"
            " to test a quoted mismatch"
        )
    pnma = perovskite(formula, "orthorhombic")
    if pseudocubic_a is not None:
        pnma = _scaled(pnma, pseudocubic_a / pseudocubic_lattice_constant(formula))
    return {
        "pseudo-cubic": ("cubic", perovskite(formula, "cubic", a=pseudocubic_a)),
        "Pnma": ("orthorhombic", pnma),
    }


def _chalcogenide_cells(formula: str, zincblende_a: float | None) -> dict[str, tuple[str, Atoms]]:
    """Zinc blende with ``zincblende_a`` (Å); wurtzite when it has a default lattice, scaled
    isotropically by a_given / a_default(zinc blende) (left out if that ratio is unknown)."""
    wurtzite_default = LATTICE_DEFAULTS.get((formula, "wurtzite"))
    zincblende_default = LATTICE_DEFAULTS.get((formula, "zincblende"))
    if zincblende_a is None and zincblende_default is None:
        raise UnknownPhaseError(
            f"no default zinc-blende lattice for {formula!r}: give its a, or add it to"
            " phases.LATTICE_DEFAULTS, to test a quoted mismatch"
        )
    cells = {"zinc blende": ("zincblende", chalcogenide(formula, "zincblende", a=zincblende_a))}
    if wurtzite_default is None or (zincblende_a is not None and zincblende_default is None):
        return cells
    wurtzite = chalcogenide(formula, "wurtzite")
    if zincblende_a is not None and zincblende_default is not None:
        wurtzite = _scaled(wurtzite, zincblende_a / zincblende_default.a)
    cells["wurtzite"] = ("wurtzite", wurtzite)
    return cells


def _lattice_note(
    perovskite_cells: dict[str, tuple[str, Atoms]],
    chalcogenide_cells: dict[str, tuple[str, Atoms]],
    given: bool,
) -> str:
    """``experimental lattices``, or the given a_pc and zinc-blende a (Å) and how they apply."""
    if not given:
        return "experimental lattices"
    a_pc = float(perovskite_cells["pseudo-cubic"][1].cell[0, 0])
    a_zb = float(chalcogenide_cells["zinc blende"][1].cell[0, 0])
    return (
        f"a_pc = {a_pc:.4f} Å, zinc blende a = {a_zb:.4f} Å;"
        " Pnma and wurtzite scaled isotropically from experiment"
    )


def check_quoted_mismatch(
    perovskite_formula: str,
    chalcogenide_formula: str,
    quoted_percent: float,
    window_percent: float = 0.3,
    min_spacing: float = 1.5,
    perovskite_a: float | None = None,
    chalcogenide_a: float | None = None,
) -> QuotedMismatchCheck:
    """Test a mismatch quoted without its planes (%), on the experimental lattices or on a
    given pseudo-cubic ``perovskite_a`` and zinc-blende ``chalcogenide_a`` (Å, e.g. PBE)."""
    perovskites = _perovskite_cells(perovskite_formula, perovskite_a)
    chalcogenides = _chalcogenide_cells(chalcogenide_formula, chalcogenide_a)

    def reflection(setting: str, cells: dict[str, tuple[str, Atoms]], hkl: Vector3) -> Reflection:
        phase, atoms = cells[setting]
        return Reflection(setting, phase, hkl, interplanar_spacing(atoms, hkl))

    targets = [reflection("zinc blende", chalcogenides, (2, 2, 0))]
    if "wurtzite" in chalcogenides:
        targets.append(reflection("wurtzite", chalcogenides, WURTZITE_OF_ZINCBLENDE_220))
    sides = [reflection("pseudo-cubic", perovskites, PSEUDOCUBIC_220[0])]
    sides += [reflection("Pnma", perovskites, pnma_indices(h)) for h in PSEUDOCUBIC_220]
    pnma_listed = allowed_reflections(perovskites["Pnma"][1], "orthorhombic", "Pnma", min_spacing)
    chalcogenide_listed = tuple(
        r for s, (phase, atoms) in chalcogenides.items()
        for r in allowed_reflections(atoms, phase, s, min_spacing)
    )  # fmt: skip
    given = perovskite_a is not None or chalcogenide_a is not None
    return QuotedMismatchCheck(
        perovskite_formula, chalcogenide_formula, quoted_percent,
        tuple(SpacingPair(p, c) for c in targets for p in sides),
        scan_mismatch(pnma_listed, chalcogenide_listed, quoted_percent, window_percent),
        min_spacing, _lattice_note(perovskites, chalcogenides, given),
    )  # fmt: skip


def _pair_line(pair: SpacingPair) -> str:
    return (
        f"    {pair.perovskite.label} {pair.perovskite.spacing:.4f} Å vs "
        f"{pair.chalcogenide.label} {pair.chalcogenide.spacing:.4f} Å: "
        f"{pair.mismatch_percent:+.2f} %"
    )


def format_quoted_mismatch(check: QuotedMismatchCheck, max_hits: int = 10) -> str:
    """Plain text: the {220}-type comparisons, a verdict, then the blind scan and its odds."""
    scan, quoted = check.scan, check.quoted_percent
    window = f"{quoted:.1f} ± {scan.window_percent:.1f} %"
    match = check.meaningful_match
    lines = [
        f"Quoted |mismatch| {quoted:.1f} % for {check.perovskite_formula}/"
        f"{check.chalcogenide_formula} ({check.lattices}):",
        "  {220}-type planes, the comparison made for CdS:",
        *(_pair_line(pair) for pair in check.meaningful),
        f"  {match.perovskite.label} vs {match.chalcogenide.label} gives it"
        if match
        else f"  no {{220}}-type pair is within {window}: these planes do not give the figure",
        f"  blind search: {scan.perovskite_spacings} Pnma x {scan.chalcogenide_spacings}"
        f" chalcogenide distinct spacings (every allowed (hkl) with"
        f" d >= {check.min_spacing:.1f} Å) = {scan.pairs_searched} pairs;"
        f" {len(scan.hits)} within {window}:",
        *(_pair_line(pair) for pair in scan.hits[:max_hits]),
        f"  a ±{scan.window_percent:.1f} % window around any target from 1 to 10 % holds"
        f" {scan.chance_mean_hits:.1f} pairs on average (>= 1 for"
        f" {100 * scan.chance_hit_fraction:.0f} % of targets): a hit is no evidence",
    ]
    return "\n".join(lines)
