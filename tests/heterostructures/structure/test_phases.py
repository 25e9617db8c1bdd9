"""Bulk phases: lattice defaults against the paper's d-spacings, symmetry, overrides, errors."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import spglib
from ase import Atoms
from ase.io import write

from heterostructures.structure.errors import UnknownElementError, UnknownPhaseError
from heterostructures.structure.phases import (
    bulk_phase,
    chalcogenide,
    from_file,
    perovskite,
    perovskite_ions,
    pseudocubic_lattice_constant,
)


def _space_group_number(atoms: Atoms) -> int:
    cell = (atoms.cell[:].tolist(), atoms.get_scaled_positions().tolist(), list(atoms.numbers))
    dataset = spglib.get_symmetry_dataset(cell, symprec=1e-3)
    assert dataset is not None
    return int(dataset.number)


def test_cubic_perovskite_uses_pseudocubic_constant_of_the_paper() -> None:
    atoms = perovskite("CsPbBr3")
    assert len(atoms) == 5
    assert _space_group_number(atoms) == 221
    assert atoms.cell[0, 0] / np.sqrt(8) == pytest.approx(2.0610, rel=5e-3)
    assert pseudocubic_lattice_constant("CsPbBr3") == pytest.approx(atoms.cell[0, 0])


@pytest.mark.parametrize("formula", ["CsPbCl3", "CsPbBr3", "CsPbI3"])
def test_orthorhombic_perovskite_is_pnma_with_experimental_cell(formula: str) -> None:
    atoms = perovskite(formula, "orthorhombic")
    assert len(atoms) == 20
    assert _space_group_number(atoms) == 62
    lengths = atoms.cell.lengths()
    assert lengths[1] == pytest.approx(lengths.max())
    a_site, b_site, x_site = perovskite_ions(formula)
    symbols = atoms.get_chemical_symbols()
    assert [symbols.count(s) for s in (a_site, b_site, x_site)] == [4, 4, 12]


def test_lattice_overrides_replace_defaults() -> None:
    assert perovskite("CsPbBr3", a=6.0).cell[0, 0] == pytest.approx(6.0)
    assert perovskite("CsPbBr3", "orthorhombic", a=8.3).cell[0, 0] == pytest.approx(8.3)
    assert chalcogenide("CdS", a=5.9).cell[0, 0] == pytest.approx(5.9)
    wurtzite = chalcogenide("ZnS", "wurtzite", a=3.8, c=6.3)
    assert wurtzite.cell.lengths()[[0, 2]] == pytest.approx([3.8, 6.3])


def test_zincblende_cds_matches_paper_d220() -> None:
    atoms = chalcogenide("CdS")
    assert len(atoms) == 8
    assert _space_group_number(atoms) == 216
    assert atoms.cell[0, 0] / np.sqrt(8) == pytest.approx(2.0614, rel=5e-3)


def test_any_mx_with_a_lattice_constant() -> None:
    atoms = bulk_phase("ZnTe", "zincblende", a=6.10)
    assert sorted(set(atoms.get_chemical_symbols())) == ["Te", "Zn"]
    with pytest.raises(UnknownPhaseError, match="pass a="):
        chalcogenide("ZnTe")


@pytest.mark.parametrize(
    ("call", "error"),
    [
        (lambda: perovskite("CsPbXx3"), UnknownElementError),
        (lambda: perovskite("CsPbBr3", "hexagonal"), UnknownPhaseError),
        (lambda: perovskite("CdS"), UnknownPhaseError),
        (lambda: chalcogenide("CdS", "rocksalt"), UnknownPhaseError),
        (lambda: chalcogenide("CuS"), UnknownElementError),
        (lambda: bulk_phase("CdS", "amorphous"), UnknownPhaseError),
        (lambda: chalcogenide("CdS", a=-1.0), UnknownPhaseError),
    ],
)
def test_bad_input_raises_clear_errors(call: Callable[[], object], error: type[Exception]) -> None:
    with pytest.raises(error):
        call()


def test_ions_are_identified_by_formal_charge() -> None:
    assert perovskite_ions("CsPbI3") == ("Cs", "Pb", "I")


@pytest.mark.parametrize("fmt", ["cif", "vasp"])
def test_from_file_reads_cif_and_poscar(tmp_path: Path, fmt: str) -> None:
    original = chalcogenide("CdS", "wurtzite")
    path = tmp_path / ("structure.cif" if fmt == "cif" else "POSCAR")
    write(path, original, format=fmt)
    atoms = from_file(path)
    assert sorted(atoms.get_chemical_symbols()) == sorted(original.get_chemical_symbols())
    assert atoms.get_volume() == pytest.approx(original.get_volume(), rel=1e-6)
    with pytest.raises(FileNotFoundError):
        from_file(tmp_path / "missing.cif")
