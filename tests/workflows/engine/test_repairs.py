"""The engine repairs (``workflows/engine/repairs.py``), on real CalcJobs, in one process.

Each window is reproduced deterministically, as a killed worker leaves it: the real
transport task runs, then the output it attached in memory is dropped (the worker dies
there: the node's job state already says the step is done) and the task runs again, as
the restarted worker runs it from the checkpoint. Reference: the aiida-core sources
(``engine/processes/calcjobs/tasks.py`` of the installed 2.9.4, and of the branch
``release/v2.9.0`` for the early return at PARSING that 2.9.4 no longer has), and the
unrepaired run of each window, which shows the failure the repair removes.
"""

from __future__ import annotations

import asyncio
import logging
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from tests.workflows.mock.test_mock import cds_pw_inputs, run_pw
from workflows.engine import repairs as engine_repairs

MockCodeFactory = Callable[..., Any]
FamilyFactory = Callable[[str], Any]
TASKS = tuple(engine_repairs.WRAPPERS)


def _log_messages(node: Any) -> list[str]:
    from aiida import orm

    return [log.message for log in orm.Log.collection.get_logs_for(node)]


@pytest.fixture
def repaired(restore_tasks: None) -> list[str]:
    return engine_repairs.install_repairs()


def _interrupt(monkeypatch: pytest.MonkeyPatch, name: str, lost: Callable[[Any], str]) -> list[Any]:
    """Make task ``name`` lose its in-memory output once, then run it again ("restart").

    ``lost(process)`` drops the output and returns its label. Returns what each call of
    the task returned (the restarted call last).
    """
    from aiida.engine.processes.calcjobs import tasks

    original: Callable[..., Awaitable[Any]] = getattr(tasks, name)
    returned: list[Any] = []

    async def run_then_restart(process: Any, *args: Any) -> Any:
        returned.append(await original(process, *args))
        if len(returned) == 1:
            lost(process)  # the worker dies here
            returned.append(await original(process, *args))  # the restarted worker
        return returned[-1]

    monkeypatch.setattr(tasks, name, run_then_restart)
    return returned


@pytest.fixture
def interrupted_upload(monkeypatch: pytest.MonkeyPatch) -> Callable[[], list[Any]]:
    def lose_remote_folder(process: Any) -> str:
        process.node.base.extras.set("workdir", process.node.get_remote_workdir())
        return str(process.outputs.pop(engine_repairs.REMOTE_FOLDER))

    return lambda: _interrupt(monkeypatch, "task_upload_job", lose_remote_folder)


@pytest.fixture
def interrupted_retrieve(monkeypatch: pytest.MonkeyPatch) -> Callable[[], list[Any]]:
    def lose_retrieved(process: Any) -> str:
        return str(process.outputs.pop(process.node.link_label_retrieved))

    return lambda: _interrupt(monkeypatch, "task_retrieve_job", lose_retrieved)


def _aiida_2_9_0_retrieve(monkeypatch: pytest.MonkeyPatch) -> None:
    """Put aiida-core 2.9.0's early return at PARSING in front of the installed retrieve task.

    ``release/v2.9.0`` ``task_retrieve_job`` starts with ``if node.get_state() ==
    CalcJobState.PARSING: ... return`` (2.9.4 retrieves again instead); the empty folder
    returned here stands for the temporary folder 2.9.0's ``Waiting.execute`` made itself.
    """
    from aiida.common.datastructures import CalcJobState
    from aiida.engine.processes.calcjobs import tasks

    installed: Callable[..., Awaitable[Any]] = tasks.task_retrieve_job

    async def task_retrieve_job(process: Any, *args: Any) -> Any:
        if process.node.get_state() == CalcJobState.PARSING:
            return tempfile.mkdtemp()
        return await installed(process, *args)

    monkeypatch.setattr(tasks, "task_retrieve_job", task_retrieve_job)


# --- where and when the repairs install ------------------------------------------------


@pytest.mark.parametrize(
    ("version", "supported"),
    [("2.9.0", True), ("2.9.4", True), ("2.9.10.post1", True), ("2.8.1", False), ("2.10.0", False)],
)
def test_only_the_tested_aiida_range_is_supported(version: str, supported: bool) -> None:
    assert engine_repairs.supported_aiida(version) is supported


