"""Epitaxy: the paper's d-spacings, its zone-axis relation vs cube-on-cube, ZSL ranking."""

from __future__ import annotations

import numpy as np
import pytest

from heterostructures.structure.epitaxy import (
    epitaxy_report,
    format_epitaxy_report,
    lattice_period,
    mismatch_percent,
    pseudocubic_spacing,
)
from heterostructures.structure.errors import InvalidMillerIndexError, NoEpitaxialMatchError
from heterostructures.structure.facet_matching import (
    MatchTolerances,
    in_plane_lattice,
    interplanar_spacing,
    match_facets,
    primitive_miller,
    rank_facet_pairs,
    strain_2d,
)
from heterostructures.structure.phases import chalcogenide, perovskite


def test_d220_spacings_match_the_paper_and_mismatch_is_below_one_percent() -> None:
    report = epitaxy_report("CsPbBr3", "CdS")
    assert report.d220_perovskite == pytest.approx(2.0610, rel=5e-3)
    assert report.d220_chalcogenide == pytest.approx(2.0614, rel=5e-3)
    assert abs(report.d220_mismatch_percent) < 1.0


def test_orthorhombic_220_is_a_different_plane_from_pseudocubic_220() -> None:
    report = epitaxy_report("CsPbBr3", "CdS")
    assert report.orthorhombic_d220_pbnm == pytest.approx(2.9, abs=0.05)
    assert report.orthorhombic_d220_pbnm / report.d220_perovskite == pytest.approx(
        np.sqrt(2), rel=0.01
    )


def test_spacings_are_analytic_for_cubic_cells() -> None:
    cds = chalcogenide("CdS", a=5.8)
    assert interplanar_spacing(cds, (2, 2, 0)) == pytest.approx(5.8 / np.sqrt(8))
    assert pseudocubic_spacing(5.8, (1, 1, 1)) == pytest.approx(5.8 / np.sqrt(3))
    assert lattice_period(cds, (1, 1, 0)) == pytest.approx(5.8 / np.sqrt(2))
    assert lattice_period(cds, (1, 1, 1)) == pytest.approx(5.8 * np.sqrt(3))
    assert mismatch_percent(1.01, 1.0) == pytest.approx(1.0)


def test_cube_on_cube_matches_one_to_one_in_a_small_cell() -> None:
    relation = epitaxy_report().cube_on_cube
    assert relation.max_strain_percent < 0.3
    assert sorted(relation.supercell_lengths) == pytest.approx([5.83, 8.25], abs=0.02)
    assert relation.atoms_per_repeat == 13


def test_paper_zone_axis_relation_needs_a_large_coincidence_cell() -> None:
    relation = epitaxy_report().paper
    assert relation.axes[0].film_direction == (1, 1, 1)
    assert relation.axes[0].substrate_direction == (0, 0, 1)
    assert abs(relation.axes[0].one_to_one_strain_percent) > 50
    assert relation.max_strain_percent <= 1.0
    assert min(relation.supercell_lengths) > 40.0
    assert relation.atoms_per_repeat > 500


def test_zsl_ranking_contains_cube_on_cube_110() -> None:
    ranked = rank_facet_pairs(chalcogenide("CdS"), perovskite("CsPbBr3"), max_index=1)
    pairs = {(m.film_hkl, m.substrate_hkl): m for m in ranked}
    match = pairs[((1, 1, 0), (1, 1, 0))]
    assert (match.film_cells, match.substrate_cells) == (1, 1)
    assert match.match_area == pytest.approx(5.8312 * 8.2466, rel=1e-3)
    assert abs(match.linear_mismatch_percent) < 0.3
    areas = [m.match_area for m in ranked]
    assert areas == sorted(areas)


@pytest.mark.parametrize(
    ("perovskite_formula", "chalcogenide_formula", "lattice_mismatch"),
    [("CsPbBr3", "ZnS", -7.2), ("CsPbCl3", "CdS", 3.9), ("CsPbI3", "CdS", -6.3)],
)
def test_other_pairs_report_their_mismatch(
    perovskite_formula: str, chalcogenide_formula: str, lattice_mismatch: float
) -> None:
    report = epitaxy_report(perovskite_formula, chalcogenide_formula)
    assert report.lattice_mismatch_percent == pytest.approx(lattice_mismatch, abs=0.1)
    assert report.d220_mismatch_percent == pytest.approx(report.lattice_mismatch_percent)
    assert report.candidates, "a coincidence cell within 400 Å² exists for every pair"
    assert all(abs(m.linear_mismatch_percent) <= 3.0 + 1e-9 for m in report.candidates)


def test_computed_lattices_can_replace_experiment() -> None:
    report = epitaxy_report(perovskite_a=5.99, chalcogenide_a=5.94)
    assert report.lattice_mismatch_percent == pytest.approx(100 * (5.94 - 5.99) / 5.99)


def test_2d_strain_is_analytic() -> None:
    square = np.array([[1.0, 0, 0], [0, 1.0, 0]])
    eps1, eps2, areal = strain_2d(square, 1.02 * square)
    assert (eps1, eps2, areal) == pytest.approx((0.02, 0.02, 1.02**2 - 1))


def test_in_plane_lattice_spans_the_primitive_2d_cell() -> None:
    atoms = perovskite("CsPbBr3")
    first, second = in_plane_lattice(atoms, (1, 1, 0))
    area = np.linalg.norm(
        np.cross(np.array(first) @ atoms.cell[:], np.array(second) @ atoms.cell[:])
    )
    assert area == pytest.approx(atoms.get_volume() / interplanar_spacing(atoms, (1, 1, 0)))


def test_report_text_names_both_relations() -> None:
    text = format_epitaxy_report(epitaxy_report())
    assert "paper" in text
    assert "cube-on-cube" in text


def test_bad_input() -> None:
    with pytest.raises(InvalidMillerIndexError, match="zero length"):
        primitive_miller((0, 0, 0))
    with pytest.raises(InvalidMillerIndexError):
        interplanar_spacing(perovskite("CsPbBr3"), (0, 0, 0))
    tight = MatchTolerances(max_length_tol=1e-4, max_area_ratio_tol=1e-4, max_area=60.0)
    with pytest.raises(NoEpitaxialMatchError, match="raise max_length_tol"):
        match_facets(chalcogenide("ZnS"), (1, 1, 0), perovskite("CsPbBr3"), (1, 1, 0), tight)
