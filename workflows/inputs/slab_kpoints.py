"""k-point meshes of slabs in vacuum: one point along the slab normal.

Why: aiida-quantumespresso's ``kpoints_distance`` makes a mesh over all three reciprocal
axes (``create_kpoints_from_distance`` → aiida-core's ``set_kpoints_mesh_from_density``:
⌈|b_i|/distance⌉ points along b_i). Across a vacuum gap the bands are flat, so points
along the normal b_3 only repeat the same states at twice (or more) the cost: the 26-atom
``balanced`` slab (c = 28.8 Å, |b_3| = 0.218 1/Å) gets 2 at the NSCF's 0.2 1/Å, the
104-atom ``stringent`` slab (c = 48.4 Å) 2 at 0.1 1/Å. A superlattice (no vacuum) is
periodic along its normal and keeps its mesh.
"""

from __future__ import annotations

from typing import Any

from aiida import orm

from heterostructures.structure.slab_geometry import has_vacuum

SLAB_PBC = (True, True, False)
"""Periodicity of a slab in vacuum for the mesh (c, the stacking axis, not periodic)."""


def slab_mesh(structure: orm.StructureData, distance: float, force_parity: bool = False) -> Any:
    """``KpointsData`` mesh of ``structure`` at ``distance`` (1/Å) by aiida-core's rule for
    a ``kpoints_distance``, with one point along c (aiida-core puts 1 on an axis that is
    not periodic: ``set_kpoints_mesh_from_density``)."""
    kpoints = orm.KpointsData()
    kpoints.set_cell(structure.cell, pbc=SLAB_PBC)
    kpoints.set_kpoints_mesh_from_density(distance, force_parity=force_parity)
    return kpoints


def with_slab_kpoints(inputs: Any, structure: orm.StructureData) -> Any:
    """Give ``PwBaseWorkChain`` ``inputs`` (a namespace or dict) that sample by
    ``kpoints_distance`` an explicit mesh with one point along the normal when
    ``structure`` is a slab in vacuum (:func:`has_vacuum`); leave a superlattice, or
    inputs with an explicit mesh, as they are. Returns ``inputs``.
    """
    if "kpoints_distance" not in inputs or not has_vacuum(structure.get_ase()):
        return inputs
    distance = inputs.pop("kpoints_distance")
    parity = inputs.pop("kpoints_force_parity", None)
    inputs["kpoints"] = slab_mesh(
        structure, float(distance.value), bool(parity.value) if parity is not None else False
    )
    return inputs
