"""Calcfunctions: the provenance-recording wrappers around ``heterostructures``.

Each function converts AiiDA nodes to plain Python, calls one pure function of
``heterostructures`` and returns nodes, so the graph shows which inputs made which
structure or number. No physics is written here.
"""

from __future__ import annotations

import dataclasses
from collections import Counter

from aiida import orm
from aiida.engine import calcfunction
from pymatgen.core import Composition

from heterostructures.structure.bulk_lattice import bulk_lattice, primitive_bulk
from heterostructures.structure.energetics import interface_formation_energy
from heterostructures.structure.interface import strained_bulk_units
from heterostructures.structure.interface_spec import (
    build_from_spec,
    interface_summary,
    spec_with_lattices,
)
from heterostructures.structure.relaxation import relaxation_summary
from heterostructures.structure.slab_geometry import in_plane_area_ang2
from workflows.inputs.site_labels import labels_from_atoms


@calcfunction
def bulk_structure(formula: orm.Str, phase: orm.Str) -> orm.StructureData:
    """Smallest bulk cell of ``formula`` in ``phase`` with experimental lattice parameters."""
    return orm.StructureData(ase=primitive_bulk(formula.value, phase.value))


@calcfunction
def bulk_lattice_parameters(
    structure: orm.StructureData, formula: orm.Str, phase: orm.Str
) -> orm.Dict:
    """Lattice parameters (Å) of a relaxed bulk cell with the deviation from experiment."""
    lattice = bulk_lattice(structure.get_ase(), formula.value, phase.value)
    return orm.Dict(dataclasses.asdict(lattice))


@calcfunction
def build_interface_structure(spec: orm.Dict, **lattices: orm.Dict) -> dict[str, orm.Data]:
    """Interface model from a spec (``InterfaceSpec`` fields) and optional relaxed lattices.

    ``lattices`` may hold ``perovskite`` and ``chalcogenide`` (outputs ``lattice`` of
    janus.bulk_reference); their ``a`` replaces the experimental lattice constant, so the
    strain recorded is that of the calculation. Returns the structure, its site labels
    and the build report.
    """
    interface = build_from_spec(spec.get_dict(), _lattice_constants(lattices))
    return {
        "structure": orm.StructureData(ase=interface.atoms),
        "site_labels": orm.Dict(labels_from_atoms(interface.atoms)),
        "report": orm.Dict(interface_summary(interface)),
    }


@calcfunction
def strained_bulk_structures(spec: orm.Dict, **lattices: orm.Dict) -> dict[str, orm.Data]:
    """Each side's bulk unit strained in plane like the interface of ``spec`` (route 2).

    Same ``spec`` and ``lattices`` as :func:`build_interface_structure`, so the strain is
    the one of the built interface; keys ``perovskite`` and ``chalcogenide``.
    """
    values = spec_with_lattices(spec.get_dict(), _lattice_constants(lattices))
    return {
        side: orm.StructureData(ase=atoms) for side, atoms in strained_bulk_units(values).items()
    }


def _lattice_constants(lattices: dict[str, orm.Dict]) -> dict[str, float]:
    return {f"{side}_a": float(node["a"]) for side, node in lattices.items()}


@calcfunction
def summarise_relaxation(trajectory: orm.TrajectoryData, site_labels: orm.Dict) -> orm.Dict:
    """Residual forces on free atoms and displacement of fixed ones (eV/Å, Å)."""
    summary = relaxation_summary(
        trajectory.get_positions(),
        trajectory.get_array("forces"),
        trajectory.get_array("cells")[-1],
        site_labels["fixed"],
    )
    return orm.Dict(dataclasses.asdict(summary))


@calcfunction
def interface_energy(
    energy: orm.Float, structure: orm.StructureData, references: orm.Dict, periodic: orm.Bool
) -> orm.Dict:
    """Interface formation energy (eV/Å², J/m²) against bulk energies per formula unit."""
    refs = references.get_dict()
    atoms = structure.get_ase()
    formulas = {name: Counter(Composition(name).as_dict()) for name in refs}
    result = interface_formation_energy(
        energy.value,
        Counter(atoms.get_chemical_symbols()),
        {name: float(value) for name, value in refs.items()},
        {name: Counter({el: int(n) for el, n in f.items()}) for name, f in formulas.items()},
        in_plane_area_ang2(atoms.cell),
        periodic.value,
    )
    return orm.Dict(dataclasses.asdict(result))