def test_outside_the_range_nothing_is_patched_and_one_warning_given(
    restore_tasks: None, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    from aiida.engine.daemon import execmanager
    from aiida.engine.processes.calcjobs import tasks

    monkeypatch.setattr(engine_repairs, "_warned", [])
    before = {name: getattr(tasks, name) for name in TASKS}
    submit = execmanager.submit_calculation
    with caplog.at_level(logging.WARNING, logger=engine_repairs.__name__):
        assert engine_repairs.install_repairs("2.10.0") == []
        assert engine_repairs.install_repairs("2.10.0") == []
    assert {name: getattr(tasks, name) for name in TASKS} == before
    assert execmanager.submit_calculation is submit
    (record,) = caplog.records
    assert "NOT installed: aiida-core 2.10.0 is outside the tested range" in record.message


def test_a_task_whose_signature_changed_is_not_wrapped(
    restore_tasks: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    from aiida.engine.processes.calcjobs import tasks

    async def changed(node: Any, transport_queue: Any, cancellable: Any) -> None:
        """A future ``task_upload_job`` taking the node instead of the process."""

    def not_a_coroutine(process: Any) -> None:
        """Not awaitable: the wrapper would break it."""

    assert engine_repairs.has_checked_signature(tasks.task_upload_job)
    assert engine_repairs.has_checked_signature(tasks.task_retrieve_job)
    assert not engine_repairs.has_checked_signature(changed)
    assert not engine_repairs.has_checked_signature(not_a_coroutine)
    monkeypatch.setattr(tasks, "task_upload_job", changed)
    assert engine_repairs.install_repairs() == ["task_retrieve_job", engine_repairs.SUBMIT]
    assert tasks.task_upload_job is changed


def test_a_submit_whose_signature_changed_is_not_wrapped(
    restore_tasks: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Window 3 wraps ``execmanager.submit_calculation(calculation, transport)``, not a
    coroutine; a changed one keeps aiida-core's behaviour."""
    from aiida.engine.daemon import execmanager

    def changed(node: Any, transport: Any) -> None:
        """A future ``submit_calculation`` whose first parameter was renamed."""

    async def now_a_coroutine(calculation: Any, transport: Any) -> None:
        """Awaitable: the synchronous wrapper would break it."""

    signature = engine_repairs.SUBMIT_SIGNATURE
    assert engine_repairs.has_checked_signature(
        execmanager.submit_calculation, signature, coroutine=False
    )
    for function in (changed, now_a_coroutine):
        assert not engine_repairs.has_checked_signature(function, signature, coroutine=False)
        monkeypatch.setattr(execmanager, engine_repairs.SUBMIT, function)
        assert engine_repairs.install_repairs() == list(TASKS)
        installed: Any = execmanager.submit_calculation
        assert installed is function


def test_install_wraps_each_task_once(repaired: list[str]) -> None:
    from aiida.engine.daemon import execmanager
    from aiida.engine.processes.calcjobs import tasks

    assert repaired == [*TASKS, engine_repairs.SUBMIT]
    wrapped = [getattr(tasks, name) for name in TASKS]
    submit: Any = execmanager.submit_calculation
    assert engine_repairs.install_repairs() == repaired
    assert [getattr(tasks, name) for name in TASKS] == wrapped
    assert execmanager.submit_calculation is submit
    assert getattr(submit, "__wrapped__", None) is not None
    assert all(getattr(task, "__wrapped__", None) is not None for task in wrapped)


# --- window 1: upload ------------------------------------------------------------------


def test_without_the_repair_the_upload_window_loses_remote_folder(
    restore_tasks: None,
    interrupted_upload: Callable[[], list[Any]],
    mock_code: MockCodeFactory,
    pseudo_family: FamilyFactory,
) -> None:
    """aiida-core alone: the restarted upload returns None and the job ends with no folder."""
    returned = interrupted_upload()
    node = run_pw(cds_pw_inputs(mock_code("pw.x"), pseudo_family("nc")))
    assert returned == [False, None], "upload, then the early return of the restarted task"
    assert node.is_finished_ok, node.exit_message
    assert engine_repairs.REMOTE_FOLDER not in node.outputs
    assert "retrieved" in node.outputs  # the job did run: only the output link is lost


def test_the_repair_restores_the_folder_the_job_ran_in(
    repaired: list[str],
    interrupted_upload: Callable[[], list[Any]],
    mock_code: MockCodeFactory,
    pseudo_family: FamilyFactory,
) -> None:
    returned = interrupted_upload()
    node = run_pw(cds_pw_inputs(mock_code("pw.x"), pseudo_family("nc")))
    assert returned == [False, False], "the restarted task returns what the upload returned"
    assert node.is_finished_ok, node.exit_message
    remote = node.outputs.remote_folder
    assert remote.get_remote_path() == node.base.extras.get("workdir") == node.get_remote_workdir()
    assert remote.computer is not None
    assert node.computer is not None
    assert remote.computer.uuid == node.computer.uuid
    assert "aiida.in" in remote.listdir()
    assert node.outputs.output_parameters["energy"] < 0
    warnings = _log_messages(node)
    assert sum("restored the `remote_folder`" in message for message in warnings) == 1, warnings


def _transfer_inputs(localhost: Any) -> dict[str, Any]:
    """A ``core.transfer`` job: ``skip_submit`` is True, nothing may reach the scheduler."""
    from aiida import orm

    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "file.txt").write_text("payload\n")
        folder = orm.FolderData(tree=tmp)
    instructions = {"retrieve_files": True, "local_files": [("folder", "file.txt", "file.txt")]}
    return {
        "instructions": orm.Dict(instructions),
        "source_nodes": {"folder": folder},
        "metadata": {"computer": localhost},
    }


@pytest.mark.parametrize("repair", [False, True])
def test_a_skip_submit_job_restarted_in_the_window_is_not_submitted(
    restore_tasks: None,
    interrupted_upload: Callable[[], list[Any]],
    localhost: Any,
    repair: bool,
) -> None:
    """aiida-core 2.9's early return (None) submits a transfer job; the repair returns True."""
    from aiida.calculations.transfer import TransferCalculation
    from aiida.engine import run_get_node

    if repair:
        engine_repairs.install_repairs()
    returned = interrupted_upload()
    _, node = run_get_node(TransferCalculation, **_transfer_inputs(localhost))
    if repair:
        assert returned == [True, True]
        assert node.is_finished_ok, node.exit_message
        assert node.get_job_id() is None, "a transfer job must never reach the scheduler"
        assert node.outputs.retrieved.get_object_content("file.txt") == "payload\n"
    else:
        assert returned == [True, None]
        assert node.get_job_id() is not None, "aiida-core alone submits the transfer job"


@pytest.mark.parametrize("state", ["uploading", "submitting", "withscheduler", "parsing"])
def test_the_upload_repair_acts_only_in_unstashing(state: str) -> None:
    """Any other job state at the upload command is aiida-core's: the task runs unchanged."""
    from aiida.common.datastructures import CalcJobState

    calls: list[Any] = []

    async def upload(process: Any, *args: Any) -> str:
        calls.append(process)
        return "original"

    node = SimpleNamespace(get_state=lambda: CalcJobState(state))
    process = SimpleNamespace(node=node, outputs={})
    wrapped = engine_repairs.WRAPPERS["task_upload_job"](upload)
    assert asyncio.run(wrapped(process, "queue", "cancellable")) == "original"
    assert calls == [process]


def test_a_failing_repair_leaves_aiida_core_behaviour(
    repaired: list[str],
    interrupted_upload: Callable[[], list[Any]],
    mock_code: MockCodeFactory,
    pseudo_family: FamilyFactory,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    def broken(process: Any) -> bool:
        raise RuntimeError("repair bug")

    monkeypatch.setattr(engine_repairs, "restore_upload_window", broken)
    returned = interrupted_upload()
    with caplog.at_level(logging.WARNING, logger=engine_repairs.__name__):
        node = run_pw(cds_pw_inputs(mock_code("pw.x"), pseudo_family("nc")))
    assert returned == [False, None]
    assert node.is_finished_ok, node.exit_message
    assert any("upload repair skipped" in record.message for record in caplog.records)


def test_nodes_outside_the_windows_are_left_alone(
    repaired: list[str], mock_code: MockCodeFactory, pseudo_family: FamilyFactory
) -> None:
    """A normal run never triggers a repair: no warning, one remote_folder."""
    node = run_pw(cds_pw_inputs(mock_code("pw.x"), pseudo_family("nc")))
    assert node.is_finished_ok, node.exit_message
    assert node.outputs.remote_folder.get_remote_path() == node.get_remote_workdir()
    messages = _log_messages(node)
    assert not any("restored" in m or "retrieving again" in m for m in messages), messages


# --- window 2: retrieve ----------------------------------------------------------------


@pytest.mark.parametrize("repair", [False, True])
def test_the_retrieve_window_on_aiida_2_9_0(
    restore_tasks: None,
    interrupted_retrieve: Callable[[], list[Any]],
    mock_code: MockCodeFactory,
    pseudo_family: FamilyFactory,
    monkeypatch: pytest.MonkeyPatch,
    repair: bool,
) -> None:
    """2.9.0 returns early at PARSING: exit 100 without the repair, retrieved again with it."""
    _aiida_2_9_0_retrieve(monkeypatch)
    if repair:
        engine_repairs.install_repairs()
    interrupted_retrieve()
    node = run_pw(cds_pw_inputs(mock_code("pw.x"), pseudo_family("nc")))
    messages = _log_messages(node)
    if not repair:
        assert node.exit_status == 100, node.exit_message  # ERROR_NO_RETRIEVED_FOLDER
        assert "retrieved" not in node.outputs
        return
    assert node.is_finished_ok, node.exit_message
    assert "aiida.out" in node.outputs.retrieved.list_object_names()
    assert node.outputs.output_parameters["energy"] < 0
    assert sum("retrieving again" in message for message in messages) == 1, messages


@pytest.mark.parametrize("repair", [False, True])
def test_the_retrieve_window_on_the_installed_aiida(
    restore_tasks: None,
    interrupted_retrieve: Callable[[], list[Any]],
    mock_code: MockCodeFactory,
    pseudo_family: FamilyFactory,
    repair: bool,
) -> None:
    """aiida-core 2.9.4 retrieves again by itself; the repair does the same, once, and says so."""
    if repair:
        engine_repairs.install_repairs()
    returned = interrupted_retrieve()
    node = run_pw(cds_pw_inputs(mock_code("pw.x"), pseudo_family("nc")))
    assert len(returned) == 2
    assert node.is_finished_ok, node.exit_message
    assert "aiida.out" in node.outputs.retrieved.list_object_names()
    warned = sum("retrieving again" in message for message in _log_messages(node))
    assert warned == int(repair)
