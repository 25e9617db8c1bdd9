"""Interface specs as plain dictionaries (for storage and CLIs) and compact summaries.

The workflows store an interface request as a JSON-like dict; this module turns it into
an :class:`~heterostructures.interface.InterfaceSpec`, naming unknown keys instead of
failing deep inside, and turns a built :class:`Interface` into a JSON-safe summary.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from heterostructures.interface import MODELS, Interface, InterfaceSpec, build_interface
from heterostructures.structure_errors import StructureInputError
from heterostructures.structure_report import format_summary

SPEC_FIELDS = tuple(f.name for f in dataclasses.fields(InterfaceSpec))
TUPLE_FIELDS = ("perovskite_hkl", "chalcogenide_hkl", "supercell", "registry_grid")


def spec_from_dict(values: dict[str, Any]) -> InterfaceSpec:
    """``InterfaceSpec`` from a dict; ``model`` picks a preset the other keys override.

    Raises ``StructureInputError`` listing unknown keys and the valid ones.
    """
    values = dict(values)
    model = values.pop("model", "demo")
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
    spec = MODELS[model]
    if values.get("periodic") and "fixed_chalcogenide_layers" not in values:
        values["fixed_chalcogenide_layers"] = 1
    return dataclasses.replace(spec, **values)


def build_from_spec(values: dict[str, Any], lattice_constants: dict[str, float]) -> Interface:
    """Build an interface from a spec dict, with computed lattice constants (Å) if given.

    ``lattice_constants`` keys are ``perovskite_a`` / ``chalcogenide_a``.
    """
    return build_interface(spec_with_lattices(values, lattice_constants))


def spec_with_lattices(
    values: dict[str, Any], lattice_constants: dict[str, float]
) -> InterfaceSpec:
    """The spec of a dict with computed lattice constants (Å) replacing the experimental ones."""
    unknown = sorted(set(lattice_constants) - {"perovskite_a", "chalcogenide_a"})
    if unknown:
        raise StructureInputError(f"unknown lattice constants {unknown}")
    spec = spec_from_dict(values)
    return dataclasses.replace(
        spec,
        perovskite_a=lattice_constants.get("perovskite_a", spec.perovskite_a),
        chalcogenide_a=lattice_constants.get("chalcogenide_a", spec.chalcogenide_a),
    )


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
        "spec": _jsonable(dataclasses.asdict(interface.spec)),
        "text": format_summary(interface),
    }


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value
