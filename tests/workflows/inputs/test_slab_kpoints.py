"""One k-point along the normal of a slab in vacuum; a superlattice keeps its mesh.

Reference, by hand: the 26-atom demo slab (``default_interface()``, the ``balanced``
model) has c = 28.778 Å normal to a, b (|a| = 5.8246 Å, |b| = 8.2373 Å), so
|b_i| = 2π/|a_i| = 1.0787, 0.7628, 0.2183 1/Å; aiida-core's rule for a
``kpoints_distance`` d (``KpointsData.set_kpoints_mesh_from_density``: ⌈|b_i|/d⌉) gives at
the ``balanced`` NSCF's d = 0.2 1/Å the mesh 6 × 4 × 2, two points across 12 Å of vacuum.
Its periodic twin (c = 19.592 Å, |b_3| = 0.3207 1/Å, widest gap 2.81 Å) is a superlattice
and keeps ⌈0.3207/0.2⌉ = 2 along c.
"""

from __future__ import annotations

import math

import pytest

from heterostructures.structure.interface import default_interface

BALANCED_NSCF_DISTANCE = 0.2
"""1/Å, workflows/protocols/electronic.yaml (``balanced``'s ``nscf.kpoints_distance``)."""


def _inputs(distance: float) -> dict[str, object]:
    from aiida import orm

    return {"kpoints_distance": orm.Float(distance), "kpoints_force_parity": orm.Bool(False)}


def test_hand_computed_mesh_samples_the_vacuum_without_the_fix() -> None:
    """The defect, computed by hand from the cell: 2 points along the slab normal."""
    lengths = default_interface().atoms.cell.lengths()
    mesh = [math.ceil(2 * math.pi / length / BALANCED_NSCF_DISTANCE) for length in lengths]
    assert mesh == [6, 4, 2]


def test_a_slab_in_vacuum_gets_one_point_along_the_normal(aiida_profile: object) -> None:
    from aiida import orm

    from workflows.inputs.slab_kpoints import with_slab_kpoints

    structure = orm.StructureData(ase=default_interface().atoms)
    inputs = with_slab_kpoints(_inputs(BALANCED_NSCF_DISTANCE), structure)
    assert "kpoints_distance" not in inputs
    assert "kpoints_force_parity" not in inputs
    mesh, offset = inputs["kpoints"].get_kpoints_mesh()
    assert list(mesh) == [6, 4, 1]
    assert list(offset) == [0.0, 0.0, 0.0]


def test_a_superlattice_keeps_its_distance_and_mesh(aiida_profile: object) -> None:
    """Periodic along its normal: aiida-quantumespresso still makes its mesh (2 along c)."""
    from aiida import orm

    from workflows.inputs.slab_kpoints import with_slab_kpoints

    structure = orm.StructureData(ase=default_interface(periodic=True).atoms)
    given = _inputs(BALANCED_NSCF_DISTANCE)
    distance = given["kpoints_distance"]
    inputs = with_slab_kpoints(given, structure)
    assert inputs["kpoints_distance"] is distance
    assert "kpoints" not in inputs
    kpoints = orm.KpointsData()
    kpoints.set_cell_from_structure(structure)
    kpoints.set_kpoints_mesh_from_density(BALANCED_NSCF_DISTANCE)
    assert kpoints.get_kpoints_mesh()[0][2] == 2


@pytest.mark.parametrize("parity", [False, True])
def test_parity_applies_in_plane_only(aiida_profile: object, parity: bool) -> None:
    """``kpoints_force_parity`` evens the in-plane counts (aiida-core: 'except for the
    non-periodic directions'), the normal stays 1."""
    from aiida import orm

    from workflows.inputs.slab_kpoints import slab_mesh

    structure = orm.StructureData(ase=default_interface().atoms)
    mesh = slab_mesh(structure, 0.3, force_parity=parity).get_kpoints_mesh()[0]
    # |b|/0.3 = 3.60, 2.54: 4 × 3 by hand, 4 × 4 with parity
    assert list(mesh) == ([4, 4, 1] if parity else [4, 3, 1])


def test_explicit_meshes_are_left_alone(aiida_profile: object) -> None:
    from aiida import orm

    from workflows.inputs.slab_kpoints import with_slab_kpoints

    mesh = orm.KpointsData()
    mesh.set_kpoints_mesh([2, 2, 2])
    inputs = with_slab_kpoints({"kpoints": mesh}, orm.StructureData(ase=default_interface().atoms))
    assert inputs["kpoints"] is mesh
