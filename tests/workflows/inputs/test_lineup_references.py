"""Route 2 reference inputs: even Γ-centred meshes and electrons from the pseudopotentials."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np
import pytest

from workflows.inputs.lineup_references import even_kpoints_mesh

if TYPE_CHECKING:
    from aiida_pseudo.groups.family import CutoffsPseudoPotentialFamily


@pytest.mark.parametrize("distance", [0.15, 0.3, 0.5, 0.8, 2.0])
def test_even_mesh_is_even_and_at_least_as_dense_as_asked(distance: float) -> None:
    cell = np.array([[5.825, 0.0, 0.0], [0.0, 8.237, 0.0], [0.0, -4.119, 4.123]])
    mesh = even_kpoints_mesh(cell, distance)
    reciprocal = 2 * math.pi * np.linalg.inv(cell).T
    for divisions, vector in zip(mesh, reciprocal, strict=True):
        assert divisions % 2 == 0
        assert np.linalg.norm(vector) / divisions <= distance + 1e-12


def test_even_mesh_contains_the_cubic_r_point() -> None:
    """Cubic CsPbBr3's band edges sit at R = (½, ½, ½): an even mesh includes it."""
    mesh = even_kpoints_mesh(np.eye(3) * 5.9, 0.5)
    assert all(n % 2 == 0 and (n // 2) / n == 0.5 for n in mesh)


def test_reference_inputs_keep_the_hamiltonian_and_change_only_what_must(
    pseudo_family: Callable[[str], CutoffsPseudoPotentialFamily],
) -> None:
    """Same pseudos/cutoffs/convergence; own bands, even mesh, no slab keys (nor the
    interface's local-TF mixing), no Γ tricks."""
    from aiida import orm

    from heterostructures.structure.interface import MODELS, strained_bulk_units
    from workflows.inputs.lineup_references import reference_scf_inputs

    family = pseudo_family("nc")
    reference = orm.StructureData(ase=strained_bulk_units(MODELS["demo"])["chalcogenide"])
    parameters = {
        "CONTROL": {"calculation": "scf", "tefield": True, "dipfield": True},
        "SYSTEM": {"ecutwfc": 30.0, "ecutrho": 120.0, "nbnd": 99, "edir": 3, "emaxpos": 0.9},
        "ELECTRONS": {"conv_thr": 1e-9, "mixing_mode": "local-TF"},
    }
    scf: dict[str, Any] = {
        "kpoints_distance": orm.Float(0.5),
        "pw": {
            "parameters": orm.Dict(parameters),
            "pseudos": family.get_pseudos(elements=("Cs", "Pb", "Br", "Cd", "S")),
            "settings": orm.Dict({"gamma_only": True, "FIXED_COORDS": []}),
        },
    }
    inputs = reference_scf_inputs(scf, reference)
    new = inputs["pw"]["parameters"].get_dict()
    assert new["ELECTRONS"] == {"conv_thr": 1e-9}, "a bulk mixes plainly"
    assert {k: new["SYSTEM"][k] for k in ("ecutwfc", "ecutrho")} == {
        "ecutwfc": 30.0,
        "ecutrho": 120.0,
    }
    assert "tefield" not in new["CONTROL"]
    assert "dipfield" not in new["CONTROL"]
    assert "edir" not in new["SYSTEM"]
    assert "emaxpos" not in new["SYSTEM"]
    # Cd4S4: the valence of its own pseudopotentials, half occupied, plus 8 empty bands.
    electrons = sum(inputs["pw"]["pseudos"][site.kind_name].z_valence for site in reference.sites)
    assert new["SYSTEM"]["nbnd"] == round(electrons) // 2 + 8
    assert set(inputs["pw"]["pseudos"]) == {"Cd", "S"}
    assert "kpoints_distance" not in inputs
    assert all(n % 2 == 0 for n in inputs["kpoints"].get_kpoints_mesh()[0])
    assert "gamma_only" not in inputs["pw"]["settings"].get_dict()
    assert scf["pw"]["parameters"].get_dict() == parameters, "the interface inputs are untouched"


@pytest.mark.parametrize(
    ("atoms", "given", "expected"),
    [
        (13, {}, None),  # small cells: plain (fewer iterations, measured)
        (59, {"mixing_mode": "local-TF"}, None),  # a larger model's template: dropped
        (59, {"mixing_mode": "TF"}, "TF"),  # a user's other mode: kept
        (60, {}, "local-TF"),
        (100, {"mixing_beta": 0.3}, "local-TF"),
        (100, {"mixing_mode": "plain"}, "plain"),  # given explicitly: kept
    ],
)
def test_scf_for_size_mixing(atoms: int, given: dict[str, Any], expected: str | None) -> None:
    """Reference: the rule of ``LOCAL_TF_FROM_ATOMS`` (60) as its docstring states it."""
    from workflows.inputs.pw_builders import LOCAL_TF_FROM_ATOMS, scf_for_size

    assert LOCAL_TF_FROM_ATOMS == 60
    parameters = {"SYSTEM": {"nbnd": 8, "occupations": "fixed"}, "ELECTRONS": dict(given)}
    mixed = scf_for_size(parameters, atoms)
    assert mixed.get("ELECTRONS", {}).get("mixing_mode") == expected
    assert mixed["SYSTEM"]["nbnd"] == 8
    assert parameters["ELECTRONS"] == given, "the given parameters are untouched"
    if "mixing_beta" in given:
        assert mixed["ELECTRONS"]["mixing_beta"] == given["mixing_beta"]


SMEARED = {"occupations": "smearing", "smearing": "gaussian", "degauss": 0.005}
USER_SMEARING = {"occupations": "smearing", "smearing": "mv", "degauss": 0.02}


@pytest.mark.parametrize(
    ("atoms", "given", "expected"),
    [
        (13, {"occupations": "fixed"}, {"occupations": "fixed"}),  # recorded inputs unchanged
        (26, {}, {}),
        (59, SMEARED, {"occupations": "fixed"}),  # a larger model's template: back to fixed
        (59, USER_SMEARING, USER_SMEARING),  # a user's own smearing: kept
        (60, {"occupations": "fixed"}, SMEARED),
        (100, {}, SMEARED),
        (100, USER_SMEARING, USER_SMEARING),
        (100, {"occupations": "tetrahedra_opt"}, {"occupations": "tetrahedra_opt"}),
    ],
)
def test_scf_for_size_occupations(
    atoms: int, given: dict[str, Any], expected: dict[str, Any]
) -> None:
    """Reference: ``LARGE_CELL_OCCUPATIONS`` as its docstring states it (Gaussian 0.005 Ry
    from 60 atoms on, in QE's ``occupations``/``smearing``/``degauss`` keys), and the
    13-atom SCF's fixed occupations, which its recorded pw.x input (tests/fixtures/mock)
    has."""
    from workflows.inputs.pw_builders import LARGE_CELL_OCCUPATIONS, scf_for_size

    assert LARGE_CELL_OCCUPATIONS == SMEARED
    fitted = scf_for_size({"SYSTEM": dict(given)} if given else {}, atoms)
    assert fitted.get("SYSTEM", {}) == expected
    assert given is not fitted.get("SYSTEM"), "the given parameters are untouched"
