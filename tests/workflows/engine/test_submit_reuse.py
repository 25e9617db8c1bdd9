"""The opt-in re-use of an orphaned child (``workflows/engine/submit_reuse.py``).

The orphans here are real children: each is instantiated by aiida-core itself
(``instantiate_process``, what ``Runner.submit`` does before handing the task to the
broker), so its input links, ``metadata_inputs`` and CALL link are exactly what a
submit stores; the parent is a stored ``WorkflowNode``. Reference: aiida-core's own
record of a launch (``Process._setup_db_record``), which every re-submit is compared
against, and the broker's task list, replaced by a given set of pks.
"""

from __future__ import annotations

import logging
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from tests.workflows.mock.test_mock import cds_pw_inputs
from workflows.engine import submit_reuse

REPO = Path(__file__).resolve().parents[3]


def _workchain(parent: Any) -> Any:
    """What ``find_orphaned_child`` reads of a running workchain, restored from a checkpoint."""
    from aiida.common.extendeddicts import AttributeDict

    reports: list[str] = []
    return SimpleNamespace(
        node=parent,
        ctx=AttributeDict(),
        _awaitables=[],
        report=reports.append,
        reports=reports,
        logger=logging.getLogger(__name__),
    )


@pytest.fixture
def launch(aiida_profile: object) -> Callable[..., Any]:
    """Factory: ``launch(parent, process_or_builder, **inputs)`` stores a child, WAITING.

    As ``instantiate_process`` does, with the parent pid that aiida-core takes from the
    running workchain in ``Process.on_create``: the CALL link is stored with the child.
    """
    from aiida.engine import Process, ProcessBuilder, ProcessState
    from aiida.manage import get_manager

    on_create = Process.on_create

    def factory(parent: Any, process: Any, **inputs: Any) -> Any:
        def on_create_in_parent(self: Any) -> None:
            self._parent_pid = parent.pk  # what a step of the running parent gives
            on_create(self)

        if isinstance(process, ProcessBuilder):
            inputs.update(process._inputs(prune=True))
            process = process.process_class
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(Process, "on_create", on_create_in_parent)
            instance = process(runner=get_manager().get_runner(), inputs=inputs)
        instance.node.set_process_state(ProcessState.WAITING)
        instance.close()
        return instance.node

    return factory


@pytest.fixture
def pw_inputs(mock_code: Callable[..., Any], pseudo_family: Callable[[str], Any]) -> Any:
    """Factory of PwCalculation inputs: new unstored nodes each call, same content."""
    code, family = mock_code("pw.x"), pseudo_family("nc")
    return lambda **kwargs: cds_pw_inputs(code, family, **kwargs)


@pytest.fixture
def orphan(launch: Callable[..., Any], pw_inputs: Callable[..., Any]) -> Any:
    from aiida import orm
    from aiida_quantumespresso.calculations.pw import PwCalculation

    parent = orm.WorkflowNode().store()
    child = launch(parent, PwCalculation, **pw_inputs())
    return SimpleNamespace(workchain=_workchain(parent), child=child, process=PwCalculation)


def _find(orphan: Any, inputs: dict[str, Any], process: Any = None, queued: bool = True) -> Any:
    pending = {orphan.child.pk} if queued else set()
    return submit_reuse.find_orphaned_child(
        orphan.workchain, process or orphan.process, inputs, pending=lambda: pending
    )


def test_the_same_submit_finds_the_child_it_launched(orphan: Any, pw_inputs: Any) -> None:
    found = _find(orphan, pw_inputs())  # new nodes, same content; code/pseudos stored: UUID
    assert found is not None
    assert found.pk == orphan.child.pk


def _changed(pw_inputs: Any, change: str) -> dict[str, Any]:
    from aiida import orm

    inputs: dict[str, Any] = pw_inputs()
    metadata = inputs["metadata"]
    if change == "parameters":
        inputs = pw_inputs(ecutwfc_ry=30.0)
    elif change == "extra input":
        inputs["settings"] = orm.Dict({"gamma_only": False})
    elif change == "missing input":
        del inputs["kpoints"]
    elif change == "options":
        metadata["options"]["max_wallclock_seconds"] = 301
    elif change == "label":
        metadata["label"] = "another step"
    elif change == "call_link_label":
        metadata["call_link_label"] = "scf"
    return inputs


@pytest.mark.parametrize(
    "change",
    ["parameters", "extra input", "missing input", "options", "label", "call_link_label"],
)
def test_any_difference_launches_a_new_child(orphan: Any, pw_inputs: Any, change: str) -> None:
    """Exact match only: no subset of the inputs, no metadata ignored."""
    assert _find(orphan, _changed(pw_inputs, change)) is None


def test_another_process_class_launches_a_new_child(orphan: Any, pw_inputs: Any) -> None:
    from aiida_quantumespresso.calculations.pw import PwCalculation

    class OtherPw(PwCalculation):  # same spec, another process type
        pass

    assert _find(orphan, pw_inputs(), OtherPw) is None


