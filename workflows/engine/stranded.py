"""Children a janus workchain left behind: launched, superseded, and never run.

Why: a daemon killed between a workchain step that submits a child and the checkpoint
written after that step (aiida-core 2.9 stores the child first) restarts the workchain
from the older checkpoint; the step runs again and launches an identical child, which
is the one the workchain then waits for. The first child, if its task never reached the
broker, stays CREATED for ever: no worker will run it, `verdi process list` shows it as
active, and nothing awaits its outputs. With ``JANUS_SUBMIT_REUSE`` off (the default) we
do not patch aiida-core to prevent the twin; instead, when a janus workchain terminates,
each descendant that is still CREATED although its caller has terminated is marked
KILLED with a process status that says why, and a report line names it. Its CALL link
stays, so the provenance graph shows what happened.

Only CREATED nodes are sealed: a CREATED process has never been run by a worker (no
checkpoint, no transport task), so there is nothing to stop. A stranded child in any
other active state may be held by a live worker; it is reported with the command that
kills it, never touched. If a CREATED child's task does reach a worker after it was
sealed, aiida-core 2.9's launcher (``engine/processes/launcher.py``, ``_continue``) finds
a terminated node and answers the task without running it. Not covered: a worker that
loaded the child in the instant before it was sealed (its first state change then fails
on the sealed node); the child's caller terminated long before, so no task of it should
still be in flight.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aiida import orm
from aiida.engine import ProcessState

STRANDED_STATUS = (
    "stranded: its caller terminated without it (a twin launched again after a restart)"
)
"""Process status of a child this module killed; tests and queries match its prefix."""
STRANDED_PREFIX = "stranded:"


def stranded_descendants(workflow: orm.WorkflowNode) -> list[orm.ProcessNode]:
    """Descendants of ``workflow`` that are not terminated although their caller is."""
    stranded = []
    for node in workflow.called_descendants:
        if node.is_terminated:  # nearly all of them: no caller query for these
            continue
        caller = node.caller
        if caller is None:
            continue
        if caller.pk == workflow.pk or caller.is_terminated:
            stranded.append(node)
    return stranded


def is_stranded(node: orm.ProcessNode) -> bool:
    """Was ``node`` killed by :func:`seal_stranded` (never ran)?"""
    return node.is_killed and (node.process_status or "").startswith(STRANDED_PREFIX)


def seal_stranded(workflow: orm.WorkflowNode, report: Any) -> list[orm.ProcessNode]:
    """Mark the CREATED stranded descendants KILLED (see the module docstring); report each
    one, and each stranded node in another state with the command that stops it.

    ``report`` is the workchain's ``report`` method. Returns the nodes marked KILLED.
    """
    sealed: list[orm.ProcessNode] = []
    for node in stranded_descendants(workflow):
        label = f"{node.process_label}<{node.pk}>"
        if node.process_state is not ProcessState.CREATED:
            report(
                f"{label} is still {node.process_state} although its caller "
                f"terminated: stop it with `verdi process kill {node.pk}`"
            )
            continue
        node.set_process_state(ProcessState.KILLED)
        node.set_process_status(STRANDED_STATUS)
        node.seal()
        sealed.append(node)
        report(f"{label} never ran and nothing awaits it: marked KILLED ({STRANDED_STATUS})")
    return sealed


class SealsStrandedChildren:
    """Workchain mixin: :func:`seal_stranded` when the workchain terminates.

    A failure here is logged, never raised: the workchain's own outcome is already decided.
    """

    if TYPE_CHECKING:  # provided by WorkChain

        @property
        def node(self) -> orm.WorkChainNode: ...

        @property
        def logger(self) -> Any: ...

        def report(self, msg: str, *args: Any, **kwargs: Any) -> None: ...

    def on_terminated(self) -> None:
        """aiida-core's termination, then the stranded children (see the module docstring)."""
        super().on_terminated()  # type: ignore[misc]
        try:
            seal_stranded(self.node, self.report)
        except Exception:  # a cleanup must never turn a finished workchain into an error
            self.logger.exception("could not check for stranded children")
