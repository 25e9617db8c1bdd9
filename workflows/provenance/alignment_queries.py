"""Band offsets against model thickness across every ``janus.alignment`` run in a profile.

``aiida-janus query alignment`` prints these records; each row names the node it came
from, so ``aiida-janus query trace`` can follow any number back to its calculations.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aiida import orm

from workflows.provenance.process_tree import stored_pk
from workflows.provenance.queries import find_studies
from workflows.provenance.runtimes import calculation_runtime_s

ALIGNMENT_PROCESS_TYPE = "aiida.workflows:janus.alignment"


@dataclass(frozen=True)
class AlignmentSeriesRecord:
    """One finished thickness series: its table, convergence, verdict and costs."""

    pk: int
    study_pk: int | None
    pair: str
    rows: tuple[dict[str, Any], ...]
    converged: tuple[dict[str, Any], ...]
    verdict: dict[str, Any]
    wall_seconds: dict[str, float | None]


def model_wall_seconds(series: orm.WorkflowNode) -> dict[str, float | None]:
    """Sum of the CalcJob run times (s, pw.x's own wall time where it reports one) of each
    model's build/relaxation and band alignment, keyed by model label (``p5_c4``).

    CalcJobs taken from AiiDA's cache are left out: they did not run, and a cached copy
    carries its source's output (pw.x's wall time), which is not a cost of this series.
    A model whose CalcJobs all came from the cache maps to None.
    """
    from aiida.orm import CalcJobNode

    totals: dict[str, float | None] = {}
    for link in series.base.links.get_outgoing().all():
        label = link.link_label
        if not label.startswith(("model_", "alignment_")):
            continue
        model = label.split("_", 1)[1]
        for node in link.node.called_descendants:
            if not isinstance(node, CalcJobNode):
                continue
            totals.setdefault(model, None)
            if node.base.caching.is_created_from_cache:
                continue
            totals[model] = (totals[model] or 0.0) + (calculation_runtime_s(node) or 0.0)
    return totals


def _caller_study(node: orm.WorkflowNode) -> int | None:
    caller = node.caller
    return None if caller is None else caller.pk


def alignment_record(node: orm.WorkflowNode) -> AlignmentSeriesRecord:
    """The record of one finished ``janus.alignment`` node."""
    series = node.outputs.series.get_dict()
    extras = node.base.extras
    return AlignmentSeriesRecord(
        pk=stored_pk(node),
        study_pk=_caller_study(node),
        pair=f"{extras.get('perovskite', '?')}/{extras.get('chalcogenide', '?')}",
        rows=tuple(series["rows"]),
        converged=tuple(series["converged"]),
        verdict=series["verdict"],
        wall_seconds=model_wall_seconds(node),
    )


def alignment_records(
    perovskite: str | None = None, chalcogenide: str | None = None
) -> list[AlignmentSeriesRecord]:
    """Finished ``janus.alignment`` runs (standalone or inside a study), newest first."""
    nodes = find_studies(ALIGNMENT_PROCESS_TYPE, perovskite=perovskite, chalcogenide=chalcogenide)
    return [alignment_record(node) for node in nodes if node.is_finished_ok]
