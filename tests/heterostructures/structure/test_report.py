"""Interface files: labels round-trip through extxyz and CIF, summary numbers, PNG."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from ase.io import write

from heterostructures.structure.errors import StructureInputError
from heterostructures.structure.interface import Interface, default_interface
from heterostructures.structure.phases import perovskite
from heterostructures.structure.report import format_summary, read_interface, write_interface_files


@pytest.fixture(scope="module")
def demo() -> Interface:
    return default_interface()


@pytest.mark.parametrize("kind", ["extxyz", "cif"])
def test_files_round_trip_the_labels(tmp_path: Path, demo: Interface, kind: str) -> None:
    paths = write_interface_files(demo, tmp_path)
    atoms = read_interface(paths[kind])
    original = demo.atoms
    assert list(atoms.symbols) == list(original.symbols)
    for name in ("domain", "layer", "fixed"):
        assert np.array_equal(atoms.arrays[name], original.arrays[name]), name
    delta = atoms.get_scaled_positions() - original.get_scaled_positions()
    assert np.abs(delta - np.rint(delta)).max() < 1e-5
    assert atoms.cell.lengths() == pytest.approx(original.cell.lengths(), abs=1e-4)


def test_summary_reports_the_numbers_of_the_model(demo: Interface) -> None:
    text = format_summary(demo)
    assert "atoms: 26" in text
    assert f"{demo.perovskite_strain_percent[0]:+.3f}" in text
    assert "Br/CsPbBr/Br2/CsPbBr/Br" in text
    assert "formal dipole +0.000" in text


def test_png_side_view_is_written(tmp_path: Path, demo: Interface) -> None:
    png = write_interface_files(demo, tmp_path, stem="demo")["png"]
    data = png.read_bytes()
    assert data.startswith(b"\x89PNG")
    assert len(data) > 5000


def test_reading_a_file_without_labels_says_what_is_missing(tmp_path: Path) -> None:
    plain = tmp_path / "plain.extxyz"
    write(plain, perovskite("CsPbBr3"), format="extxyz")
    with pytest.raises(StructureInputError, match="label"):
        read_interface(plain)
