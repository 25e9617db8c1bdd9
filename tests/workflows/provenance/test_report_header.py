"""The report's provenance header: the codes a study ran, found over CALL links only."""

from __future__ import annotations

from aiida import orm
from aiida.common.links import LinkType

from workflows.provenance.report_header import _codes_used


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
