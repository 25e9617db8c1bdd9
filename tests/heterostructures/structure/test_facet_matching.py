"""Plane geometry in non-orthogonal cells against pymatgen's reciprocal lattice."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from ase import Atoms
from pymatgen.core import Lattice

from heterostructures.structure.facet_matching import (
    in_plane_lattice,
    interplanar_spacing,
    plane_normal,
)
from heterostructures.structure.phases import chalcogenide
from heterostructures.structure.terminations import oriented_unit

MILLERS = [hkl for hkl in itertools.product(range(-2, 3), repeat=3) if any(hkl) and hkl > (0, 0, 0)]


def _random_cells() -> dict[str, Lattice]:
    """Five random triclinic cells, three hexagonal ones (a, c in Å, angles in degrees) and
    an orthorhombic cell rotated off the Cartesian axes (orthogonal, but C not symmetric)."""
    rng = np.random.default_rng(18)
    cells = {
        f"triclinic-{i}": Lattice.from_parameters(
            *rng.uniform(3.0, 9.0, 3), *rng.uniform(60.0, 115.0, 3)
        )
        for i in range(5)
    }
    for name, a, c in (("ZnS", 3.8227, 6.2607), ("CdS", 4.1367, 6.7161), ("long-c", 3.0, 9.0)):
        cells[f"hexagonal-{name}"] = Lattice.hexagonal(a, c)
    angle = np.radians(30.0)
    rotation = np.array(
        [[np.cos(angle), -np.sin(angle), 0.0], [np.sin(angle), np.cos(angle), 0.0], [0, 0, 1]]
    )
    cells["rotated-orthorhombic"] = Lattice(np.diag([8.244, 11.7351, 8.1982]) @ rotation.T)
    return cells


CELLS = _random_cells()


@pytest.mark.parametrize("name", CELLS)
def test_spacing_and_normal_match_pymatgen_in_skewed_cells(name: str) -> None:
    """Reference: pymatgen ``Lattice.d_hkl`` and its crystallographic reciprocal lattice.

    The old ``hkl @ inv(C)`` (rows of C⁻¹ instead of rows of C⁻ᵀ) differs by up to tens of %
    here; it is right only for a symmetric C, so axis-aligned cubic and orthorhombic cells
    could not show it, but the rotated orthorhombic cell does.
    """
    lattice = CELLS[name]
    atoms = Atoms(cell=lattice.matrix, pbc=True)
    reciprocal = lattice.reciprocal_lattice_crystallographic
    for hkl in MILLERS:
        assert interplanar_spacing(atoms, hkl) == pytest.approx(lattice.d_hkl(hkl), rel=1e-10)
        expected = reciprocal.get_cartesian_coords(hkl)
        assert plane_normal(atoms, hkl) == pytest.approx(
            expected / np.linalg.norm(expected), abs=1e-10
        )


@pytest.mark.parametrize("name", CELLS)
def test_normal_is_perpendicular_to_every_lattice_vector_in_the_plane(name: str) -> None:
    """Reference: the definition of a plane normal (u·h = 0 ⇒ [uvw] lies in (hkl))."""
    lattice = CELLS[name]
    atoms = Atoms(cell=lattice.matrix, pbc=True)
    for hkl in MILLERS:
        normal = plane_normal(atoms, hkl)
        for uvw in itertools.product(range(-2, 3), repeat=3):
            if any(uvw) and np.dot(uvw, hkl) == 0:
                assert np.dot(np.asarray(uvw) @ lattice.matrix, normal) == pytest.approx(
                    0.0, abs=1e-9
                )


def test_wurtzite_prism_spacing_is_a_sqrt3_over_2() -> None:
    """Reference: closed forms for hexagonal cells, d(10-10) = a√3/2, d(11-20) = a/2,
    d(10-11) = (4/(3a²) + 1/c²)^(-1/2). The old code gave d(100) = a = 3.8227 Å for ZnS."""
    a, c = 3.8227, 6.2607
    wurtzite = chalcogenide("ZnS", "wurtzite", a=a, c=c)
    assert interplanar_spacing(wurtzite, (1, 0, 0)) == pytest.approx(a * np.sqrt(3) / 2)
    assert interplanar_spacing(wurtzite, (1, 1, 0)) == pytest.approx(a / 2)
    assert interplanar_spacing(wurtzite, (1, 0, 1)) == pytest.approx(
        (4 / (3 * a**2) + 1 / c**2) ** -0.5
    )


@pytest.mark.parametrize("hkl", [(1, 0, 0), (1, 1, 0), (1, 0, 1), (0, 0, 1)])
def test_wurtzite_oriented_unit_has_the_plane_in_xy(hkl: tuple[int, int, int]) -> None:
    """Reference: V = A·d (2D cell area times plane spacing) and the c-axis length for (001).

    The oriented unit must put the (hkl) plane in xy: its in-plane cell area times d_hkl is
    the bulk volume, and its first two cell vectors have no z component.
    """
    wurtzite = chalcogenide("ZnS", "wurtzite")
    first, second = in_plane_lattice(wurtzite, hkl)
    area = np.linalg.norm(
        np.cross(np.array(first) @ wurtzite.cell[:], np.array(second) @ wurtzite.cell[:])
    )
    assert area * interplanar_spacing(wurtzite, hkl) == pytest.approx(wurtzite.get_volume())
    unit = oriented_unit(wurtzite, hkl)
    assert unit.cell[0, 2] == pytest.approx(0.0, abs=1e-9)
    assert unit.cell[1, 2] == pytest.approx(0.0, abs=1e-9)
    assert unit.cell[2, 2] == pytest.approx(interplanar_spacing(wurtzite, hkl))
    assert unit.get_volume() == pytest.approx(wurtzite.get_volume())
