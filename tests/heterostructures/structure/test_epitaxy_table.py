"""The all-pairs table: the paper's quotes kept apart, our mismatches by closed form."""

from __future__ import annotations

import pytest

from heterostructures.structure.epitaxy_table import (
    PAIRS,
    PAPER_QUOTES,
    d220_mismatch,
    epitaxy_rows,
    format_epitaxy_table,
)
from heterostructures.structure.interface import InterfaceSpec
from heterostructures.structure.phases import LATTICE_DEFAULTS


def _a_pc(formula: str) -> float:
    """Closed form a_pc = (a b c / 4)^(1/3) from the Pnma defaults (Å)."""
    default = LATTICE_DEFAULTS[(formula, "orthorhombic")]
    assert default.b is not None
    assert default.c is not None
    return float((default.a * default.b * default.c / 4) ** (1 / 3))


def test_d220_mismatch_is_the_ratio_of_the_cubic_constants() -> None:
    """Reference: closed form, d{220} = a/√8 on both sides, so the mismatch is a_c/a_pc − 1;
    PBE: the README's demo lattices 5.927 / 5.973 Å."""
    assert d220_mismatch(6.0, "CdS", 5.7) == pytest.approx(100 * (5.7 / 6.0 - 1), rel=1e-12)
    assert d220_mismatch(5.973, "CdS", 5.927) == pytest.approx(-0.770, abs=1e-3)


def test_rows_quote_the_paper_apart_and_compute_ours() -> None:
    """Reference: the paper (Sect. 2.1, 2.5) quotes CsPbBr3/CdS and CsPbBr3/ZnS only; our
    experimental mismatches by closed form from LATTICE_DEFAULTS; PBE only where computed."""
    rows = epitaxy_rows(InterfaceSpec(perovskite_planes=3, chalcogenide_planes=2, periodic=True))
    assert [(r.perovskite, r.chalcogenide) for r in rows] == list(PAIRS)
    by_pair = {(r.perovskite, r.chalcogenide): r for r in rows}
    assert by_pair[("CsPbBr3", "CdS")].paper == PAPER_QUOTES[("CsPbBr3", "CdS")]
    assert by_pair[("CsPbBr3", "ZnS")].paper is not None
    assert by_pair[("CsPbBr3", "ZnS")].paper.figure == "≈ 4.2 %"
    assert by_pair[("CsPbCl3", "CdS")].paper is None
    assert by_pair[("CsPbI3", "CdS")].paper is None
    for row in rows:
        a_c = LATTICE_DEFAULTS[(row.chalcogenide, "zincblende")].a
        expected = 100 * (a_c / _a_pc(row.perovskite) - 1)
        assert row.experimental_mismatch_percent == pytest.approx(expected, rel=1e-9)
    assert by_pair[("CsPbBr3", "CdS")].pbe_mismatch_percent == pytest.approx(-0.770, abs=1e-3)
    assert by_pair[("CsPbBr3", "ZnS")].pbe_mismatch_percent is None
    assert by_pair[("CsPbBr3", "CdS")].model.startswith("13 atoms, 1:1")
    for pair in [("CsPbCl3", "CdS"), ("CsPbI3", "CdS"), ("CsPbBr3", "ZnS")]:
        assert "coincidence" in by_pair[pair].model
    text = format_epitaxy_table(rows, "fast")
    assert text.count("\n| CsPb") == 4
    assert "not quoted" in text
    assert "(≈4.2%)" in text
    assert "not computed" in text
