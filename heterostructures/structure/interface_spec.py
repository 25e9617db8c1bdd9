"""Interface specs as plain dictionaries (for storage and CLIs) and compact summaries.

The workflows store an interface request as a JSON-like dict; this module turns it into
an :class:`~heterostructures.structure.interface.InterfaceSpec`, naming unknown keys instead of
failing deep inside, and turns a built :class:`Interface` into a JSON-safe summary.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from heterostructures.structure.errors import StructureInputError
from heterostructures.structure.interface import (
    MODELS,
    Interface,
    InterfaceSpec,
    build_interface,
    with_periodic_fixing,
)
from heterostructures.structure.paper_model import paper_spec
from heterostructures.structure.report import format_summary

SPEC_FIELDS = tuple(f.name for f in dataclasses.fields(InterfaceSpec))
TUPLE_FIELDS = ("perovskite_hkl", "chalcogenide_hkl", "supercell", "registry_grid")
DIRECTION_FIELDS = ("perovskite_directions", "chalcogenide_directions")
RELATIONS = ("default", "paper")
"""``default``: the facets of the spec (1:1, or a coincidence cell); ``paper``: the paper's
zone-axis relation (:mod:`heterostructures.structure.paper_model`)."""


def spec_from_dict(values: dict[str, Any]) -> InterfaceSpec:
    """``InterfaceSpec`` from a dict; ``model`` picks a preset the other keys override.

    ``relation`` (:data:`RELATIONS`) ``"paper"`` replaces facets, in-plane cell and plane
    counts by the paper's relation, on the dict's lattice constants. Raises
    ``StructureInputError`` listing unknown keys and the valid ones.
    """
    values = dict(values)
    model = values.pop("model", "demo")
    relation = values.pop("relation", "default")
    if relation not in RELATIONS:
        raise StructureInputError(f"unknown relation {relation!r}; choose from {RELATIONS}")
    if model not in MODELS:
        raise StructureInputError(
            f"unknown interface model {model!r}; choose from {sorted(MODELS)}"
        )
    unknown = sorted(set(values) - set(SPEC_FIELDS))
    if unknown:
        raise StructureInputError(
            f"unknown interface parameters {unknown}; valid ones are {list(SPEC_FIELDS)}"
        )
    for key in TUPLE_FIELDS:
        if key in values:
            values[key] = tuple(values[key])
    for key in DIRECTION_FIELDS:
        if values.get(key) is not None:
            values[key] = tuple(tuple(int(v) for v in vector) for vector in values[key])
    spec = dataclasses.replace(MODELS[model], **values)
    spec = with_periodic_fixing(spec, "fixed_chalcogenide_layers" in values)
    return paper_spec(spec) if relation == "paper" else spec


def build_from_spec(values: dict[str, Any], lattice_constants: dict[str, float]) -> Interface:
    """Build an interface from a spec dict, with computed lattice constants (Å) if given.

    ``lattice_constants`` keys are ``perovskite_a`` / ``chalcogenide_a``.
    """
    return build_interface(spec_with_lattices(values, lattice_constants))


def spec_with_lattices(
    values: dict[str, Any], lattice_constants: dict[str, float]
) -> InterfaceSpec:
    """The spec of a dict with computed lattice constants (Å) replacing the experimental ones.

    The lattices enter before the relation and the coincidence cell are chosen, so both
    fit the lattices the model is built from.
    """
    unknown = sorted(set(lattice_constants) - {"perovskite_a", "chalcogenide_a"})
    if unknown:
        raise StructureInputError(f"unknown lattice constants {unknown}")
    return spec_from_dict({**values, **lattice_constants})


def interface_summary(interface: Interface) -> dict[str, Any]:
    """JSON-safe numbers of a built interface, plus the human-readable text summary."""
    atoms = interface.atoms
    return {
        "formula": atoms.get_chemical_formula(mode="metal"),
        "n_atoms": len(atoms),
        "cell_lengths_ang": [float(x) for x in atoms.cell.lengths()],
        "in_plane_area_ang2": float(
            abs(atoms.cell[0][0] * atoms.cell[1][1] - atoms.cell[0][1] * atoms.cell[1][0])
        ),
        "perovskite_strain_percent": [float(x) for x in interface.perovskite_strain_percent],
        "chalcogenide_strain_percent": [float(x) for x in interface.chalcogenide_strain_percent],
        "perovskite_termination": interface.perovskite_termination.name,
        "chalcogenide_termination": interface.chalcogenide_termination.name,
        "perovskite_dipole_e_ang": float(interface.perovskite_termination.dipole),
        "registry_shift": [float(x) for x in interface.registry_shift],
        "gap_ang": float(interface.gap),
        "min_contact_ratio": float(interface.min_contact_ratio),
        "periodic": bool(interface.spec.periodic),
        "coincidence_cell": interface.metadata.get("coincidence"),
        "spec": interface.spec.as_dict(),
        "text": format_summary(interface),
    }
