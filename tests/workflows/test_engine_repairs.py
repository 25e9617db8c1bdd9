"""The ``remote_folder`` repair (``workflows/engine_repairs.py``), on a real CalcJob.

The daemon-kill window is reproduced in one process, deterministically: the real
upload runs, then the in-memory ``remote_folder`` is dropped (what a killed worker loses:
the node already says UNSTASHING in the database) and the upload task runs again as a
restarted worker would, returning early. Without the repair the CalcJob finishes OK and
without ``remote_folder`` (the aiida-core behaviour behind PwBaseWorkChain exit 11);
with it, the output is restored to the very folder the job ran in, and nothing re-runs.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Awaitable, Callable
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

import pytest

from tests.workflows.test_mock import cds_pw_inputs, run_pw
from workflows import engine_repairs

REPO = Path(__file__).resolve().parents[2]
MockCodeFactory = Callable[..., Any]
FamilyFactory = Callable[[str], Any]


def _log_messages(node: Any) -> list[str]:
    from aiida import orm

    return [log.message for log in orm.Log.collection.get_logs_for(node)]


@pytest.fixture
def killed_after_upload(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Make every upload lose its in-memory ``remote_folder``, then "restart" the task."""
    from aiida.engine.processes.calcjobs import tasks

    original: Callable[..., Awaitable[Any]] = tasks.task_upload_job
    workdirs: list[str] = []

    async def upload_then_restart(process: Any, transport_queue: Any, cancellable: Any) -> Any:
        await original(process, transport_queue, cancellable)
        workdirs.append(process.node.get_remote_workdir())
        process.outputs.pop(engine_repairs.REMOTE_FOLDER)  # the worker dies here
        return await original(process, transport_queue, cancellable)  # restarted worker

    monkeypatch.setattr(tasks, "task_upload_job", upload_then_restart)
    return workdirs


def _in_fresh_interpreter(code: str) -> str:
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True
    )
    return result.stdout.strip()


JANUS_WORKCHAINS = sorted(
    entry.name for entry in entry_points(group="aiida.workflows") if entry.name.startswith("janus.")
)


def test_every_janus_workchain_is_found() -> None:
    assert len(JANUS_WORKCHAINS) >= 8, JANUS_WORKCHAINS


@pytest.mark.parametrize("name", JANUS_WORKCHAINS)
def test_loading_any_janus_workchain_installs_the_repair(name: str) -> None:
    """A daemon worker that loads only this workchain (as after a restart) has the repair."""
    loaded = _in_fresh_interpreter(
        "from importlib.metadata import entry_points\n"
        f"(entry,) = [e for e in entry_points(group='aiida.workflows') if e.name == {name!r}]\n"
        "entry.load()\n"
        "from aiida.engine.processes.calcjobs import tasks\n"
        f"print(getattr(tasks.Waiting.execute, {engine_repairs.INSTALLED_FLAG!r}, False))"
    )
    assert loaded == "True"


def test_light_imports_stay_light() -> None:
    """The mock executable (one start per replayed job) must not pay for aiida.engine."""
    imported = _in_fresh_interpreter(
        "import sys, workflows.mock.executable\nprint('aiida.engine' in sys.modules)"
    )
    assert imported == "False"


def test_install_wraps_execute_once() -> None:
    from aiida.engine.processes.calcjobs import tasks

    assert engine_repairs.install()
    wrapped = tasks.Waiting.execute
    assert engine_repairs.install()
    assert tasks.Waiting.execute is wrapped
    assert getattr(wrapped, "__wrapped__", None) is not None


