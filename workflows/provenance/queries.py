"""Provenance queries: what a study ran, where a number came from, which studies match.

Every question is answered from AiiDA's provenance graph with ``QueryBuilder``:

* :func:`list_calculations` walks the CALL links of a workflow (recursively) and lists
  each calculation with its code, key inputs, state, scheduler job id and runtime;
* :func:`trace_output` follows data provenance (CREATE and INPUT_CALC links) from a
  reported number, e.g. a band offset in a ``Dict``, back to every structure, parameter
  set, pseudopotential and calculation that produced it;
* :func:`find_studies` selects workflow nodes of a process type by materials pair and
  protocol, recorded as extras (see :func:`tag_study`) or as ``Str`` inputs of that name;
* :func:`diff_inputs` compares two workflows' inputs, flattened to dotted keys.

Bad input (unknown PK, a node that is not a workflow, a missing key) raises
:class:`QueryError` with a message that says what to give instead. Loading nodes and
walking CALL links live in :mod:`workflows.provenance.process_tree`; the live state of every step
(:func:`workflow_status`, re-exported here) in :mod:`workflows.provenance.process_status`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from workflows.provenance.node_names import node_kind
from workflows.provenance.process_status import StepStatus as StepStatus
from workflows.provenance.process_status import workflow_status as workflow_status
from workflows.provenance.process_tree import (
    QueryError,
    calc_job_state,
    called_processes,
    load_existing,
    load_workflow,
    process_label,
    process_state,
    stored_pk,
)
from workflows.provenance.runtimes import calculation_runtime_s

if TYPE_CHECKING:
    from aiida import orm

PIPELINE_PROCESS_TYPE = "aiida.workflows:janus.pipeline"
STUDY_TAGS = ("perovskite", "chalcogenide", "protocol")
DESCRIPTION_CHARS = 100


@dataclass(frozen=True)
class CalculationRecord:
    """One calculation of a workflow.

    ``runtime_s`` is the code's own wall time (s) when it reports one (pw.x does; a batch
    of NA snapshots: the sum over its frames), else the node's creation-to-last-change
    time (s), which includes queueing.
    """

    pk: int
    process_label: str
    call_path: str
    code: str
    state: str
    exit_status: int | None
    job_id: str | None
    scheduler_state: str | None
    runtime_s: float | None
    inputs: Mapping[str, str]


@dataclass(frozen=True)
class ProvenanceSource:
    """An ancestor of a traced value: PK, kind (``structure``, ``parameters``,
    ``pseudopotential``, ``kpoints``, ``code``, ``calculation``, ``intermediate``, ``data``)."""

    pk: int
    kind: str
    type_name: str
    description: str


@dataclass(frozen=True)
class TraceResult:
    """A value, the ``Dict`` holding it, the process that made it, and all its sources."""

    key: str
    value: Any
    data_pk: int
    creator_pk: int | None
    sources: tuple[ProvenanceSource, ...]

    def of_kind(self, kind: str) -> tuple[ProvenanceSource, ...]:
        """Sources of one kind, e.g. ``"pseudopotential"``."""
        return tuple(source for source in self.sources if source.kind == kind)


@dataclass(frozen=True)
class InputDiff:
    """Flattened inputs that differ between two workflows (``None``: absent on that side)."""

    pk_a: int
    pk_b: int
    changed: Mapping[str, tuple[Any, Any]]

    @property
    def identical(self) -> bool:
        """True when the two workflows had the same inputs."""
        return not self.changed


def describe_node(node: orm.Node) -> str:
    """One short line for a node: formula, pseudo file, k-mesh, code, value or process."""
    from aiida import orm

    name = type(node).__name__
    if isinstance(node, orm.ProcessNode):
        return node.process_label or name
    if isinstance(node, orm.StructureData):
        return f"{node.get_formula()} ({len(node.sites)} atoms)"
    if isinstance(node, orm.KpointsData):
        try:
            mesh, offset = node.get_kpoints_mesh()
            return f"mesh {mesh} offset {offset}"
        except AttributeError:
            return f"{len(node.get_kpoints())} k-points"
    if isinstance(node, orm.AbstractCode):
        return node.full_label
    if isinstance(node, orm.BaseType):
        return repr(node.value)
    if isinstance(node, orm.Dict):
        flat = ", ".join(f"{k}={v!r}" for k, v in flatten_mapping(node.get_dict()).items())
        return flat if len(flat) <= DESCRIPTION_CHARS else flat[: DESCRIPTION_CHARS - 1] + "…"
    filename = node.base.attributes.get("filename", None)
    element = node.base.attributes.get("element", None)
    if filename is not None:
        return f"{element}: {filename}" if element else str(filename)
    return f"{name}<{node.pk}>"


def flatten_mapping(mapping: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested mapping to ``{"a.b.c": value}``; lists stay values."""
    flat: dict[str, Any] = {}
    for key, value in mapping.items():
        dotted = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(flatten_mapping(value, dotted + "."))
        else:
            flat[dotted] = value
    return flat


