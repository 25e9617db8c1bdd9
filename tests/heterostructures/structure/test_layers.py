"""Layer assignment along the normal: tolerance, periodic wrap, interface label groups."""

from __future__ import annotations

import numpy as np
import pytest

from heterostructures.structure.errors import StructureInputError
from heterostructures.structure.interface import default_interface
from heterostructures.structure.layers import assign_layers, layer_groups, layers_of_atoms
from heterostructures.structure.phases import perovskite


def test_planes_split_by_gaps_larger_than_tolerance() -> None:
    layers = assign_layers([0.0, 0.2, 2.0, 2.1, 5.0], cell_length=10.0, periodic=False)
    assert layers.indices == (0, 0, 1, 1, 2)
    assert layers.positions == pytest.approx((0.1, 2.05, 5.0))


def test_periodic_wrap_joins_a_plane_cut_by_the_boundary() -> None:
    layers = assign_layers([0.1, 9.9, 5.0, -0.05], cell_length=10.0, periodic=True)
    assert layers.count == 2
    assert layers.indices[0] == layers.indices[1] == layers.indices[3]
    boundary_plane = layers.positions[layers.indices[0]]
    assert min(boundary_plane, 10.0 - boundary_plane) < 0.1
    unwrapped = assign_layers([0.1, 9.9, 5.0], cell_length=10.0, periodic=False)
    assert unwrapped.count == 3


def test_rumpled_plane_stays_one_layer_within_tolerance() -> None:
    rng = np.random.default_rng(0)
    planes = np.repeat([1.0, 3.0, 5.0, 7.0], 6) + rng.uniform(-0.15, 0.15, 24)
    layers = assign_layers(planes, 8.0, tolerance=0.5)
    assert layers.count == 4
    assert np.bincount(layers.indices).tolist() == [6, 6, 6, 6]


def test_stacking_n_cells_gives_proportional_layers() -> None:
    single = layers_of_atoms(perovskite("CsPbBr3")).count
    assert layers_of_atoms(perovskite("CsPbBr3").repeat((1, 1, 3))).count == 3 * single


def test_layer_groups_cover_every_atom_once() -> None:
    atoms = default_interface().atoms
    groups = layer_groups(atoms)
    assert sorted(i for members in groups.values() for i in members) == list(range(len(atoms)))
    assert {domain for domain, _ in groups} == {"perovskite", "chalcogenide"}
    assert len([key for key in groups if key[0] == "chalcogenide"]) == 4


def test_bad_input() -> None:
    with pytest.raises(StructureInputError):
        assign_layers([], 10.0)
    with pytest.raises(StructureInputError):
        assign_layers([1.0], 10.0, tolerance=0.0)
    with pytest.raises(StructureInputError, match="domain"):
        layer_groups(perovskite("CsPbBr3"))
