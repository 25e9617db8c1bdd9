"""Strained primitive reference cells of coincidence-cell interfaces (issue 22).

Reference (closed form, no pymatgen): two cells hold the same crystal when the large
cell's vectors are integer combinations of the small cell's, the index |det M| equals
the ratio of their atom counts, and every site of the large cell sits, modulo the small
cell's lattice, on a site of the same species in the small cell.
"""

from __future__ import annotations

import numpy as np
import pytest
from ase import Atoms

from heterostructures.structure.interface import strained_bulk_units
from heterostructures.structure.interface_spec import InterfaceSpec

COINCIDENCE_PAIRS = (("CsPbCl3", "CdS"), ("CsPbI3", "CdS"), ("CsPbBr3", "ZnS"))
PRIMITIVE_ATOMS = {"perovskite": 5, "chalcogenide": 2}


def assert_same_crystal(large: Atoms, small: Atoms) -> None:
    """``large`` is a supercell of ``small`` (see the module docstring)."""
    matrix = large.cell[:] @ np.linalg.inv(small.cell[:])
    np.testing.assert_allclose(matrix, np.rint(matrix), atol=1e-6)
    assert len(large) % len(small) == 0
    assert abs(round(np.linalg.det(matrix))) == len(large) // len(small)
    fractional = large.positions @ np.linalg.inv(small.cell[:])
    for position, symbol in zip(fractional, large.get_chemical_symbols(), strict=True):
        delta = small.get_scaled_positions() - position
        delta -= np.rint(delta)
        distance = np.linalg.norm(delta @ small.cell[:], axis=1)
        nearest = int(np.argmin(distance))
        assert distance[nearest] < 1e-6
        assert small[nearest].symbol == symbol


@pytest.mark.parametrize(("perovskite", "chalcogenide"), COINCIDENCE_PAIRS)
def test_coincidence_references_are_the_strained_primitive_cells(
    perovskite: str, chalcogenide: str
) -> None:
    spec = InterfaceSpec(perovskite=perovskite, chalcogenide=chalcogenide)
    reduced = strained_bulk_units(spec)
    full = strained_bulk_units(spec, primitive=False)
    for side, unit in reduced.items():
        assert len(unit) == PRIMITIVE_ATOMS[side]
        assert len(full[side]) >= 8 * PRIMITIVE_ATOMS[side]
        assert_same_crystal(full[side], unit)


def test_one_to_one_references_keep_their_cells() -> None:
    """CsPbBr3/CdS (1:1 cell): the 5- and 8-atom units of the recorded runs are kept."""
    units = strained_bulk_units(InterfaceSpec())
    assert {side: len(unit) for side, unit in units.items()} == {"perovskite": 5, "chalcogenide": 8}


@pytest.mark.parametrize(("perovskite", "chalcogenide"), COINCIDENCE_PAIRS)
def test_reduced_perovskite_cell_is_pseudo_cubic(perovskite: str, chalcogenide: str) -> None:
    """Its axes are the pseudo-cubic ones (angles within 1° of 90°, lengths within the
    1 % strain bound of a), so R is (½,½,½) of its reciprocal cell and every even
    Γ-centred mesh of ``even_kpoints_mesh`` contains it."""
    spec = InterfaceSpec(perovskite=perovskite, chalcogenide=chalcogenide)
    unit = strained_bulk_units(spec)["perovskite"]
    lengths, angles = unit.cell.cellpar()[:3], unit.cell.cellpar()[3:]
    np.testing.assert_allclose(angles, 90.0, atol=1.0)
    assert max(lengths) / min(lengths) < 1.02
