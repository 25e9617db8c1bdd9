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


RECORDED_DIPOLE_RELAX = "49f53f4100791481"
"""tests/fixtures/mock/pw.x: a real pw.x 6.7 ``relax`` of a 12 Å-vacuum slab with
``tefield``/``dipfield`` and ``tstress = .true.`` (test_interface.py's polar stack)."""


def test_qe67_itself_drops_the_stress_of_a_dipole_corrected_run() -> None:
    """Why the interface relax keeps ``tstress`` beside the dipole correction: pw.x 6.7's
    ``iosys`` (PW/src/input.f90: ``IF ((tefield.or.gate) .and. tstress) THEN tstress_ =
    .false.``) turns the stress off and says so; no stress is computed or printed, so the
    flag costs nothing, and dropping it would move the recorded ``fast`` relax inputs.

    Reference: the recorded input and stdout of that real run.
    """
    import json
    import tarfile

    from workflows.mock.codes import DEFAULT_STORE

    record = DEFAULT_STORE / "pw.x" / RECORDED_DIPOLE_RELAX
    material = json.loads(record.with_suffix(".json").read_text())["material"]
    assert "tefield = .true." in material
    assert "dipfield = .true." in material
    assert "tstress = .true." in material
    with tarfile.open(record.with_suffix(".tar.xz")) as archive:
        member = archive.extractfile(".mock/stdout")
        assert member is not None
        stdout = member.read().decode()
    assert "Program PWSCF v.6.7" in stdout
    assert "Presently stress not available with electric field and gates" in stdout
    assert "total   stress" not in stdout
    assert "Adding external electric field" in stdout
