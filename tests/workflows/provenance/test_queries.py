"""Provenance queries on a small real graph: two toy studies, each a workchain that runs a
calcfunction (lattice mismatch), a real pw.x SCF of zinc-blende CdS (NC, 20 Ry, 2×2×2 k, seconds)
and a calcfunction deriving a conduction-band offset from the pw.x output.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest
from aiida import orm
from aiida.engine import ToContext, WorkChain, calcfunction, run_get_node
from aiida_quantumespresso.calculations.pw import PwCalculation
from ase.build import bulk

from heterostructures.electronic.bands import band_gap
from tests.conftest import require_executable
from workflows.provenance.queries import (
    QueryError,
    diff_inputs,
    find_studies,
    list_calculations,
    load_workflow,
    tag_study,
    trace_output,
    workflow_status,
)
from workflows.setup.codes import register_code, register_computer
from workflows.setup.paths import PROFILES_DIR

CDS_ZB_A = 5.832  # Å
CSPBBR3_PSEUDO_CUBIC_A = 5.83  # Å
REFERENCE_CBM_EV = 0.0  # eV, a stand-in for the perovskite's CBM
ONE_RANK = {"num_machines": 1, "num_mpiprocs_per_machine": 1}


@calcfunction
def lattice_mismatch(film: orm.StructureData, substrate: orm.StructureData) -> orm.Dict:
    """Mismatch (%) of cubic lattice parameters (Å), film relative to substrate; the
    substrate is an fcc primitive cell, whose vectors are a/√2 long."""
    a_film, a_substrate = film.cell_lengths[0], math.sqrt(2) * substrate.cell_lengths[0]
    return orm.Dict({"mismatch_percent": 100.0 * (a_film - a_substrate) / a_substrate})


@calcfunction
def conduction_offset(
    output_band: orm.BandsData, output_parameters: orm.Dict, reference_cbm_ev: orm.Float
) -> orm.Dict:
    """CB offset (eV) of the pw.x conduction-band minimum against a reference."""
    gap = band_gap(output_band.get_bands(), output_parameters["number_of_electrons"])
    return orm.Dict({"band_offsets": {"cb_offset_ev": gap.cbm_ev - reference_cbm_ev.value}})


class ToyStudyWorkChain(WorkChain):
    """A miniature study: mismatch, one SCF, one derived offset."""

    @classmethod
    def define(cls, spec: Any) -> None:
        super().define(spec)
        spec.input("film", valid_type=orm.StructureData)
        spec.input("reference_cbm_ev", valid_type=orm.Float)
        spec.input("protocol", valid_type=orm.Str, required=False)
        spec.expose_inputs(PwCalculation, namespace="pw")
        spec.outline(cls.mismatch, cls.run_scf, cls.offsets)
        spec.output("mismatch", valid_type=orm.Dict)
        spec.output("offsets", valid_type=orm.Dict)

    def mismatch(self) -> None:
        """Lattice mismatch of film and substrate."""
        self.out("mismatch", lattice_mismatch(self.inputs.film, self.inputs.pw.structure))

    def run_scf(self) -> ToContext:
        """SCF of the substrate."""
        inputs = self.exposed_inputs(PwCalculation, namespace="pw")
        return ToContext(scf=self.submit(PwCalculation, **inputs))

    def offsets(self) -> None:
        """Band offset from the SCF's levels."""
        outputs = self.ctx.scf.outputs
        offsets = conduction_offset(
            outputs.output_band, outputs.output_parameters, self.inputs.reference_cbm_ev
        )
        self.out("offsets", offsets)


@dataclass(frozen=True)
class ToyStudies:
    """PKs (and UUIDs) of two finished toy studies differing in ``ecutwfc`` (Ry) and
    protocol tag."""

    fast: int
    balanced: int
    uuids: tuple[str, str]


def stored_pk(node: orm.Node) -> int:
    """PK of a stored node (typed ``int``, not ``int | None``)."""
    assert node.pk is not None
    return node.pk


