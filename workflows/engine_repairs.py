"""Repair for an aiida-core engine window that loses a CalcJob's ``remote_folder``.

Why this exists: in aiida-core 2.9, ``task_upload_job`` attaches the new ``RemoteData``
with ``process.out('remote_folder', ...)`` (kept in memory, linked in the database only at
the process's next state transition) and then at once writes the node's job state
``UNSTASHING`` to the database. A daemon worker killed between the two (SIGKILL, OOM
killer, power loss, a broker restart that drops the worker's task) leaves a node that
says "uploaded" but has no ``remote_folder``. On restart the upload task sees
``UNSTASHING`` and returns early; the job is submitted, runs and is parsed, and the
CalcJob finishes OK *without* ``remote_folder``. ``PwBaseWorkChain`` then fails with exit
11 (a required output missing) and the whole study with it. Our SIGKILL fault test hit
this window in 4 of 10 runs, because it kills the daemon while CalcJobs are starting.

The repair: whenever a CalcJob's ``Waiting`` state executes a transport step, if the
job is past its upload (state not ``UPLOADING``), has a remote working directory in the
database (``upload_calculation`` stores it before copying anything) and has no
``remote_folder`` (neither linked nor pending in memory), the ``RemoteData`` is
re-created for that directory, attached and linked at once, and a warning is logged on
the node. That is exactly the node the interrupted upload would have linked, so the
provenance graph ends as if nothing had happened, and no calculation is re-run.

Every module that defines a janus workchain calls ``install()`` at import, so every
daemon worker that runs a janus workchain has it (a test loads each entry point in a
fresh interpreter to keep it so). It is not installed by ``import workflows``: light
entry points such as the mock executable, started once per replayed job, must not pay
the second it takes to import ``aiida.engine``.

A second window, same cause (a kill between a database write and the next checkpoint):
a workchain step that submits a child stores the child at once, but the workchain's own
checkpoint, which records that it awaits the child, is written only after the step. A
kill in between makes the restarted workchain run the step again and submit a second,
identical child next to the first, which also resumes (our SIGKILL test saw it:
``launching PwCalculation<193> iteration #1`` after ``<190>`` of the same
``PwBaseWorkChain``). ``WorkChain.submit`` is therefore wrapped too: a submit whose
process class and inputs match a child this workchain called earlier, that is still
not terminated and that this workchain instance has not claimed yet, returns that child
instead of launching another. A child still CREATED is reused only when its task is
seen in the embedded broker's on-disk queue (else it might never run, and the workchain
would wait for ever). A finished or failed
child is never reused, so a deliberate re-run (a restart handler submitting the same
inputs after a failure) still runs.

A CalcJob continued by a worker before that worker has loaded any janus code is
repaired at its next transport step (submit, update, retrieve), which comes after the
worker has continued the janus workchains around it. A worker that
never runs janus code keeps aiida-core's own behaviour.
"""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any

LOGGER = logging.getLogger(__name__)
REMOTE_FOLDER = "remote_folder"
CLAIMED = "_janus_claimed_children"
INSTALLED_FLAG = "_janus_remote_folder_repair"


def restore_missing_remote_folder(process: Any) -> bool:
    """Re-attach the ``remote_folder`` a killed upload left unlinked; True if it did.

    ``process`` is a running ``CalcJob`` (the ``Waiting`` state's process). Only a node
    past its upload, with a remote working directory and no ``remote_folder`` at all is
    touched: every other node is left as it is.
    """
    from aiida import orm
    from aiida.common.datastructures import CalcJobState

    node = process.node
    if not isinstance(node, orm.CalcJobNode) or not node.is_stored:
        return False
    state = node.get_state()
    if state is None or state is CalcJobState.UPLOADING:
        return False
    workdir = node.get_remote_workdir()
    if not workdir or REMOTE_FOLDER in process.outputs:
        return False
    if node.base.links.get_outgoing(orm.RemoteData, link_label_filter=REMOTE_FOLDER).first():
        return False
    process.out(REMOTE_FOLDER, orm.RemoteData(computer=node.computer, remote_path=workdir))
    process.update_outputs()  # link it now: another kill must not lose it again
    node.logger.warning(
        f"restored the `{REMOTE_FOLDER}` output ({workdir}) that an interrupted upload left "
        "unlinked (aiida-core: job state written before the output was linked)"
    )
    return True


def _flat_inputs(inputs: Mapping[str, Any], prefix: str = "") -> dict[str, Any] | None:
    """Link label → value of the inputs a submit gives (``metadata`` left out).

    None if a value is neither a node nor a namespace: it cannot be compared with a
    stored input, so no child is reused for it.
    """
    from aiida import orm

    flat: dict[str, Any] = {}
    for key, value in inputs.items():
        if not prefix and key == "metadata":
            continue
        label = f"{prefix}{key}"
        if isinstance(value, orm.Node):
            flat[label] = value
        elif isinstance(value, Mapping):
            nested = _flat_inputs(value, f"{label}__")
            if nested is None:
                return None
            flat.update(nested)
        elif value is not None:
            return None
    return flat


