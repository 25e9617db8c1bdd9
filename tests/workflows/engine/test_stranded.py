"""Twins that never ran are marked KILLED when their caller terminates (issue 20).

``workflows/engine/stranded.py``. The children are real: each is instantiated by
aiida-core itself inside a running workchain step (what ``WorkChain.submit`` does before
it sends the task to the broker), so the CALL link and the CREATED state are aiida-core's.
No task is ever sent, exactly the case the SIGKILL fault test met: a child stored by a
step whose checkpoint was lost, then launched again by the re-run step. Reference:
aiida-core's own process states (``ProcessNode.is_terminated``/``is_killed``/``is_sealed``)
and its launcher's rule that a terminated node's task is dropped.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from aiida.engine import ProcessState, WorkChain

from tests.workflows.mock.test_mock import cds_pw_inputs
from workflows.engine.stranded import (
    STRANDED_STATUS,
    SealsStrandedChildren,
    is_stranded,
    seal_stranded,
    stranded_descendants,
)


class LeavesATwin(SealsStrandedChildren, WorkChain):
    """Launches a PwCalculation that never runs (CREATED, no task), then finishes."""

    _inputs_factory: Callable[[], dict[str, Any]]

    @classmethod
    def define(cls, spec: Any) -> None:
        super().define(spec)
        spec.outline(cls.launch_and_forget)

    def launch_and_forget(self) -> None:
        """Instantiate the child as ``submit`` would, without handing its task on."""
        from aiida_quantumespresso.calculations.pw import PwCalculation

        child = PwCalculation(runner=self.runner, inputs=type(self)._inputs_factory())
        self.ctx.child = child.node.pk
        child.close()


@pytest.fixture
def pw_inputs(mock_code: Callable[..., Any], pseudo_family: Callable[[str], Any]) -> Any:
    code, family = mock_code("pw.x"), pseudo_family("nc")
    return lambda: cds_pw_inputs(code, family)


def test_a_finished_workchain_marks_its_never_run_child_killed(pw_inputs: Any) -> None:
    from aiida import orm
    from aiida.engine import run_get_node

    LeavesATwin._inputs_factory = pw_inputs
    _, node = run_get_node(LeavesATwin)
    assert isinstance(node, orm.WorkChainNode)
    assert node.is_finished_ok
    (child,) = node.called
    assert isinstance(child, orm.CalcJobNode)
    assert child.is_killed
    assert child.is_sealed
    assert child.process_status == STRANDED_STATUS
    assert is_stranded(child)
    assert child.caller is not None
    assert child.caller.pk == node.pk  # the CALL link stays: provenance shows the twin
    reports = [log.message for log in orm.Log.collection.get_logs_for(node)]
    assert any(f"<{child.pk}> never ran" in message for message in reports), reports
    assert stranded_descendants(node) == []


def test_only_created_children_are_sealed(pw_inputs: Any) -> None:
    """A stranded child in another active state may be held by a live worker: it is
    reported with the command that stops it, never touched; a finished child is left."""
    from aiida import orm
    from aiida.manage import get_manager
    from aiida_quantumespresso.calculations.pw import PwCalculation

    parent = orm.WorkflowNode().store()  # a caller that terminated (not yet sealed)
    parent.set_process_state(ProcessState.FINISHED)
    runner = get_manager().get_runner()
    children = {}
    for state in (ProcessState.CREATED, ProcessState.WAITING, ProcessState.FINISHED):
        child = PwCalculation(runner=runner, inputs=pw_inputs(), parent_pid=parent.pk)
        if state is not ProcessState.CREATED:
            child.node.set_process_state(state)
        child.close()
        children[state] = child.node

    reports: list[str] = []
    sealed = seal_stranded(parent, reports.append)

    created, waiting = children[ProcessState.CREATED], children[ProcessState.WAITING]
    assert [node.pk for node in sealed] == [created.pk]
    assert created.is_killed
    assert created.is_sealed
    assert waiting.process_state is ProcessState.WAITING
    assert not waiting.is_sealed
    assert any(f"verdi process kill {waiting.pk}" in line for line in reports), reports
    assert children[ProcessState.FINISHED].process_state is ProcessState.FINISHED
    assert [node.pk for node in stranded_descendants(parent)] == [waiting.pk]


def test_a_child_of_a_running_caller_is_not_stranded(pw_inputs: Any) -> None:
    """While its caller runs, a CREATED child may be about to start: leave it alone."""
    from aiida import orm
    from aiida.common.links import LinkType
    from aiida.manage import get_manager
    from aiida_quantumespresso.calculations.pw import PwCalculation

    study = orm.WorkflowNode().store()  # the study: terminated
    study.set_process_state(ProcessState.FINISHED)
    step = orm.WorkflowNode()  # a step still running under it
    step.base.links.add_incoming(study, LinkType.CALL_WORK, "step")
    step.store()
    step.set_process_state(ProcessState.RUNNING)
    child = PwCalculation(runner=get_manager().get_runner(), inputs=pw_inputs(), parent_pid=step.pk)
    child.close()

    assert [node.pk for node in stranded_descendants(study)] == [step.pk]
    assert child.node.process_state is ProcessState.CREATED