def run_toy_study(code: orm.AbstractCode, ecutwfc_ry: float, protocol: str) -> int:
    """Run one toy study; ``protocol`` is an extra for 'fast', a Str input otherwise."""
    from workflows.setup.pseudos import install_pseudo_family

    structure = orm.StructureData(ase=bulk("CdS", "zincblende", a=CDS_ZB_A))
    kpoints = orm.KpointsData()
    kpoints.set_kpoints_mesh([2, 2, 2])
    parameters = {
        "CONTROL": {"calculation": "scf"},
        "SYSTEM": {"ecutwfc": ecutwfc_ry, "ecutrho": 4 * ecutwfc_ry, "nbnd": 13},
        "ELECTRONS": {"conv_thr": 1e-7, "mixing_beta": 0.5},
    }
    inputs: dict[str, Any] = {
        "film": orm.StructureData(cell=CSPBBR3_PSEUDO_CUBIC_A * np.eye(3)),
        "reference_cbm_ev": orm.Float(REFERENCE_CBM_EV),
        "pw": {
            "code": code,
            "structure": structure,
            "kpoints": kpoints,
            "parameters": orm.Dict(parameters),
            "pseudos": install_pseudo_family("nc").get_pseudos(structure=structure),
            "metadata": {"options": {"resources": ONE_RANK}},
        },
    }
    inputs["film"].append_atom(position=(0, 0, 0), symbols="Cs")
    if protocol != "fast":
        inputs["protocol"] = orm.Str(protocol)
    _, node = run_get_node(ToyStudyWorkChain, **inputs)
    assert isinstance(node, orm.WorkflowNode)
    assert node.is_finished_ok, node.exit_status
    tag_study(node, perovskite="CsPbBr3", chalcogenide="CdS")
    if protocol == "fast":
        tag_study(node, protocol="fast")
    return stored_pk(node)


_BUILT: list[ToyStudies] = []


def _still_stored(studies: ToyStudies) -> bool:
    """True if both studies are still in the profile (a test may have cleaned it)."""
    from aiida.common.exceptions import NotExistent

    try:
        nodes = (orm.load_node(studies.fast), orm.load_node(studies.balanced))
    except NotExistent:
        return False
    return tuple(node.uuid for node in nodes) == studies.uuids


def build_toy_studies() -> ToyStudies:
    """Run the two toy studies once per profile (pw.x on localhost, one rank); the CLI
    tests reuse them, so the profile holds exactly these two."""
    if _BUILT and _still_stored(_BUILT[-1]):
        return _BUILT[-1]
    require_executable("pw.x")
    computer = register_computer(PROFILES_DIR / "computer-localhost.yaml")
    code = register_code(PROFILES_DIR / "code-pw.yaml", computer)
    fast, balanced = run_toy_study(code, 20.0, "fast"), run_toy_study(code, 24.0, "balanced")
    uuids = (orm.load_node(fast).uuid, orm.load_node(balanced).uuid)
    _BUILT.append(ToyStudies(fast, balanced, uuids))
    return _BUILT[-1]


@pytest.fixture
def studies(localhost: object) -> ToyStudies:
    """Needs the session's ``localhost`` (1 rank by default) before the YAML lookup."""
    return build_toy_studies()


@pytest.mark.real_qe
def test_calculations_listed_with_code_inputs_and_runtime(studies: ToyStudies) -> None:
    records = list_calculations(studies.fast)
    assert [r.process_label for r in records] == [
        "lattice_mismatch",
        "PwCalculation",
        "conduction_offset",
    ]
    scf = records[1]
    assert scf.code.startswith("pw@")
    assert scf.state == "finished"
    assert scf.exit_status == 0
    assert scf.job_id is not None, "the direct scheduler's job id (a pid)"
    assert scf.inputs["structure"] == "CdS (2 atoms)"
    assert "SYSTEM.ecutwfc=20.0" in scf.inputs["parameters"]
    assert {"pseudos__Cd", "pseudos__S"} <= set(scf.inputs)
    assert scf.runtime_s is not None
    assert 0 < scf.runtime_s < 60, "pw.x's own wall time (s) for a 2-atom Γ SCF"
    assert records[0].code == "", "calcfunctions run no code"


