"""Every pw.x run on a slab in vacuum gets the relax's dipole correction (0.10.0).

Reference: the sawtooth placement itself is checked geometrically in
``tests/heterostructures/structure/test_slab_geometry.py`` (discontinuity > 2 Å from
every atom); here, that the SCF/NSCF/MD/snapshot inputs of a slab carry exactly those
keys on top of their own, and that a superlattice's inputs are left as they were (the
same node: no new provenance, no cache miss).
"""

from __future__ import annotations

from heterostructures.structure.interface import default_interface
from heterostructures.structure.slab_geometry import dipole_correction_parameters


def _pw(parameters: dict[str, object]) -> dict[str, object]:
    from aiida import orm

    return {"parameters": orm.Dict(parameters)}


def test_a_slab_in_vacuum_gets_the_relax_dipole_correction(aiida_profile: object) -> None:
    from aiida import orm

    from workflows.inputs.pw_builders import with_dipole_correction

    atoms = default_interface().atoms
    own = {"CONTROL": {"calculation": "nscf"}, "SYSTEM": {"nbnd": 60, "nosym": True}}
    pw = with_dipole_correction(_pw(own), orm.StructureData(ase=atoms))
    given = pw["parameters"].get_dict()
    expected = dipole_correction_parameters(atoms)
    assert given["CONTROL"] == {"calculation": "nscf", **expected["CONTROL"]}  # type: ignore[dict-item]
    assert given["SYSTEM"] == {"nbnd": 60, "nosym": True, **expected["SYSTEM"]}  # type: ignore[dict-item]
    assert given["CONTROL"]["tefield"] is True
    assert given["CONTROL"]["dipfield"] is True


def test_a_superlattice_keeps_its_inputs_node(aiida_profile: object) -> None:
    from aiida import orm

    from workflows.inputs.pw_builders import with_dipole_correction

    structure = orm.StructureData(ase=default_interface(periodic=True).atoms)
    pw = _pw({"CONTROL": {"calculation": "scf"}})
    node = pw["parameters"]
    assert with_dipole_correction(pw, structure)["parameters"] is node
