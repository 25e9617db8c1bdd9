"""A study as a tree of processes, drawn like ``verdi process status``, from cheap queries.

:func:`process_rows` walks a workflow's CALL links level by level (as
:func:`workflows.provenance.process_tree.called_processes` does) but projects only the
columns a status line needs, so no ORM node is loaded: one short read query per level.
That keeps it cheap enough for the live progress view (:mod:`workflows.cli.progress`),
which polls it while a study runs, and keeps SQLite read transactions short.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from workflows.provenance.process_tree import load_workflow, stored_pk

TERMINAL_STATES = ("finished", "excepted", "killed")
ACTIVE_STATES = ("created", "waiting", "running")
_COLUMNS = (
    "id",
    "node_type",
    "attributes.process_label",
    "attributes.process_state",
    "attributes.exit_status",
    "ctime",
    "mtime",
    "attributes.state",
    "attributes.job_id",
    "attributes.scheduler_state",
    "attributes.remote_workdir",
)


@dataclass(frozen=True)
class ProcessRow:
    """One process under a workflow, as projected from the database.

    ``caller_pk`` is None for the workflow itself; ``calc_job_state``, ``job_id``,
    ``scheduler_state`` and ``remote_workdir`` are set for CalcJobs once known.
    """

    pk: int
    caller_pk: int | None
    link_label: str
    node_type: str
    process_label: str
    state: str
    exit_status: int | None
    ctime: datetime
    mtime: datetime
    calc_job_state: str | None = None
    job_id: str | None = None
    scheduler_state: str | None = None
    remote_workdir: str | None = None

    @property
    def is_workflow(self) -> bool:
        """True for workflow nodes (they can call further processes)."""
        return self.node_type.startswith("process.workflow.")

    @property
    def is_calc_job(self) -> bool:
        """True for CalcJob nodes (a job with a remote work directory)."""
        return self.node_type.startswith("process.calculation.calcjob.")

    @property
    def terminated(self) -> bool:
        """Finished, excepted or killed."""
        return self.state in TERMINAL_STATES

    def elapsed_seconds(self, now: datetime | None = None) -> float:
        """Seconds from creation to the last change (terminated) or to ``now`` (running)."""
        end = self.mtime if self.terminated else (now or datetime.now(timezone.utc))
        return max(0.0, (end - self.ctime).total_seconds())


def _row(values: list[Any], caller_pk: int | None, link_label: str) -> ProcessRow:
    pk, node_type, label, state, exit_status, ctime, mtime, *job = values
    return ProcessRow(
        pk,
        caller_pk,
        link_label,
        node_type,
        label or node_type.rstrip(".").rsplit(".", 1)[-1],
        state or "unknown",
        exit_status,
        ctime,
        mtime,
        *job,
    )


def process_rows(workflow_pk: int) -> list[ProcessRow]:
    """The workflow and every process it called, recursively, each level by creation time."""
    from aiida.common.links import LinkType
    from aiida.orm import ProcessNode, QueryBuilder, WorkflowNode

    root = QueryBuilder().append(WorkflowNode, filters={"id": workflow_pk}, project=_COLUMNS)
    rows = [_row(values, None, "") for values in root.all()]
    call_types = [LinkType.CALL_CALC.value, LinkType.CALL_WORK.value]
    frontier = [row.pk for row in rows if row.is_workflow]
    while frontier:
        builder = QueryBuilder()
        builder.append(WorkflowNode, filters={"id": {"in": frontier}}, project="id", tag="caller")
        builder.append(
            ProcessNode,
            with_incoming="caller",
            edge_filters={"type": {"in": call_types}},
            edge_project="label",
            project=_COLUMNS,
            tag="called",
        )
        builder.order_by({"called": {"ctime": "asc"}})
        level = [
            _row(
                [row["called"][column] for column in _COLUMNS],
                row["caller"]["id"],
                row["caller--called"]["label"],
            )
            for row in builder.iterdict()
        ]
        rows.extend(level)
        frontier = [row.pk for row in level if row.is_workflow]
    return rows


def _elapsed(seconds: float) -> str:
    for unit, size in (("h", 3600.0), ("min", 60.0)):
        if seconds >= 2 * size:
            return f"{seconds / size:.1f} {unit}"
    return f"{seconds:.0f} s"


def row_line(row: ProcessRow, now: datetime | None = None) -> str:
    """``label <ProcessLabel> state [exit] elapsed`` and, for CalcJobs, job and scheduler."""
    name = row.link_label if row.link_label not in ("", "CALL") else ""
    title = f"{name} <{row.process_label}>" if name else row.process_label
    exit_note = "" if row.exit_status is None else f" [{row.exit_status}]"
    line = f"{title} {row.state}{exit_note} {_elapsed(row.elapsed_seconds(now))}"
    if row.is_calc_job and (row.job_id is not None or row.calc_job_state is not None):
        line += f"  job {row.job_id or '-'}"
        line += f" {row.calc_job_state}" if row.calc_job_state else ""
        line += f", scheduler {row.scheduler_state}" if row.scheduler_state else ""
    return line


def tree_lines(rows: list[ProcessRow], now: datetime | None = None) -> list[str]:
    """One line per process, ``PK  ├── line``: the tree glyphs of ``verdi process status``."""
    from aiida.cmdline.utils.ascii_vis import TREE_LAST_ENTRY, TREE_MIDDLE_ENTRY

    children: dict[int | None, list[ProcessRow]] = {}
    for row in rows:
        children.setdefault(row.caller_pk, []).append(row)
    lines: list[str] = []

    def draw(row: ProcessRow, prefix: str, last: bool | None) -> None:
        glyph = "" if last is None else (TREE_LAST_ENTRY if last else TREE_MIDDLE_ENTRY)
        lines.append(f"{row.pk:>6}  {prefix}{glyph}{row_line(row, now)}")
        below = children.get(row.pk, [])
        extend = "" if last is None else ("    " if last else "│   ")
        for index, child in enumerate(below):
            draw(child, prefix + extend, index == len(below) - 1)

    for root in children.get(None, []):
        draw(root, "", None)
    return lines


def status_tree(workflow_pk: int) -> list[str]:
    """The lines of ``aiida-janus status``; ``QueryError`` for a PK that is no workflow."""
    stored_pk(load_workflow(workflow_pk))
    return tree_lines(process_rows(workflow_pk))
