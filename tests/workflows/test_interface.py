"""``janus.bulk_reference`` and ``janus.interface``: builders, bad input, mock end-to-end runs.

The end-to-end runs replay recordings of real pw.x runs (tests/fixtures/mock/); re-record
with ``scripts/record_fixtures.sh 'tests/workflows/test_interface.py'``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np
import pytest

if TYPE_CHECKING:
    from aiida.orm import InstalledCode
    from aiida_pseudo.groups.family import CutoffsPseudoPotentialFamily

SERIAL = {"withmpi": False, "resources": {"num_machines": 1, "num_mpiprocs_per_machine": 1}}
TINY_INTERFACE = {
    "pseudo_flavour": "nc",
    "interface": {"perovskite_planes": 3, "chalcogenide_planes": 2, "periodic": True},
    "relax": {
        "pw": {
            "parameters": {
                "SYSTEM": {"ecutwfc": 20.0, "ecutrho": 80.0},
                "CONTROL": {"nstep": 10, "forc_conv_thr": 5.0e-2, "etot_conv_thr": 1.0e-2},
                "ELECTRONS": {"conv_thr": 1.0e-5},
            }
        }
    },
}


# NC family cutoff (60 Ry): at 30 Ry the Pulay stress shrinks CdS to 5.45 Å (measured).
TINY_BULK = {
    "kpoints_distance": 0.6,
    "pw": {
        "parameters": {
            "SYSTEM": {"ecutwfc": 60.0, "ecutrho": 240.0},
            "CELL": {"press_conv_thr": 5.0},
        }
    },
}


def _builder_snapshot(builder: Any) -> dict[str, Any]:
    relax = builder.relax
    return {
        "interface": builder.interface.get_dict(),
        "kpoints_mesh": relax.kpoints.get_kpoints_mesh()[0],
        "parameters": relax.pw.parameters.get_dict(),
        "settings": relax.pw.settings.get_dict() if "settings" in relax.pw else None,
        "monitors": {k: v.get_dict() for k, v in relax.pw.monitors.items()},
        "pseudos": {kind: pseudo.filename for kind, pseudo in relax.pw.pseudos.items()},
    }


@pytest.fixture
def families(pseudo_family: Callable[[str], CutoffsPseudoPotentialFamily]) -> None:
    pseudo_family("paw")
    pseudo_family("nc")


@pytest.mark.usefixtures("families")
@pytest.mark.parametrize("protocol", ["fast", "balanced", "stringent"])
def test_interface_builder_per_protocol(
    protocol: str, real_code: Callable[[str], InstalledCode], data_regression: Any
) -> None:
    from workflows.interface import InterfaceWorkChain

    builder = InterfaceWorkChain.get_builder_from_protocol(real_code("pw.x"), protocol=protocol)
    data_regression.check(_builder_snapshot(builder))


@pytest.mark.usefixtures("families")
def test_interface_bad_input_fails_before_submission(
    real_code: Callable[[str], InstalledCode],
) -> None:
    from heterostructures.structure_errors import StructureInputError
    from workflows.interface import InterfaceWorkChain, validate_spec
    from workflows.protocols import UnknownProtocolError

    code = real_code("pw.x")
    with pytest.raises(UnknownProtocolError, match="choose one of"):
        InterfaceWorkChain.get_builder_from_protocol(code, protocol="ultra")
    with pytest.raises(StructureInputError, match="perovskite_layers"):
        InterfaceWorkChain.get_builder_from_protocol(
            code, overrides={"interface": {"perovskite_layers": 3}}
        )
    from aiida.orm import Dict

    message = validate_spec(Dict({"chalcogenide_planes": 0}), None)
    assert message is not None
    assert "cannot be built" in message


@pytest.mark.usefixtures("families")
def test_bulk_reference_bad_input(real_code: Callable[[str], InstalledCode]) -> None:
    from workflows.pw_builders import PseudoFamilyError
    from workflows.relax import BulkReferenceWorkChain

    code = real_code("pw.x")
    with pytest.raises(ValueError, match="not supported"):
        BulkReferenceWorkChain.get_builder_from_protocol(code, "CdS", "rocksalt")
    with pytest.raises(PseudoFamilyError, match="no pseudopotential"):
        BulkReferenceWorkChain.get_builder_from_protocol(
            code, "CdS", "zincblende", overrides={"pseudo_flavour": "nc"}, cutoff_elements=("Hg",)
        )


@pytest.mark.usefixtures("families")
def test_bulk_reference_on_mock_links_lattice_to_relaxation(
    mock_code: Callable[..., InstalledCode],
) -> None:
    from aiida.engine import run_get_node

    from workflows.relax import BulkReferenceWorkChain

    builder = BulkReferenceWorkChain.get_builder_from_protocol(
        mock_code("pw.x"),
        "CdS",
        "zincblende",
        protocol="fast",
        overrides={
            "pseudo_flavour": "nc",
            "relax": {"base_relax": TINY_BULK, "meta_convergence": False},
        },
        options=SERIAL,
    )
    results, node = run_get_node(builder)
    assert node.is_finished_ok, node.exit_status
    lattice = results["lattice"].get_dict()
    assert 5.7 < lattice["a"] < 6.2, "NC-PBE CdS lattice within a few % of experiment (5.818 Å)"
    assert abs(lattice["deviation_a_percent"]) < 5.0
    creator = results["lattice"].creator
    assert creator.inputs.structure.pk == results["relaxed_structure"].pk


@pytest.mark.usefixtures("families")
def test_interface_relax_on_mock_keeps_fixed_atoms_and_labels(
    mock_code: Callable[..., InstalledCode],
) -> None:
    from aiida.engine import run_get_node
    from aiida.orm import Dict

    from workflows.interface import InterfaceWorkChain

    builder = InterfaceWorkChain.get_builder_from_protocol(
        mock_code("pw.x"), protocol="fast", overrides=TINY_INTERFACE, options=SERIAL
    )
    builder.lattices = {"perovskite": Dict({"a": 5.90}), "chalcogenide": Dict({"a": 5.88})}
    results, node = run_get_node(builder)
    assert node.is_finished_ok, node.exit_status
    labels = results["site_labels"].get_dict()
    structure = results["structure"]
    assert len(labels["domain"]) == len(structure.sites) == 13
    assert set(labels["domain"]) == {"perovskite", "chalcogenide"}
    relaxation = results["relaxation"].get_dict()
    assert relaxation["max_fixed_displacement_ang"] < 1e-8
    assert relaxation["steps"] >= 2
    (built,) = [
        called for called in node.called if called.process_label == "build_interface_structure"
    ]
    assert (
        built.outputs.structure.pk
        == results["relax_outputs"]["output_structure"].creator.inputs.structure.pk
    )
    assert {link.link_label for link in built.base.links.get_incoming().all()} >= {
        "spec",
        "perovskite",
        "chalcogenide",
    }
    cell = np.array(structure.cell)
    assert np.linalg.norm(cell[0]) == pytest.approx(0.5 * (5.90 + 5.88), rel=2e-2)
