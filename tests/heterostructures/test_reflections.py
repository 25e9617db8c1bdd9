"""Extinction rules against pymatgen, and the paper's CsPbBr3/ZnS ≈ 4.2 % figure."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from ase import Atoms
from pymatgen.analysis.diffraction.xrd import XRDCalculator
from pymatgen.io.ase import AseAtomsAdaptor
from pymatgen.symmetry.analyzer import SpacegroupAnalyzer

from heterostructures.facet_matching import interplanar_spacing
from heterostructures.phases import bulk_phase, perovskite
from heterostructures.reflections import (
    Reflection,
    SpacingPair,
    allowed_reflections,
    check_quoted_mismatch,
    format_quoted_mismatch,
    miller_label,
    pnma_indices,
    reflection_allowed,
    scan_mismatch,
)
from heterostructures.structure_errors import UnknownPhaseError

MILLERS = [hkl for hkl in itertools.product(range(-3, 4), repeat=3) if any(hkl)]
CELLS = {
    "cubic": ("CsPbBr3", "cubic"),
    "zincblende": ("ZnS", "zincblende"),
    "wurtzite": ("ZnS", "wurtzite"),
    "orthorhombic": ("CsPbBr3", "orthorhombic"),
}


def _xrd_spacings(atoms: Atoms) -> np.ndarray:
    """d (Å) of every reflection with intensity in pymatgen's CuKα pattern (d ≥ 0.78 Å)."""
    pattern = XRDCalculator().get_pattern(
        AseAtomsAdaptor.get_structure(atoms), scaled=False, two_theta_range=None
    )
    return np.asarray(pattern.d_hkls)


def _has_intensity(spacings: np.ndarray, atoms: Atoms, hkl: tuple[int, ...]) -> bool:
    return bool(np.any(np.isclose(spacings, interplanar_spacing(atoms, hkl), rtol=1e-7)))


@pytest.mark.parametrize("phase", ["cubic", "zincblende", "wurtzite"])
def test_allowed_reflections_are_those_with_intensity_in_pymatgen(phase: str) -> None:
    """Reference: structure factors of pymatgen's ``XRDCalculator`` on the same cell.

    For these cells the structure factor vanishes only by the rules (no accidental
    absence), so allowed ⇔ present. The wurtzite rule is stricter than P6₃mc's own
    (hh2̄hl, l odd): (0001), (10-11)… are absent too, because both species sit on 2b.
    """
    atoms = bulk_phase(*CELLS[phase])
    spacings = _xrd_spacings(atoms)
    for hkl in MILLERS:
        if interplanar_spacing(atoms, hkl) > 0.8:
            assert reflection_allowed(phase, hkl) == _has_intensity(spacings, atoms, hkl), hkl


def test_pnma_forbidden_reflections_have_no_intensity_in_pymatgen() -> None:
    """Reference: pymatgen ``XRDCalculator``. The model Pnma cell keeps Cs on its ideal
    site, so some allowed reflections are accidentally weak: only forbidden ⇒ absent."""
    atoms = perovskite("CsPbBr3", "orthorhombic")
    spacings = _xrd_spacings(atoms)
    forbidden = [hkl for hkl in MILLERS if not reflection_allowed("orthorhombic", hkl)]
    assert {(0, 1, 0), (1, 0, 0), (0, 0, 1), (0, 1, 2), (1, 1, 0)} <= set(forbidden)
    for hkl in forbidden:
        assert not _has_intensity(spacings, atoms, hkl), hkl


@pytest.mark.parametrize("phase", ["zincblende", "orthorhombic", "cubic"])
def test_rules_are_the_space_group_absences_of_the_cell(phase: str) -> None:
    """Reference: pymatgen ``SpacegroupAnalyzer`` operations (R, t) of the cell itself.

    (hkl) is systematically absent iff some operation has hR = h and h·t ∉ ℤ; this checks
    the setting (which Pnma axis is long) and that the rules are exactly the space group's.
    """
    structure = AseAtomsAdaptor.get_structure(bulk_phase(*CELLS[phase]))
    operations = SpacegroupAnalyzer(structure, symprec=1e-3).get_symmetry_operations()
    for hkl in MILLERS:
        h = np.asarray(hkl, dtype=float)
        absent = any(
            np.allclose(h @ op.rotation_matrix, h)
            and not np.isclose((h @ op.translation_vector) % 1.0, 0.0, atol=1e-6)
            and not np.isclose((h @ op.translation_vector) % 1.0, 1.0, atol=1e-6)
            for op in operations
        )
        assert reflection_allowed(phase, hkl) == (not absent), hkl


def test_pnma_indices_of_pseudocubic_planes_keep_their_spacing() -> None:
    """Reference: closed form d = a_pc/√(h²+k²+l²) in a Pnma metric a = c = √2 a_pc, b = 2a_pc."""
    a_pc = 5.83
    cell = perovskite(
        "CsPbBr3", "orthorhombic", a=np.sqrt(2) * a_pc, b=2 * a_pc, c=np.sqrt(2) * a_pc
    )
    for hkl in [(2, 2, 0), (2, 0, 2), (2, 0, -2), (1, 1, 1), (2, 0, 0), (1, 0, 0), (3, 1, 0)]:
        d_pc = a_pc / np.sqrt(sum(v * v for v in hkl))
        assert interplanar_spacing(cell, pnma_indices(hkl)) == pytest.approx(d_pc)
    assert pnma_indices((2, 0, 2)) == (4, 0, 0)


def test_labels_use_miller_bravais_for_wurtzite() -> None:
    assert miller_label("wurtzite", (1, 0, 1)) == "(10-11)"
    assert miller_label("wurtzite", (1, 1, 0)) == "(11-20)"
    assert miller_label("zincblende", (-2, 0, 2)) == "(-202)"
    with pytest.raises(UnknownPhaseError, match="no extinction rules"):
        reflection_allowed("rocksalt", (1, 1, 1))


