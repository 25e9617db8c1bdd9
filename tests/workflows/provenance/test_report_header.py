"""The report's provenance header: the codes and pseudopotential families a study used, found
over CALL links only."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

from aiida import orm
from aiida.common.links import LinkType

from workflows.provenance.report_header import _codes_used, provenance_header, upf_pseudo_kind


def _codes_by_loading_every_descendant(study: orm.WorkflowNode) -> list[str]:
    """The header's former implementation (before it was a QueryBuilder walk): load every
    called descendant and read its code. The reference the query must reproduce."""
    return sorted(
        {
            node.inputs.code.full_label
            for node in study.called_descendants
            if isinstance(node, orm.CalcJobNode) and "code" in node.inputs
        }
    )


def _isolated_computer() -> orm.Computer:
    """A computer of its own: codes named pw/pp here must not shadow the session's
    ``pw@localhost`` (a second one made ``load_code`` ambiguous for later tests)."""
    from aiida.common.exceptions import NotExistent

    try:
        return orm.load_computer("report-header-test")
    except NotExistent:
        return orm.Computer(
            label="report-header-test",
            hostname="localhost",
            transport_type="core.local",
            scheduler_type="core.direct",
            workdir="/tmp",
        ).store()


def _code(computer: orm.Computer, label: str) -> orm.InstalledCode:
    return orm.InstalledCode(
        computer=computer, filepath_executable=f"/usr/bin/{label}.x", label=label
    ).store()


def _called(caller: orm.WorkflowNode, node: orm.ProcessNode, label: str = "CALL") -> None:
    link = LinkType.CALL_WORK if isinstance(node, orm.WorkflowNode) else LinkType.CALL_CALC
    node.base.links.add_incoming(caller, link, label)


def _job(
    computer: orm.Computer, caller: orm.WorkflowNode, code: orm.AbstractCode | None
) -> orm.Node:
    job = orm.CalcJobNode(computer=computer)
    if code is not None:
        job.base.links.add_incoming(code, LinkType.INPUT_CALC, "code")
    _called(caller, job)
    return job.store()


def _workflow(caller: orm.WorkflowNode | None = None) -> orm.WorkflowNode:
    node = orm.WorkflowNode()
    if caller is not None:
        _called(caller, node)
    return node.store()


def _mocked_study(_: orm.Computer) -> orm.WorkflowNode:
    localhost = _isolated_computer()
    """pipeline → step → sub-workflow → CalcJobs (pw, projwfc; pw twice), one CalcJob
    directly under the pipeline (pp), one without a code; outside the study a CalcJob of
    another code that only reads the study's output (a data link, not a CALL)."""
    pw, projwfc, pp, stranger = (_code(localhost, n) for n in ("pw", "projwfc", "pp", "neb"))
    study = _workflow()
    step = _workflow(study)
    inner = _workflow(step)
    for code in (pw, pw, projwfc, None):
        _job(localhost, inner, code)
    _job(localhost, study, pp)
    output = orm.Dict({"x": 1}).store()
    output.base.links.add_incoming(study, LinkType.RETURN, "summary")
    other_study = _workflow()
    reader = orm.CalcJobNode(computer=localhost)
    reader.base.links.add_incoming(stranger, LinkType.INPUT_CALC, "code")
    reader.base.links.add_incoming(output, LinkType.INPUT_CALC, "parameters")
    _called(other_study, reader)
    reader.store()
    return study


def test_codes_are_those_of_the_called_calcjobs_as_before(localhost: orm.Computer) -> None:
    """Same distinct codes as the former load-every-descendant implementation; the code
    of a CalcJob that only consumed the study's output is not the study's."""
    study = _mocked_study(localhost)
    found = _codes_used(study)
    assert found == _codes_by_loading_every_descendant(study)
    assert found == [f"{name}@report-header-test" for name in ("pp", "projwfc", "pw")]


def test_a_study_without_calcjobs_has_no_codes(localhost: orm.Computer) -> None:
    study = _workflow()
    _workflow(study)
    assert _codes_used(study) == []


def test_header_names_the_pseudopotential_families_with_their_kind(
    localhost: orm.Computer, pseudo_family: Callable[[str], Any]
) -> None:
    """The families the study's CalcJobs drew their ``pseudos__<kind>`` inputs from, with
    NC/PAW as the UPF headers say and the elements used; a pseudopotential stored outside
    any family is named as such. Reference: the families' labels as setup installs them
    and ``pseudo_type`` read by setup's own UPF validator (``summarise_upf``)."""
    from aiida_pseudo.data.pseudo import UpfData

    from workflows.setup.pseudos import FAMILY_LABELS, upf_directory
    from workflows.setup.upf import summarise_upf

    paw, nc = pseudo_family("paw"), pseudo_family("nc")
    computer = _isolated_computer()
    study = _workflow()
    paw_job = orm.CalcJobNode(computer=computer)
    for element in ("Cd", "S"):
        paw_job.base.links.add_incoming(
            paw.get_pseudo(element), LinkType.INPUT_CALC, f"pseudos__{element}"
        )
    _called(_workflow(study), paw_job)
    paw_job.store()
    nc_job = orm.CalcJobNode(computer=computer)
    nc_job.base.links.add_incoming(nc.get_pseudo("Cs"), LinkType.INPUT_CALC, "pseudos__Cs")
    loose_file = next(upf_directory("nc").glob("Br*.UPF"))
    loose = UpfData(io.BytesIO(loose_file.read_bytes()), filename=loose_file.name).store()
    nc_job.base.links.add_incoming(loose, LinkType.INPUT_CALC, "pseudos__Br")
    _called(study, nc_job)
    nc_job.store()
    kinds = {
        flavour: summarise_upf(next(upf_directory(flavour).glob("Cd*.UPF"))).pseudo_type
        for flavour in ("paw", "nc")
    }
    assert kinds == {"paw": "PAW", "nc": "NC"}
    header = provenance_header(study, {})
    line = next(line for line in header.splitlines() if "pseudopotential families" in line)
    assert line == (
        f"- pseudopotential families: `{FAMILY_LABELS['nc']}` (NC: Cs); "
        f"`{FAMILY_LABELS['paw']}` (PAW: Cd, S); in no family (NC: Br)"
    )


def test_pseudo_kind_from_upf_v1_and_v2_headers() -> None:
    """UPF v2: the ``pseudo_type`` attribute; v1: the third line of <PP_HEADER> (version,
    element, type, as QE's ``read_pseudo_header`` reads them)."""
    v1 = "<PP_INFO>\n x\n</PP_INFO>\n<PP_HEADER>\n   0   Version Number\n  Si   Element\n"
    assert upf_pseudo_kind(v1 + "   US   Ultrasoft pseudopotential\n") == "US"
    assert upf_pseudo_kind(v1 + "   NC   Norm - Conserving pseudopotential\n") == "NC"
    v2 = '<PP_HEADER\n generated="x"\n element="Cd"\n pseudo_type="PAW"\n relativistic="scalar"/>'
    assert upf_pseudo_kind(v2) == "PAW"
    assert upf_pseudo_kind(v2.replace("PAW", "SL")) == "NC"
    assert upf_pseudo_kind("<UPF version='2.0.1'>") is None
