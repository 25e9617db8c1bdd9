"""Acceptance of the demo interface model: its SCF converges at the family's cutoffs.

The naive polar CsPbBr/Br2 (110) stack diverges or oscillates (DESIGN.md, "Measured
cost"); the compensated superlattice of the fast protocol must converge within a bounded
number of iterations, with the divergence monitor attached and silent. The real run is
``slow`` (measured: 22 iterations, 12 min serial on the loaded 2-core machine); CI replays
its recording, made without the charge density (nothing restarts from it). Re-record with
``JANUS_MOCK_SKIP_CHARGE_DENSITY=1 JANUS_MOCK_MPI_RANKS=2 scripts/record_fixtures.sh
'tests/workflows/workchains/test_demo_model_scf.py'``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from aiida.orm import InstalledCode
    from aiida_pseudo.groups.family import CutoffsPseudoPotentialFamily

MAX_ITERATIONS = 40
SERIAL = {"withmpi": False, "resources": {"num_machines": 1, "num_mpiprocs_per_machine": 1}}


def _scf_builder(code: InstalledCode) -> Any:
    """The fast protocol's interface, its relax parameters turned into one SCF."""
    from aiida.orm import Dict

    from workflows.workchains.interface import InterfaceWorkChain

    builder = InterfaceWorkChain.get_builder_from_protocol(code, protocol="fast")
    relax = builder.relax
    parameters = relax.pw.parameters.get_dict()
    parameters["CONTROL"].update(calculation="scf", disk_io="low")
    parameters["CONTROL"].pop("nstep", None)
    parameters.pop("IONS", None)
    parameters["ELECTRONS"]["electron_maxstep"] = MAX_ITERATIONS
    relax.pw.parameters = Dict(parameters)
    return builder


def _run_scf(code: InstalledCode) -> Any:
    from aiida.engine import run_get_node
    from aiida.orm import StructureData
    from aiida_quantumespresso.workflows.pw.base import PwBaseWorkChain

    from heterostructures.structure.interface_spec import build_from_spec

    builder = _scf_builder(code)
    interface = build_from_spec(builder.interface.get_dict(), {})
    inputs = builder.relax._inputs(prune=True)
    inputs["pw"]["structure"] = StructureData(ase=interface.atoms)
    inputs["pw"]["metadata"]["options"] = SERIAL
    inputs["max_iterations"] = 1
    return run_get_node(PwBaseWorkChain, **inputs)


def _check_converged(results: dict[str, Any], node: Any) -> None:
    from heterostructures.electronic.bands import band_gap

    assert node.is_finished_ok, node.exit_message
    parameters = results["output_parameters"].get_dict()
    convergence = parameters["convergence_info"]["scf_conv"]
    assert convergence["convergence_achieved"]
    assert convergence["n_scf_steps"] <= MAX_ITERATIONS
    gap = band_gap(results["output_band"].get_bands(), parameters["number_of_electrons"])
    assert gap.gap_ev > 0.3, "the compensated interface is an insulator"


@pytest.fixture
def paw_family(pseudo_family: Callable[[str], CutoffsPseudoPotentialFamily]) -> None:
    pseudo_family("paw")


@pytest.mark.usefixtures("paw_family")
def test_demo_model_scf_converges_replayed(mock_code: Callable[..., InstalledCode]) -> None:
    results, node = _run_scf(mock_code("pw.x"))
    _check_converged(results, node)


@pytest.mark.real_qe
@pytest.mark.slow
@pytest.mark.usefixtures("paw_family")
def test_demo_model_scf_converges_real(real_code: Callable[[str], InstalledCode]) -> None:
    results, node = _run_scf(real_code("pw.x"))
    _check_converged(results, node)