def test_a_child_whose_task_is_not_queued_is_never_reused(orphan: Any, pw_inputs: Any) -> None:
    """RUNNING/WAITING/CREATED with no task pending: held elsewhere or lost, never awaited."""
    from aiida.engine import ProcessState

    for state in (ProcessState.WAITING, ProcessState.RUNNING, ProcessState.CREATED):
        orphan.child.set_process_state(state)
        assert _find(orphan, pw_inputs(), queued=False) is None, state
        assert _find(orphan, pw_inputs(), queued=True) is not None, state


@pytest.mark.parametrize("state", ["finished", "excepted", "killed"])
def test_a_terminated_child_is_never_reused(orphan: Any, pw_inputs: Any, state: str) -> None:
    from aiida.engine import ProcessState

    orphan.child.set_process_state(ProcessState(state))
    assert _find(orphan, pw_inputs()) is None


@pytest.mark.parametrize("where", ["context", "nested context", "awaited", "claimed"])
def test_a_child_the_workchain_knows_is_no_orphan(orphan: Any, pw_inputs: Any, where: str) -> None:
    workchain, child = orphan.workchain, orphan.child
    if where == "context":
        workchain.ctx.scf = child
    elif where == "nested context":
        workchain.ctx.children = [{"scf": child}]
    elif where == "awaited":
        workchain._awaitables.append(SimpleNamespace(pk=child.pk))
    else:
        workchain.__dict__[submit_reuse.CLAIMED] = {child.pk}
    assert _find(orphan, pw_inputs()) is None


def test_nested_namespaces_are_compared_exactly(
    launch: Callable[..., Any], mock_code: Callable[..., Any], pseudo_family: Any
) -> None:
    """A PwBaseWorkChain child: ``pw.parameters`` links and ``pw.metadata.options`` count."""
    from aiida import orm
    from ase.build import bulk

    from workflows.inputs.pw_builders import pw_base_builder

    code = mock_code("pw.x")
    pseudo_family("nc")

    def builder(wallclock_s: int = 600, ecutwfc_ry: float | None = None) -> Any:
        structure = orm.StructureData(ase=bulk("CdS", "zincblende", a=5.83))
        built: Any = pw_base_builder(code, structure, flavour="nc")
        built.pw.metadata.options = {
            "resources": {"num_machines": 1},
            "max_wallclock_seconds": wallclock_s,
        }
        if ecutwfc_ry is not None:
            parameters = built.pw.parameters.get_dict()
            parameters["SYSTEM"]["ecutwfc"] = ecutwfc_ry
            built.pw.parameters = orm.Dict(parameters)
        return built

    parent = orm.WorkflowNode().store()
    child = launch(parent, builder())
    assert any(
        label.startswith("pw__") for label in child.base.links.get_incoming().all_link_labels()
    )
    workchain = _workchain(parent)

    def find(candidate: Any) -> Any:
        return submit_reuse.find_orphaned_child(workchain, candidate, pending=lambda: {child.pk})

    assert find(builder(wallclock_s=601)) is None, "nested metadata (pw.metadata.options)"
    assert find(builder(ecutwfc_ry=99.0)) is None, "nested input (pw.parameters)"
    found = find(builder())
    assert found is not None
    assert found.pk == child.pk


def test_the_wrapped_submit_returns_the_orphan_and_claims_it(
    orphan: Any, pw_inputs: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    launched: list[Any] = []

    def original(self: Any, process: Any, inputs: Any = None, **kwargs: Any) -> Any:
        launched.append(process)
        return orphan.child

    monkeypatch.setattr(submit_reuse, "pending_task_pks", lambda: {orphan.child.pk})
    submit = submit_reuse._wrap_submit(original)
    node = submit(orphan.workchain, orphan.process, **pw_inputs())
    assert node.pk == orphan.child.pk
    assert launched == [], "the orphan is returned, nothing is launched"
    assert orphan.child.pk in orphan.workchain.__dict__[submit_reuse.CLAIMED]
    assert f"re-using PwCalculation<{orphan.child.pk}>" in orphan.workchain.reports[0]
    submit(orphan.workchain, orphan.process, **pw_inputs())  # the same submit again
    assert launched == [orphan.process], "a claimed child is not handed out twice"


def test_only_janus_workchains_are_wrapped() -> None:
    """aiida-core's WorkChain and other plugins' workchains keep their own ``submit``."""
    code = (
        "from workflows.engine import submit_reuse\n"
        "names = submit_reuse.install()\n"
        "from aiida.engine import WorkChain\n"
        "from aiida_quantumespresso.workflows.pw.base import PwBaseWorkChain\n"
        "from workflows.workchains.pw_base import JanusPwBaseWorkChain\n"
        "flag = lambda c: getattr(c.submit, submit_reuse.INSTALLED_FLAG, False)\n"
        "print(len(names), flag(JanusPwBaseWorkChain), flag(PwBaseWorkChain), flag(WorkChain))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True
    )
    count, janus, plugin, core = result.stdout.split()
    assert int(count) >= 8
    assert (janus, plugin, core) == ("True", "False", "False")