def calculation_record(path: str, node: orm.CalculationNode) -> CalculationRecord:
    """Summary of one calculation: code, inputs (one line each), state, job id, runtime."""
    from aiida.common.links import LinkType
    from aiida.orm import AbstractCode

    inputs = {}
    code = ""
    for link in node.base.links.get_incoming(link_type=LinkType.INPUT_CALC).all():
        if isinstance(link.node, AbstractCode):
            code = link.node.full_label
        else:
            inputs[link.link_label] = describe_node(link.node)
    _, job_id, scheduler_state = calc_job_state(node)
    return CalculationRecord(
        pk=stored_pk(node),
        process_label=process_label(node),
        call_path=path,
        code=code,
        state=process_state(node),
        exit_status=node.exit_status,
        job_id=job_id,
        scheduler_state=scheduler_state,
        runtime_s=calculation_runtime_s(node),
        inputs=dict(sorted(inputs.items())),
    )


def list_calculations(workflow_pk: int) -> list[CalculationRecord]:
    """Every calculation (CalcJob and calcfunction) a workflow ran, in creation order."""
    from aiida.orm import CalculationNode

    load_workflow(workflow_pk)
    return [
        calculation_record(path, node)
        for path, node in called_processes(workflow_pk)
        if isinstance(node, CalculationNode)
    ]


def _lookup(mapping: Mapping[str, Any], dotted_key: str) -> Any:
    value: Any = mapping
    for part in dotted_key.split("."):
        if not isinstance(value, Mapping) or part not in value:
            raise KeyError(dotted_key)
        value = value[part]
    return value


def _dicts_with_key(node: orm.Node, dotted_key: str) -> list[orm.Dict]:
    """The Dict itself, or the Dict outputs of a process, that contain ``dotted_key``."""
    from aiida.orm import Dict, ProcessNode, QueryBuilder

    if isinstance(node, Dict):
        return [node]
    if not isinstance(node, ProcessNode):
        raise QueryError(
            f"node {node.pk} is {node_kind(node)}: give a Dict or a process with Dict outputs"
        )
    *parents, last = dotted_key.split(".")
    attribute = ".".join(["attributes", *parents])
    builder = QueryBuilder().append(ProcessNode, filters={"id": node.pk}, tag="process")
    builder.append(Dict, with_incoming="process", filters={attribute: {"has_key": last}})
    return list({stored_pk(data): data for data in builder.all(flat=True)}.values())


def _kind(node: orm.Node) -> str:
    """Role of an ancestor; data made by a calculation (other than structures) is
    ``intermediate``, so ``parameters`` means only parameters a person chose."""
    from aiida import orm

    if isinstance(node, orm.CalculationNode):
        return "calculation"
    if isinstance(node, orm.AbstractCode):
        return "code"
    if node.node_type.startswith("data.pseudo."):
        return "pseudopotential"
    if isinstance(node, orm.StructureData):
        return "structure"
    if isinstance(node, orm.Data) and node.creator is not None:
        return "intermediate"
    if isinstance(node, orm.Dict):
        return "parameters"
    if isinstance(node, orm.KpointsData):
        return "kpoints"
    return "data"


def trace_output(pk: int, key: str) -> TraceResult:
    """Trace the value ``key`` (dotted for nested keys) of a Dict, or of a process's Dict
    outputs, back through data provenance to everything it was computed from."""
    from aiida.orm import Node, QueryBuilder

    holders = _dicts_with_key(load_existing(pk), key)
    holders = [holder for holder in holders if _has_key(holder, key)]
    if not holders:
        raise QueryError(f"no Dict at or below node {pk} holds key {key!r}: {_key_hint(pk)}")
    if len(holders) > 1:
        pks = ", ".join(str(holder.pk) for holder in holders)
        raise QueryError(f"key {key!r} is in several outputs of node {pk} ({pks}): trace one")
    data = holders[0]
    builder = QueryBuilder().append(Node, filters={"id": data.pk}, tag="value")
    builder.append(Node, with_descendants="value", project=["*"])
    ancestors = sorted({node.pk: node for node in builder.all(flat=True)}.values(), key=stored_pk)
    sources = tuple(
        ProvenanceSource(stored_pk(node), _kind(node), type(node).__name__, describe_node(node))
        for node in ancestors
    )
    creator = data.creator
    return TraceResult(
        key,
        _lookup(data.get_dict(), key),
        stored_pk(data),
        creator.pk if creator else None,
        sources,
    )


