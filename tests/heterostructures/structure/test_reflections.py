"""Extinction rules against pymatgen, and the paper's CsPbBr3/ZnS ≈ 4.2 % figure."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from ase import Atoms
from pymatgen.analysis.diffraction.xrd import XRDCalculator
from pymatgen.core import Lattice
from pymatgen.io.ase import AseAtomsAdaptor
from pymatgen.symmetry.analyzer import SpacegroupAnalyzer

from heterostructures.structure.errors import UnknownPhaseError
from heterostructures.structure.facet_matching import interplanar_spacing
from heterostructures.structure.phases import bulk_phase, perovskite, pseudocubic_lattice_constant
from heterostructures.structure.reflections import (
    Reflection,
    SpacingPair,
    allowed_reflections,
    check_quoted_mismatch,
    format_quoted_mismatch,
    index_bounds,
    miller_label,
    pnma_indices,
    reflection_allowed,
    scan_mismatch,
)

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
    (hh2̄hl and 000l with l odd, e.g. (0001)): with both species on 2b, every h − k ≡ 0
    (mod 3), l odd reflection is absent too, e.g. (30-31) and (41-51); (10-11) is allowed.
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


def _space_group_absences(atoms: Atoms) -> set[tuple[int, ...]]:
    """(hkl) in MILLERS with hR = h and h·t ∉ ℤ for some pymatgen operation (R, t) of the cell."""
    structure = AseAtomsAdaptor.get_structure(atoms)
    operations = SpacegroupAnalyzer(structure, symprec=1e-3).get_symmetry_operations()
    absent = set()
    for hkl in MILLERS:
        h = np.asarray(hkl, dtype=float)
        if any(
            np.allclose(h @ op.rotation_matrix, h)
            and not np.isclose((h @ op.translation_vector) % 1.0, 0.0, atol=1e-6)
            and not np.isclose((h @ op.translation_vector) % 1.0, 1.0, atol=1e-6)
            for op in operations
        ):
            absent.add(hkl)
    return absent


@pytest.mark.parametrize("phase", ["zincblende", "orthorhombic", "cubic"])
def test_rules_are_the_space_group_absences_of_the_cell(phase: str) -> None:
    """Reference: pymatgen ``SpacegroupAnalyzer`` operations (R, t) of the cell itself.

    (hkl) is systematically absent iff some operation has hR = h and h·t ∉ ℤ; this checks
    the setting (which Pnma axis is long) and that the rules are exactly the space group's.
    """
    absent = _space_group_absences(bulk_phase(*CELLS[phase]))
    for hkl in MILLERS:
        assert reflection_allowed(phase, hkl) == (hkl not in absent), hkl


def test_wurtzite_2b_absences_go_beyond_the_space_group() -> None:
    """Reference: pymatgen ``SpacegroupAnalyzer`` (space-group absences) and
    ``XRDCalculator`` (intensity) on the default ZnS wurtzite cell.

    (0001) is absent by P6₃mc itself; (30-31) is allowed by the space group but has no
    intensity because both species sit on 2b; (10-11) is allowed and present.
    """
    atoms = bulk_phase("ZnS", "wurtzite")
    absent, spacings = _space_group_absences(atoms), _xrd_spacings(atoms)
    assert (0, 0, 1) in absent
    assert not reflection_allowed("wurtzite", (0, 0, 1))
    assert (3, 0, 1) not in absent
    assert not reflection_allowed("wurtzite", (3, 0, 1))
    assert not _has_intensity(spacings, atoms, (3, 0, 1))
    assert reflection_allowed("wurtzite", (1, 0, 1))
    assert _has_intensity(spacings, atoms, (1, 0, 1))


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


def _reference_spacings(atoms: Atoms, phase: str, min_spacing: float) -> list[float]:
    """Distinct d ≥ ``min_spacing`` (Å, to 1e-4) of the allowed reflections, from pymatgen's
    reciprocal-lattice points in the sphere |G| ≤ 1/d_min (no index cutoff at all)."""
    reciprocal = Lattice(atoms.cell[:]).reciprocal_lattice_crystallographic
    points = reciprocal.get_points_in_sphere([[0, 0, 0]], [0, 0, 0], 1.0 / min_spacing)
    return sorted(
        {
            round(1.0 / float(length), 4)
            for fractional, length, _, _ in points
            if length > 1e-9
            and reflection_allowed(phase, tuple(np.rint(fractional).astype(int).tolist()))
        },
        reverse=True,
    )


@pytest.mark.parametrize("phase", list(CELLS))
def test_allowed_reflections_are_every_allowed_spacing_above_d_min(phase: str) -> None:
    """Reference: pymatgen ``Lattice.get_points_in_sphere`` on the reciprocal lattice.

    The old |index| ≤ 3 cutoff kept 47 of the 135 Pnma spacings ≥ 1.5 Å and missed e.g.
    Pnma (040), (400), (004), (242) and wurtzite (0004); the bound |hᵢ| ≤ |aᵢ|/d_min is exact.
    """
    atoms = bulk_phase(*CELLS[phase])
    listed = allowed_reflections(atoms, phase, phase, min_spacing=1.5)
    reference = _reference_spacings(atoms, phase, 1.5)
    assert [r.spacing for r in listed] == pytest.approx(reference, abs=1e-4)
    spacings = {round(r.spacing, 4) for r in listed}
    named = {"orthorhombic": [(0, 4, 0), (4, 0, 0), (0, 0, 4), (2, 4, 2)], "wurtzite": [(0, 0, 4)]}
    for hkl in named.get(phase, []):
        assert round(interplanar_spacing(atoms, hkl), 4) in spacings, hkl


def test_index_bound_is_the_cell_length_over_d_min() -> None:
    """Reference: hand calculation floor(|aᵢ| / d_min) for the 298 K Pnma cell (Å)."""
    pnma = perovskite("CsPbBr3", "orthorhombic")
    assert index_bounds(pnma, 1.5) == (5, 7, 5)  # 8.244, 11.7351, 8.1982 Å over 1.5 Å
    with pytest.raises(ValueError, match="min_spacing"):
        index_bounds(pnma, 0.0)


def test_blind_scan_is_complete_pnma_only_and_finds_4_percent_pairs_by_chance() -> None:
    """Reference: the pymatgen sphere enumeration above for the pair count, and the
    extinction rules for every hit.

    The scan pairs every Pnma spacing ≥ 1.5 Å with every zinc-blende and wurtzite one
    (the old scan: |index| ≤ 3, with pseudo-cubic spacings counted on top of their Pnma
    twins). About 30 pairs fall in a ±0.3 % window around any target from 1 to 10 %, so
    the hits at 4.2 % carry no information.
    """
    check = check_quoted_mismatch("CsPbBr3", "ZnS", quoted_percent=4.2, window_percent=0.3)
    scan = check.scan
    expected_pnma = len(
        _reference_spacings(bulk_phase(*CELLS["orthorhombic"]), "orthorhombic", 1.5)
    )
    expected_chalcogenide = sum(
        len(_reference_spacings(bulk_phase(*CELLS[phase]), phase, 1.5))
        for phase in ("zincblende", "wurtzite")
    )
    assert (scan.perovskite_spacings, scan.chalcogenide_spacings) == (
        expected_pnma,
        expected_chalcogenide,
    )
    assert scan.hits
    assert all(abs(abs(p.mismatch_percent) - 4.2) <= 0.3 for p in scan.hits)
    for pair in scan.hits:
        assert pair.perovskite.setting == "Pnma"
        for reflection in (pair.perovskite, pair.chalcogenide):
            assert reflection_allowed(reflection.phase, reflection.hkl)
    assert scan.chance_hit_fraction == 1.0
    assert scan.chance_mean_hits > 10
    text = format_quoted_mismatch(check)
    assert f"= {scan.pairs_searched} pairs" in text
    assert "4.2 ± 0.3 %" in text


def test_pseudocubic_reflections_are_pnma_reflections_within_a_percent() -> None:
    """Reference: the closed-form index transform (h + l, 2k, h − l) and the Pnma rules.

    Every pseudo-cubic spacing ≥ 1.5 Å is an allowed Pnma reflection within 0.7 %: scanning
    both settings would count each such plane twice.
    """
    cubic = perovskite("CsPbBr3", "cubic")
    pnma = perovskite("CsPbBr3", "orthorhombic")
    for reflection in allowed_reflections(cubic, "cubic", "pseudo-cubic", 1.5):
        twin = pnma_indices(reflection.hkl)
        assert reflection_allowed("orthorhombic", twin)
        assert interplanar_spacing(pnma, twin) == pytest.approx(reflection.spacing, rel=7e-3)


def test_quoted_mismatch_uses_given_lattice_constants() -> None:
    """Reference: closed forms d{220} = a/√8, d(400)_Pnma = a_o/4 and d(11-20) = a_wz/2, with
    Pnma and wurtzite scaled by a_given / a_default (the old check ignored given a)."""
    check = check_quoted_mismatch(
        "CsPbBr3", "ZnS", quoted_percent=4.2, perovskite_a=6.0, chalcogenide_a=5.5
    )
    reflections = [r for pair in check.meaningful for r in (pair.perovskite, pair.chalcogenide)]
    by_label = {r.label: r.spacing for r in reflections}
    scale_pc = 6.0 / pseudocubic_lattice_constant("CsPbBr3")
    a_o = perovskite("CsPbBr3", "orthorhombic").cell.lengths()[0]
    a_wz = bulk_phase("ZnS", "wurtzite").cell.lengths()[0]
    a_zb = bulk_phase("ZnS", "zincblende").cell[0, 0]
    assert by_label["pseudo-cubic (220)"] == pytest.approx(6.0 / np.sqrt(8))
    assert by_label["Pnma (400)"] == pytest.approx(scale_pc * a_o / 4)
    assert by_label["zinc blende (220)"] == pytest.approx(5.5 / np.sqrt(8))
    assert by_label["wurtzite (11-20)"] == pytest.approx(5.5 / a_zb * a_wz / 2)
    assert "a_pc = 6.0000 Å" in format_quoted_mismatch(check)


def test_quoted_mismatch_without_wurtzite_default_uses_zinc_blende_only() -> None:
    """Reference: phases.LATTICE_DEFAULTS has no CdTe entry; a given a builds zinc blende only."""
    check = check_quoted_mismatch("CsPbBr3", "CdTe", quoted_percent=4.2, chalcogenide_a=6.481)
    assert {pair.chalcogenide.setting for pair in check.meaningful} == {"zinc blende"}
    assert check.meaningful[0].chalcogenide.spacing == pytest.approx(6.481 / np.sqrt(8))


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
    """Reference: fcc rule by hand, d = a/√(h²+k²+l²) ≥ 1.5 Å with a = 5.409 Å: h²+k²+l² ≤ 13,
    all even or all odd, gives 3, 4, 8, 11, 12."""
    zincblende = bulk_phase("ZnS", "zincblende")
    listed = allowed_reflections(zincblende, "zincblende", "zinc blende", 1.5)
    assert [r.hkl for r in listed] == [(1, 1, 1), (2, 0, 0), (2, 2, 0), (3, 1, 1), (2, 2, 2)]
    assert listed[0].label == "zinc blende (111)"


def test_quoted_mismatch_needs_default_lattices() -> None:
    with pytest.raises(UnknownPhaseError, match="LATTICE_DEFAULTS"):
        check_quoted_mismatch("CsPbBr3", "CdTe", quoted_percent=4.2)
    with pytest.raises(UnknownPhaseError, match="no default Pnma lattice"):
        check_quoted_mismatch("RbPbBr3", "ZnS", quoted_percent=4.2, perovskite_a=5.9)