def test_the_old_zns_explanation_is_not_a_4_percent_pair() -> None:
    """Reference: closed-form hexagonal d(10-11) = (4/(3a²) + 1/c²)^(-1/2) = 2.9266 Å.

    The old code paired Pnma (202) 2.9066 Å with wurtzite (10-11) at d = 2.7845 Å (wrong
    reciprocal lattice) and called it −4.20 %; the true spacing gives +0.69 %.
    """
    zns = bulk_phase("ZnS", "wurtzite")
    a, c = zns.cell.lengths()[[0, 2]]
    pnma = perovskite("CsPbBr3", "orthorhombic")
    pair = SpacingPair(
        Reflection("Pnma", "orthorhombic", (2, 0, 2), interplanar_spacing(pnma, (2, 0, 2))),
        Reflection("wurtzite", "wurtzite", (1, 0, 1), interplanar_spacing(zns, (1, 0, 1))),
    )
    closed_form = (4 / (3 * a**2) + 1 / c**2) ** -0.5
    assert pair.chalcogenide.spacing == pytest.approx(closed_form)
    assert pair.mismatch_percent == pytest.approx(
        100 * (closed_form - pair.perovskite.spacing) / pair.perovskite.spacing
    )
    assert pair.mismatch_percent == pytest.approx(0.69, abs=0.01)


def test_no_220_type_pair_gives_the_quoted_zns_figure() -> None:
    """Reference: hand calculation, d{220} = a/√8 (zinc blende, pseudo-cubic) and
    d(11-20) = a/2 (wurtzite) on the experimental lattices: all near −7 %, none near 4.2 %.

    The paper quotes ≈ 4.2 % for CsPbBr3/ZnS without planes; its CdS comparison is {220}.
    """
    check = check_quoted_mismatch("CsPbBr3", "ZnS", quoted_percent=4.2, window_percent=0.3)
    a_pc = perovskite("CsPbBr3").cell[0, 0]
    a_zb, a_wz = (
        bulk_phase("ZnS", "zincblende").cell[0, 0],
        bulk_phase("ZnS", "wurtzite").cell[0, 0],
    )
    first = check.meaningful[0]
    assert (first.perovskite.spacing, first.chalcogenide.spacing) == pytest.approx(
        (a_pc / np.sqrt(8), a_zb / np.sqrt(8))
    )
    wurtzite = [p for p in check.meaningful if p.chalcogenide.setting == "wurtzite"]
    assert wurtzite[0].chalcogenide.spacing == pytest.approx(a_wz / 2)
    assert all(-7.5 < pair.mismatch_percent < -6.5 for pair in check.meaningful)
    assert check.meaningful_match is None
    assert "no {220}-type pair" in format_quoted_mismatch(check)


def test_blind_scan_finds_a_4_percent_pair_by_chance_among_allowed_reflections() -> None:
    """Reference: the extinction rules above, and the count of pairs searched.

    ~10³ allowed pairs put a hit inside ±0.3 % of nearly any target between 1 and 10 %,
    so the hits at 4.2 % carry no information; none uses a forbidden reflection (the old
    search used e.g. zinc-blende (110)).
    """
    check = check_quoted_mismatch("CsPbBr3", "ZnS", quoted_percent=4.2, window_percent=0.3)
    scan = check.scan
    assert 500 <= scan.pairs_searched <= 2000
    assert scan.hits
    assert all(abs(abs(p.mismatch_percent) - 4.2) <= 0.3 for p in scan.hits)
    for pair in scan.hits:
        for reflection in (pair.perovskite, pair.chalcogenide):
            assert reflection_allowed(reflection.phase, reflection.hkl)
    assert scan.chance_hit_fraction > 0.9
    text = format_quoted_mismatch(check)
    assert f"= {scan.pairs_searched} pairs" in text
    assert "4.2 ± 0.3 %" in text


def test_scan_counts_pairs_and_chance_rate_by_hand() -> None:
    """Reference: hand count on two made-up spacing lists."""
    perovskite_side = (
        Reflection("p", "cubic", (1, 0, 0), 2.0),
        Reflection("p", "cubic", (1, 1, 0), 3.0),
    )
    chalcogenide_side = (Reflection("c", "zincblende", (1, 1, 1), 2.1),)
    scan = scan_mismatch(
        perovskite_side, chalcogenide_side, target_percent=5.0, window_percent=0.25
    )
    assert scan.pairs_searched == 2
    assert [p.mismatch_percent for p in scan.hits] == pytest.approx([5.0])
    # |mismatch| values 5 % and 30 %: targets 4.8 … 5.2 % (5 of 91) see one pair each.
    assert scan.chance_hit_fraction == pytest.approx(5 / 91)
    assert scan.chance_mean_hits == pytest.approx(5 / 91)


def test_allowed_reflections_are_distinct_spacings_with_simple_representatives() -> None:
    """Reference: fcc rule by hand, d = a/√(h²+k²+l²) ≥ 1.5 Å with a = 5.409 Å, |index| ≤ 2."""
    zincblende = bulk_phase("ZnS", "zincblende")
    listed = allowed_reflections(zincblende, "zincblende", "zinc blende", 2, 1.5)
    assert [r.hkl for r in listed] == [(1, 1, 1), (2, 0, 0), (2, 2, 0), (2, 2, 2)]
    assert listed[0].label == "zinc blende (111)"


def test_quoted_mismatch_needs_default_lattices() -> None:
    with pytest.raises(UnknownPhaseError, match="LATTICE_DEFAULTS"):
        check_quoted_mismatch("CsPbBr3", "CdTe", quoted_percent=4.2)
