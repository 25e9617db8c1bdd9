"""``aiida-janus status``: the live state of a workflow and every process it called.

For CalcJobs also the AiiDA job state (``withscheduler`` …) and the scheduler's job id and
state, so a study running on SLURM can be followed step by step.
"""

from __future__ import annotations

from dataclasses import dataclass

from workflows.provenance.process_tree import (
    calc_job_state,
    called_processes,
    load_workflow,
    process_label,
    process_state,
    stored_pk,
)


@dataclass(frozen=True)
class StepStatus:
    """One process under a workflow: where it sits, its state and, for CalcJobs, the
    AiiDA job state (``withscheduler`` …) and the scheduler's job id and state."""

    call_path: str
    pk: int
    process_label: str
    state: str
    exit_status: int | None
    calc_job_state: str | None
    job_id: str | None
    scheduler_state: str | None

    @property
    def depth(self) -> int:
        """Nesting level below the workflow (0 for a direct child)."""
        return self.call_path.count("/")


def workflow_status(workflow_pk: int) -> list[StepStatus]:
    """The workflow itself and every process it called, with states and job ids."""
    workflow = load_workflow(workflow_pk)
    return [
        StepStatus(
            path,
            stored_pk(node),
            process_label(node),
            process_state(node),
            node.exit_status,
            *calc_job_state(node),
        )
        for path, node in [("", workflow), *called_processes(workflow_pk)]
    ]
