"""Run time per model of a ``janus.alignment`` series, with CalcJobs taken from the cache.

Reference: a provenance graph built by hand (series → model workflow → CalcJobs with
``output_parameters.wall_time_seconds``), so the expected sums are hand arithmetic.
"""

from __future__ import annotations

from aiida import orm
from aiida.common.links import LinkType

from workflows.provenance.alignment_queries import model_wall_seconds


def _calcjob(caller: orm.WorkflowNode, wall_s: float, cached: bool) -> None:
    node = orm.CalcJobNode(process_type="aiida.calculations:quantumespresso.pw")
    node.base.links.add_incoming(caller, LinkType.CALL_CALC, "pw")
    node.store()
    if cached:  # what aiida-core sets on a node it copied from a cache source
        node.base.extras.set("_aiida_cached_from", "0f0f0f0f-0000-0000-0000-000000000000")
    parameters = orm.Dict({"wall_time_seconds": wall_s})
    parameters.base.links.add_incoming(node, LinkType.CREATE, "output_parameters")
    parameters.store()


def test_cached_calcjobs_are_not_counted_as_run_time(aiida_profile: object) -> None:
    series = orm.WorkflowNode().store()
    ran, partly, cached = (orm.WorkflowNode() for _ in range(3))
    for label, model in (("alignment_p3_c2", ran), ("alignment_p5_c4", partly)):
        model.base.links.add_incoming(series, LinkType.CALL_WORK, label)
        model.store()
    cached.base.links.add_incoming(series, LinkType.CALL_WORK, "alignment_p7_c6")
    cached.store()
    _calcjob(ran, 10.0, cached=False)
    _calcjob(ran, 5.5, cached=False)
    _calcjob(partly, 20.0, cached=False)
    _calcjob(partly, 99.0, cached=True)
    _calcjob(cached, 42.0, cached=True)
    assert model_wall_seconds(series) == {"p3_c2": 15.5, "p5_c4": 20.0, "p7_c6": None}
