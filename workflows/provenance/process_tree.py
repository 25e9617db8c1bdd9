"""The workflow graph the queries walk: load a node by PK, walk a workflow's CALL links.

Shared by :mod:`workflows.provenance.queries` (calculations, provenance traces, studies) and
:mod:`workflows.provenance.process_status` (live state of every step). Bad input (an unknown PK, a
node that is not a workflow, an unstored node) raises :class:`QueryError` with a message
that says what to give instead.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from workflows.provenance.node_names import node_kind

if TYPE_CHECKING:
    from aiida import orm


class QueryError(ValueError):
    """A query was given something it cannot answer for; the message says what to give."""


def stored_pk(node: orm.Node) -> int:
    """The PK of a stored node (the graph holds only stored nodes)."""
    if node.pk is None:
        raise QueryError(f"{type(node).__name__} is not stored: store it before querying")
    return node.pk


def load_existing(pk: int) -> orm.Node:
    """The node with this PK, or ``QueryError`` saying how to find a valid one."""
    from aiida.common.exceptions import NotExistent
    from aiida.orm import load_node

    try:
        return load_node(pk)
    except NotExistent as exception:
        raise QueryError(
            f"no node with PK {pk} in this profile: list studies with "
            "`aiida-janus query studies` or processes with `verdi process list -a`"
        ) from exception


def load_workflow(pk: int) -> orm.WorkflowNode:
    """The workflow node with this PK, or ``QueryError`` naming what the node is instead."""
    from aiida.orm import WorkflowNode

    node = load_existing(pk)
    if not isinstance(node, WorkflowNode):
        raise QueryError(
            f"node {pk} is {node_kind(node)}, not a workflow: give the PK of a workflow "
            "(a study), e.g. from `aiida-janus query studies`"
        )
    return node


def called_processes(workflow_pk: int) -> Iterator[tuple[str, orm.ProcessNode]]:
    """Every process called by a workflow, recursively, as ``(call path, node)``.

    Walks CALL links level by level with QueryBuilder (data links are not followed, so
    later studies that used this one's outputs are not included). Ordered by creation.
    """
    from aiida.common.links import LinkType
    from aiida.orm import ProcessNode, QueryBuilder, WorkflowNode

    call_types = [LinkType.CALL_CALC.value, LinkType.CALL_WORK.value]
    frontier = {workflow_pk: ""}
    while frontier:
        builder = QueryBuilder()
        builder.append(
            WorkflowNode, filters={"id": {"in": list(frontier)}}, project="id", tag="caller"
        )
        builder.append(
            ProcessNode,
            with_incoming="caller",
            edge_filters={"type": {"in": call_types}},
            edge_project="label",
            project="*",
            tag="called",
        )
        builder.order_by({"called": {"ctime": "asc"}})
        next_frontier: dict[int, str] = {}
        for row in builder.iterdict():
            node = row["called"]["*"]
            label = row["caller--called"]["label"]
            if label == "CALL":
                label = process_label(node)
            path = f"{frontier[row['caller']['id']]}/{label}".lstrip("/")
            yield path, node
            if isinstance(node, WorkflowNode):
                next_frontier[stored_pk(node)] = path
        frontier = next_frontier


def process_state(node: orm.ProcessNode) -> str:
    """The process state (``created``, ``waiting``, ``finished`` …), ``unknown`` if unset."""
    return node.process_state.value if node.process_state else "unknown"


def process_label(node: orm.ProcessNode) -> str:
    """The process label, or the node's class name when the process set none."""
    return node.process_label or type(node).__name__


def calc_job_state(node: orm.ProcessNode) -> tuple[str | None, str | None, str | None]:
    """(AiiDA job state, scheduler job id, scheduler state) of a CalcJob; Nones otherwise."""
    from aiida.orm import CalcJobNode

    if not isinstance(node, CalcJobNode):
        return None, None, None
    job_state, scheduler_state = node.get_state(), node.get_scheduler_state()
    return (
        job_state.value if job_state else None,
        node.get_job_id(),
        scheduler_state.value if scheduler_state else None,
    )