def _has_key(data: orm.Dict, key: str) -> bool:
    try:
        _lookup(data.get_dict(), key)
    except KeyError:
        return False
    return True


def _key_hint(pk: int) -> str:
    from aiida.orm import Dict, ProcessNode

    node = load_existing(pk)
    if isinstance(node, Dict):
        return f"its keys are {sorted(flatten_mapping(node.get_dict()))[:20]}"
    if isinstance(node, ProcessNode):
        labels = sorted(
            f"{link.link_label} (PK {link.node.pk})"
            for link in node.base.links.get_outgoing().all()
            if isinstance(link.node, Dict)
        )
        return f"its Dict outputs are {labels}; give the PK of one of them to see its keys"
    return "give a Dict or a process PK"


def tag_study(node: orm.WorkflowNode, **tags: str) -> None:
    """Record the materials pair and protocol on a study as extras, for :func:`find_studies`."""
    unknown = sorted(set(tags) - set(STUDY_TAGS))
    if unknown:
        raise QueryError(f"unknown study tags {unknown}: use {list(STUDY_TAGS)}")
    node.base.extras.set_many(tags)


def _pks_with_tag(process_type: str, tag: str, value: str) -> set[int]:
    from aiida.orm import QueryBuilder, Str, WorkflowNode

    by_extra = QueryBuilder().append(
        WorkflowNode,
        filters={"process_type": process_type, f"extras.{tag}": value},
        project="id",
    )
    by_input = QueryBuilder().append(Str, filters={"attributes.value": value}, tag="value")
    by_input.append(
        WorkflowNode,
        with_incoming="value",
        edge_filters={"label": tag},
        filters={"process_type": process_type},
        project="id",
    )
    return set(by_extra.all(flat=True)) | set(by_input.all(flat=True))


def find_studies(
    process_type: str = PIPELINE_PROCESS_TYPE, **tags: str | None
) -> list[orm.WorkflowNode]:
    """Workflow nodes of ``process_type`` matching every given tag (extra or Str input).

    ``find_studies(perovskite="CsPbBr3", protocol="fast")``; ``None`` tags are ignored.
    Newest first.
    """
    from aiida.orm import QueryBuilder, WorkflowNode

    wanted = {tag: value for tag, value in tags.items() if value is not None}
    unknown = sorted(set(wanted) - set(STUDY_TAGS))
    if unknown:
        raise QueryError(f"unknown study tags {unknown}: use {list(STUDY_TAGS)}")
    builder = QueryBuilder().append(
        WorkflowNode, filters={"process_type": process_type}, project="id"
    )
    pks = set(builder.all(flat=True))
    for tag, value in wanted.items():
        pks &= _pks_with_tag(process_type, tag, value)
    if not pks:
        return []
    found = QueryBuilder().append(WorkflowNode, filters={"id": {"in": sorted(pks)}}, project="*")
    return list(found.order_by({WorkflowNode: {"ctime": "desc"}}).all(flat=True))


def flattened_inputs(workflow: orm.WorkflowNode) -> dict[str, Any]:
    """A workflow's inputs as ``{"pw.parameters.SYSTEM.ecutwfc": 30.0, ...}`` plus tags."""
    from aiida.orm import Dict

    flat: dict[str, Any] = {}
    for link in workflow.base.links.get_incoming().all():
        label = link.link_label.replace("__", ".")
        if isinstance(link.node, Dict):
            flat.update(flatten_mapping(link.node.get_dict(), label + "."))
        else:
            flat[label] = describe_node(link.node)
    for tag in STUDY_TAGS:
        value = workflow.base.extras.get(tag, None)
        if value is not None:
            flat[f"extras.{tag}"] = value
    return flat


def diff_inputs(pk_a: int, pk_b: int) -> InputDiff:
    """The inputs (flattened to dotted keys) that differ between two workflows."""
    inputs_a = flattened_inputs(load_workflow(pk_a))
    inputs_b = flattened_inputs(load_workflow(pk_b))
    changed = {
        key: (inputs_a.get(key), inputs_b.get(key))
        for key in sorted(set(inputs_a) | set(inputs_b))
        if inputs_a.get(key) != inputs_b.get(key)
    }
    return InputDiff(pk_a, pk_b, changed)