@pytest.mark.real_qe
def test_trace_band_offset_reaches_structure_parameters_and_pseudos(
    studies: ToyStudies,
) -> None:
    trace = trace_output(studies.fast, "band_offsets.cb_offset_ev")
    offsets = load_workflow(studies.fast).outputs.offsets
    assert trace.data_pk == offsets.pk
    assert trace.value == offsets["band_offsets"]["cb_offset_ev"]
    assert 2.0 < trace.value < 12.0, "CdS CBM (eV, absolute pw.x scale) above the 0 eV reference"
    assert sorted(s.description for s in trace.of_kind("pseudopotential")) == [
        "Cd: Cd.pbe-n-nc.UPF",
        "S: S.pbe-n-nc.UPF",
    ]
    assert [s.description for s in trace.of_kind("structure")] == ["CdS (2 atoms)"]
    assert [s.description for s in trace.of_kind("calculation")] == [
        "PwCalculation",
        "conduction_offset",
    ]
    (parameters,) = trace.of_kind("parameters")
    assert "SYSTEM.ecutwfc=20.0" in parameters.description, "the pw.x input parameters"
    intermediate = {s.type_name for s in trace.of_kind("intermediate")}
    assert intermediate == {"Dict", "BandsData"}, "pw.x outputs the offset was computed from"
    film = load_workflow(studies.fast).inputs.film
    assert film.pk not in {s.pk for s in trace.sources}, "the film did not feed the offset"


@pytest.mark.real_qe
def test_trace_mismatch_from_the_dict_itself(studies: ToyStudies) -> None:
    mismatch = load_workflow(studies.fast).outputs.mismatch
    trace = trace_output(stored_pk(mismatch), "mismatch_percent")
    assert trace.value == pytest.approx(100 * (CSPBBR3_PSEUDO_CUBIC_A - CDS_ZB_A) / CDS_ZB_A)
    assert abs(trace.value) < 1, "the paper's < 1 % (pseudo-cubic CsPbBr3 on ZB CdS)"
    assert len(trace.of_kind("structure")) == 2
    assert not trace.of_kind("pseudopotential")


@pytest.mark.real_qe
def test_find_studies_by_pair_and_protocol(studies: ToyStudies) -> None:
    process_type = load_workflow(studies.fast).process_type
    assert process_type is not None
    pair = find_studies(process_type, perovskite="CsPbBr3", chalcogenide="CdS")
    assert {n.pk for n in pair} == {studies.fast, studies.balanced}
    assert [n.pk for n in find_studies(process_type, protocol="fast")] == [studies.fast]
    by_input = find_studies(process_type, protocol="balanced", chalcogenide="CdS")
    assert [n.pk for n in by_input] == [studies.balanced], "protocol given as a Str input"
    assert find_studies(process_type, chalcogenide="ZnS") == []
    with pytest.raises(QueryError, match="unknown study tags"):
        find_studies(process_type, substrate="CdS")


@pytest.mark.real_qe
def test_diff_names_exactly_the_changed_parameters(studies: ToyStudies) -> None:
    diff = diff_inputs(studies.fast, studies.balanced)
    assert diff.changed["pw.parameters.SYSTEM.ecutwfc"] == (20.0, 24.0)
    assert diff.changed["pw.parameters.SYSTEM.ecutrho"] == (80.0, 96.0)
    assert diff.changed["protocol"] == (None, "'balanced'")
    assert diff.changed["extras.protocol"] == ("fast", None)
    assert "pw.pseudos.Cd" not in diff.changed, "same pseudopotential file on both sides"
    assert diff_inputs(studies.fast, studies.fast).identical


@pytest.mark.real_qe
def test_status_lists_every_step_with_job_ids(studies: ToyStudies) -> None:
    steps = workflow_status(studies.fast)
    assert steps[0].pk == studies.fast
    assert steps[0].depth == 0
    assert all(step.state == "finished" for step in steps)
    (scf,) = [step for step in steps if step.process_label == "PwCalculation"]
    assert scf.job_id is not None
    assert scf.calc_job_state is None, "a finished CalcJob has no pending job state"


@pytest.mark.usefixtures("aiida_profile")
def test_bad_input_raises_clear_errors() -> None:
    with pytest.raises(QueryError, match="no node with PK"):
        load_workflow(10**9)
    data = orm.Int(3).store()
    with pytest.raises(QueryError, match="not a workflow"):
        list_calculations(stored_pk(data))
    holder = orm.Dict({"a": {"b": 1.0}}).store()
    assert trace_output(stored_pk(holder), "a.b").value == 1.0
    with pytest.raises(QueryError, match=r"its keys are \['a.b'\]"):
        trace_output(stored_pk(holder), "a.c")