def _same_node(given: Any, stored: Any) -> bool:
    if given.is_stored:
        return bool(given.uuid == stored.uuid)
    return bool(given.base.caching._compute_hash() == stored.base.caching._compute_hash())


def _mentions_pid(message: Any, pid: int) -> bool:
    """Does a broker message (nested dicts/lists from JSON) carry ``pid: <pid>``?"""
    if isinstance(message, dict):
        if message.get("pid") == pid:
            return True
        return any(_mentions_pid(value, pid) for value in message.values())
    if isinstance(message, list):
        return any(_mentions_pid(value, pid) for value in message)
    return False


def continue_task_queued(pid: int, storage: Path | None = None) -> bool:
    """Is a task for process ``pid`` queued in the embedded ZeroMQ broker's on-disk queue?

    A child still CREATED after a kill may have been stored without its task ever being
    sent (the kill fell between the two). Waiting on such a child would hang, so it is
    reused only when its task is seen in the queue. Only the embedded broker keeps its
    queue in files (``storage/tasks/pending|processing/*.json``); for RabbitMQ (or an
    unreadable queue) the answer is False, and the step launches a new child as before.
    """
    if storage is None:
        from aiida.manage import get_manager

        storage = getattr(get_manager().get_broker(), "_storage_path", None)
        if storage is None:
            return False
    for state in ("pending", "processing"):
        for task_file in (Path(storage) / "tasks" / state).glob("*.json"):
            try:
                message = json.loads(task_file.read_text())
            except (OSError, ValueError):
                continue
            if _mentions_pid(message, pid):
                return True
    return False


def find_orphaned_child(workchain: Any, process_class: Any, inputs: Mapping[str, Any]) -> Any:
    """A running child of ``workchain`` that this very submit already launched, or None.

    Matches the process type and every input given (stored nodes by UUID, new ones by
    content hash); the child's own defaults are not compared. Children this instance
    already submitted or reused are skipped, so two identical submits in one step still
    give two children.
    """
    from aiida.common.links import LinkType
    from aiida.engine import ProcessState

    claimed: set[int] = workchain.__dict__.setdefault(CLAIMED, set())
    flat = _flat_inputs(inputs)
    if flat is None:
        return None
    process_type = process_class.build_process_type()
    for child in workchain.node.called:
        if child.pk in claimed or child.process_type != process_type or child.is_terminated:
            continue
        if child.process_state is None:
            continue
        if child.process_state is ProcessState.CREATED and not continue_task_queued(child.pk):
            continue  # no task to run it, as far as we can tell: never wait on it
        stored = {
            link.link_label: link.node
            for link in child.base.links.get_incoming(
                link_type=(LinkType.INPUT_CALC, LinkType.INPUT_WORK)
            ).all()
        }
        if all(label in stored and _same_node(node, stored[label]) for label, node in flat.items()):
            return child
    return None


def _install_submit_once() -> None:
    from aiida.engine import WorkChain

    if getattr(WorkChain.submit, INSTALLED_FLAG, False):
        return
    original: Callable[..., Any] = WorkChain.submit

    @functools.wraps(original)
    def submit_once(self: Any, process: Any, inputs: Any = None, **kwargs: Any) -> Any:
        given = {**(inputs or {}), **kwargs}
        try:
            orphan = find_orphaned_child(self, process, given)
        except Exception as error:  # the repair must never break the workchain
            LOGGER.warning("orphaned-child check skipped for %s: %s", self.node, error)
            orphan = None
        if orphan is not None:
            self.report(
                f"re-using {process.__name__}<{orphan.pk}>, which this step launched "
                "before the daemon was interrupted, instead of launching it again"
            )
            node = orphan
        else:
            node = original(self, process, inputs, **kwargs)
        self.__dict__.setdefault(CLAIMED, set()).add(node.pk)
        return node

    setattr(submit_once, INSTALLED_FLAG, True)
    WorkChain.submit = submit_once  # type: ignore[method-assign]


def install() -> bool:
    """Wrap aiida-core's CalcJob ``Waiting.execute`` with the repair; idempotent.

    Returns False when this aiida-core has no such state class (the engine changed: the
    repair is then not needed in this form and nothing is patched). In a RabbitMQ daemon
    worker it also installs ``workflows/broker_guard.py``.
    """
    from workflows import broker_guard

    broker_guard.install()
    try:
        from aiida.engine.processes.calcjobs import tasks
    except ImportError:
        return False
    waiting = getattr(tasks, "Waiting", None)
    execute = getattr(waiting, "execute", None)
    if waiting is None or execute is None:
        return False
    if getattr(execute, INSTALLED_FLAG, False):
        _install_submit_once()
        return True
    original: Callable[[Any], Awaitable[Any]] = execute

    @functools.wraps(original)
    async def execute_with_repair(self: Any) -> Any:
        try:
            restore_missing_remote_folder(self.process)
        except Exception as error:  # a repair must never break the CalcJob it looks at
            LOGGER.warning("remote_folder repair skipped for %s: %s", self.process.node, error)
        return await original(self)

    setattr(execute_with_repair, INSTALLED_FLAG, True)
    waiting.execute = execute_with_repair
    _install_submit_once()
    return True
