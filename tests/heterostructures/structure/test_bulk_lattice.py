"""Lattice parameters read back from cells, primitive or conventional."""

from __future__ import annotations

import pytest

from heterostructures.structure.bulk_lattice import bulk_lattice, primitive_bulk
from heterostructures.structure.errors import UnknownPhaseError
from heterostructures.structure.phases import bulk_phase


@pytest.mark.parametrize(
    ("formula", "phase"), [("CdS", "zincblende"), ("ZnS", "zincblende"), ("CsPbBr3", "cubic")]
)
def test_primitive_and_conventional_give_same_a(formula: str, phase: str) -> None:
    conventional = bulk_lattice(bulk_phase(formula, phase), formula, phase)
    primitive_atoms = primitive_bulk(formula, phase)
    primitive = bulk_lattice(primitive_atoms, formula, phase)
    assert primitive.a == pytest.approx(conventional.a, rel=1e-10)
    assert conventional.deviation_a_percent == pytest.approx(0.0, abs=1e-9)
    assert len(primitive_atoms) <= len(bulk_phase(formula, phase))


def test_strained_cell_reports_deviation() -> None:
    atoms = primitive_bulk("CdS", "zincblende")
    atoms.set_cell(atoms.cell * 1.02, scale_atoms=True)
    lattice = bulk_lattice(atoms, "CdS", "zincblende")
    assert lattice.deviation_a_percent == pytest.approx(2.0, rel=1e-9)


def test_wurtzite_a_and_c() -> None:
    lattice = bulk_lattice(bulk_phase("CdS", "wurtzite"), "CdS", "wurtzite")
    assert lattice.a == pytest.approx(4.1367)
    assert lattice.c == pytest.approx(6.7161)


def test_unknown_phase_named() -> None:
    with pytest.raises(UnknownPhaseError, match="rocksalt"):
        bulk_lattice(bulk_phase("CdS", "zincblende"), "CdS", "rocksalt")