def test_without_the_repair_the_window_loses_remote_folder(
    killed_after_upload: list[str],
    mock_code: MockCodeFactory,
    pseudo_family: FamilyFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The reproduction is faithful: aiida-core alone finishes OK with no remote_folder."""
    from aiida.engine.processes.calcjobs import tasks

    unrepaired = getattr(tasks.Waiting.execute, "__wrapped__")  # noqa: B009 (typed as plain)
    monkeypatch.setattr(tasks.Waiting, "execute", unrepaired)
    node = run_pw(cds_pw_inputs(mock_code("pw.x"), pseudo_family("nc")))
    assert killed_after_upload, "the upload was not intercepted"
    assert node.is_finished_ok, node.exit_message
    assert engine_repairs.REMOTE_FOLDER not in node.outputs
    assert "retrieved" in node.outputs  # the job did run: only the output link is lost


def test_the_repair_restores_the_folder_the_job_ran_in(
    killed_after_upload: list[str], mock_code: MockCodeFactory, pseudo_family: FamilyFactory
) -> None:
    node = run_pw(cds_pw_inputs(mock_code("pw.x"), pseudo_family("nc")))
    assert node.is_finished_ok, node.exit_message
    remote = node.outputs.remote_folder
    assert remote.get_remote_path() == killed_after_upload[0] == node.get_remote_workdir()
    assert remote.computer is not None
    assert node.computer is not None
    assert remote.computer.uuid == node.computer.uuid
    assert "aiida.in" in remote.listdir()
    assert node.outputs.output_parameters["energy"] < 0
    warnings = _log_messages(node)
    assert any("restored the `remote_folder`" in message for message in warnings), warnings


def test_nodes_outside_the_window_are_left_alone(
    mock_code: MockCodeFactory, pseudo_family: FamilyFactory
) -> None:
    """A normal run never triggers the repair: no warning, one remote_folder."""
    node = run_pw(cds_pw_inputs(mock_code("pw.x"), pseudo_family("nc")))
    assert node.is_finished_ok, node.exit_message
    assert node.outputs.remote_folder.get_remote_path() == node.get_remote_workdir()
    messages = _log_messages(node)
    assert not any("restored" in message for message in messages), messages


def test_a_failing_repair_does_not_break_the_calcjob(
    mock_code: MockCodeFactory, pseudo_family: FamilyFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(process: Any) -> bool:
        raise RuntimeError("repair bug")

    monkeypatch.setattr(engine_repairs, "restore_missing_remote_folder", broken)
    node = run_pw(cds_pw_inputs(mock_code("pw.x"), pseudo_family("nc")))
    assert node.is_finished_ok, node.exit_message
    assert "remote_folder" in node.outputs


@pytest.fixture
def orphan(aiida_profile: object) -> Any:
    """A workchain node that called a running PwCalculation with two inputs."""
    from types import SimpleNamespace

    from aiida import orm
    from aiida.common.links import LinkType
    from aiida.engine import ProcessState
    from aiida_quantumespresso.calculations.pw import PwCalculation

    workchain = orm.WorkflowNode().store()
    structure = orm.StructureData(cell=[[4.0, 0, 0], [0, 4.0, 0], [0, 0, 4.0]])
    structure.append_atom(position=(0, 0, 0), symbols="Cd")
    structure.store()
    parameters = orm.Dict({"CONTROL": {"calculation": "scf"}}).store()
    child = orm.CalcJobNode()
    child.set_process_type(PwCalculation.build_process_type())
    child.base.links.add_incoming(workchain, LinkType.CALL_CALC, "CALL")
    child.base.links.add_incoming(structure, LinkType.INPUT_CALC, "structure")
    child.base.links.add_incoming(parameters, LinkType.INPUT_CALC, "parameters")
    child.store()
    child.set_process_state(ProcessState.WAITING)
    return SimpleNamespace(
        workchain=SimpleNamespace(node=workchain),
        child=child,
        structure=structure,
        process_class=PwCalculation,
    )


def test_a_resubmitted_step_finds_the_child_it_launched(orphan: Any) -> None:
    from aiida import orm

    same = {
        "structure": orphan.structure,  # stored: same UUID
        "parameters": orm.Dict({"CONTROL": {"calculation": "scf"}}),  # new: same content
        "metadata": {"options": {"resources": {"num_machines": 1}}},
    }
    found = engine_repairs.find_orphaned_child(orphan.workchain, orphan.process_class, same)
    assert found is not None
    assert found.pk == orphan.child.pk


def test_other_inputs_or_states_launch_a_new_child(orphan: Any) -> None:
    from aiida import orm
    from aiida_quantumespresso.calculations.pp import PpCalculation

    def find(inputs: dict[str, Any], process_class: Any = orphan.process_class) -> Any:
        return engine_repairs.find_orphaned_child(orphan.workchain, process_class, inputs)

    nscf = {
        "structure": orphan.structure,
        "parameters": orm.Dict({"CONTROL": {"calculation": "nscf"}}),
    }
    assert find(nscf) is None, "different parameters"
    assert find({"structure": orphan.structure}, PpCalculation) is None, "different class"
    assert find({"structure": orphan.structure, "settings": {"x": 1}}) is None, "not comparable"
    assert find({"structure": orphan.structure}).pk == orphan.child.pk
    orphan.workchain.__dict__[engine_repairs.CLAIMED].add(orphan.child.pk)  # as submit does
    assert find({"structure": orphan.structure}) is None, "claimed children are not reused"


def test_a_queued_continue_task_is_found_in_the_embedded_queue(tmp_path: Path) -> None:
    import json

    pending = tmp_path / "tasks" / "pending"
    pending.mkdir(parents=True)
    assert not engine_repairs.continue_task_queued(42, tmp_path)
    message = {"id": "x", "body": {"task": "continue", "args": {"pid": 42, "nowait": True}}}
    (pending / "1_x.json").write_text(json.dumps(message))
    (pending / "2_y.json").write_text("{not json")
    assert engine_repairs.continue_task_queued(42, tmp_path)
    assert not engine_repairs.continue_task_queued(43, tmp_path)


@pytest.mark.parametrize("queued", [True, False])
def test_a_created_child_is_reused_only_with_its_task_queued(
    orphan: Any, monkeypatch: pytest.MonkeyPatch, queued: bool
) -> None:
    from aiida.engine import ProcessState

    orphan.child.set_process_state(ProcessState.CREATED)
    monkeypatch.setattr(engine_repairs, "continue_task_queued", lambda pid: queued)
    found = engine_repairs.find_orphaned_child(
        orphan.workchain, orphan.process_class, {"structure": orphan.structure}
    )
    assert (found is not None) is queued


@pytest.mark.parametrize("state", ["finished", "excepted"])
def test_a_child_not_running_is_never_reused(orphan: Any, state: str) -> None:
    from aiida.engine import ProcessState

    orphan.child.set_process_state(ProcessState(state))
    found = engine_repairs.find_orphaned_child(
        orphan.workchain, orphan.process_class, {"structure": orphan.structure}
    )
    assert found is None


def test_workchain_submit_returns_the_orphan_and_claims_it(orphan: Any) -> None:
    """The wrapped ``WorkChain.submit`` hands back the orphan."""
    from aiida.engine import WorkChain

    assert engine_repairs.install()
    reports: list[str] = []
    orphan.workchain.report = reports.append
    node = WorkChain.submit(orphan.workchain, orphan.process_class, structure=orphan.structure)
    assert node.pk == orphan.child.pk
    assert orphan.child.pk in orphan.workchain.__dict__[engine_repairs.CLAIMED]
    assert reports
    assert f"re-using PwCalculation<{orphan.child.pk}>" in reports[0]
