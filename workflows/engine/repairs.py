"""Repairs of aiida-core 2.9 engine windows: lost output links (1, 2), a repeated submit (3).

Why: the CalcJob transport tasks (``aiida/engine/processes/calcjobs/tasks.py``) attach an
output with ``process.out(...)`` (kept in memory, linked in the database only at the
process's next state transition, followed by its checkpoint) and then at once write the
node's new job state to the database. A daemon worker killed between the two (SIGKILL,
OOM killer, power loss, a broker restart that drops the worker's task) leaves a node
whose job state says the step is done while the output it produced was never linked. The
restarted worker re-runs the step from the checkpoint, sees the new job state and skips
it:

- **upload** (window 1): ``task_upload_job`` attaches ``remote_folder`` and writes
  ``UNSTASHING``; restarted at the ``upload`` command it sees ``UNSTASHING`` and returns
  ``None``. The job is submitted, runs and is parsed, and finishes OK *without*
  ``remote_folder``: ``PwBaseWorkChain`` then fails with exit 11 (our SIGKILL fault test
  hit this in 4 of 10 runs). The ``None`` also reads as "do not skip the submit", so a
  ``skip_submit`` job (transfer, stash, unstash) restarted here is submitted anyway.
- **retrieve** (window 2): ``task_retrieve_job`` attaches ``retrieved`` and writes
  ``PARSING``. aiida-core 2.9.0 (branch ``release/v2.9.0``) returns early at ``PARSING``
  and the parser fails with exit 100 (``ERROR_NO_RETRIEVED_FOLDER``); 2.9.4 retrieves
  again by itself.
- **submit** (window 3): ``execmanager.submit_calculation`` stores the job id only after
  the scheduler's submit returned; restarted in between, the job is submitted again into
  the same folder. Repaired in :mod:`workflows.engine.submit_repair` (a re-submit first
  looks the job up and adopts it).

The repairs wrap those two task functions and act only in the exact state each window
leaves, at the command that runs the task:

- upload, state ``UNSTASHING``: link the ``RemoteData`` of the remote working directory
  (stored on the node before anything is copied), i.e. the node the interrupted upload
  would have linked, and return the ``skip_submit`` flag of the job (from ``presubmit``
  in a sandbox, as aiida-core computes it on each upload attempt) instead of ``None``;
- retrieve, state ``PARSING`` with no ``retrieved`` linked: set the state back to
  ``RETRIEVING`` (the state before the interrupted retrieve), so the files are retrieved
  again.

Any other state is left to aiida-core. Nothing re-runs on the computer. The repairs are
installed only for the aiida-core range they were checked against (:data:`TESTED_AIIDA`,
one loud warning and no patch outside it) and only onto task functions whose signature
is the one checked (first parameter ``process``, a coroutine function).

Where they are installed: in every daemon worker started by ``aiida-janus daemon start``
(``workflows/engine/daemon_worker.py`` runs the worker through an entry that installs them
before the worker takes its first task). :func:`workflows.engine.install`, which the janus
process packages call at import, only covers workers started by plain ``verdi daemon
start``, from their first janus process on; outside a daemon worker it patches nothing.
"""

from __future__ import annotations

import functools
import inspect
import logging
import re
from collections.abc import Callable
from typing import Any

LOGGER = logging.getLogger(__name__)
REMOTE_FOLDER = "remote_folder"
INSTALLED_FLAG = "_janus_engine_repair"
TESTED_AIIDA = ((2, 9),)
"""(major, minor) releases of aiida-core the repairs were checked against: >=2.9,<2.10."""

_warned: list[str] = []  # the out-of-range warning, given once per process


def supported_aiida(version: str) -> bool:
    """Is this aiida-core version in :data:`TESTED_AIIDA` (compared on major.minor)?"""
    match = re.match(r"(\d+)\.(\d+)", version)
    return match is not None and (int(match[1]), int(match[2])) in TESTED_AIIDA


def has_checked_signature(
    function: Any, parameters: tuple[str, ...] = ("process",), coroutine: bool = True
) -> bool:
    """Is ``function`` a coroutine (or plain, ``coroutine=False``) function whose parameters
    start with ``parameters``?

    Why: the wrappers read their arguments by position and pass them on unchanged; a
    function whose signature changed is not wrapped (and the CalcJobs keep aiida-core's
    behaviour) rather than broken.
    """
    if not callable(function) or inspect.iscoroutinefunction(function) is not coroutine:
        return False
    try:
        names = tuple(inspect.signature(function).parameters)
    except (TypeError, ValueError):
        return False
    return names[: len(parameters)] == parameters


def restore_upload_window(process: Any) -> bool:
    """Repair window 1 of a CalcJob restarted at ``upload`` in ``UNSTASHING``; its skip_submit.

    Links the ``remote_folder`` the killed upload left in memory only (re-creating the
    ``RemoteData`` of the node's remote working directory, or taking the linked one when a
    later kill only lost the checkpoint), then returns what ``task_upload_job`` returns
    after a real upload: ``calc_info.skip_submit``.
    """
    from aiida import orm
    from aiida.common.folders import SandboxFolder
    from aiida.manage.configuration import get_config_option

    node = process.node
    if REMOTE_FOLDER not in process.outputs:
        linked = node.base.links.get_outgoing(orm.RemoteData, link_label_filter=REMOTE_FOLDER)
        existing = linked.first()
        workdir = node.get_remote_workdir()
        if existing is not None:
            process.out(REMOTE_FOLDER, existing.node)
        elif workdir:
            remote = orm.RemoteData(computer=node.computer, remote_path=workdir)
            process.out(REMOTE_FOLDER, remote)
            process.update_outputs()  # link it now: another kill must not lose it again
            node.logger.warning(
                f"restored the `{REMOTE_FOLDER}` output ({workdir}) that an interrupted upload "
                "left unlinked (aiida-core: job state written before the output was linked)"
            )
    with SandboxFolder(get_config_option("storage.sandbox") or None) as folder:
        calc_info = process.presubmit(folder)
    return bool(calc_info.skip_submit)


def reset_retrieve_window(process: Any) -> bool:
    """Repair window 2: a node in ``PARSING`` with no ``retrieved`` goes back to RETRIEVING.

    Returns True if it did. Only that exact state is touched; the retrieve task then
    fetches the files again (aiida-core 2.9.0 would return early and parse nothing).
    """
    from aiida.common.datastructures import CalcJobState

    node = process.node
    label = node.link_label_retrieved
    if node.get_state() is not CalcJobState.PARSING or label in process.outputs:
        return False
    if node.base.links.get_outgoing(link_label_filter=label).first() is not None:
        return False
    node.set_state(CalcJobState.RETRIEVING)
    node.logger.warning(
        f"retrieving again: an interrupted retrieve set PARSING but left `{label}` unlinked "
        "(aiida-core: job state written before the output was linked)"
    )
    return True


def _wrap_upload(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    async def upload_with_repair(process: Any, *args: Any, **kwargs: Any) -> Any:
        from aiida.common.datastructures import CalcJobState

        if process.node.get_state() is CalcJobState.UNSTASHING:
            try:
                return restore_upload_window(process)
            except Exception as error:  # a repair must never break the CalcJob it looks at
                LOGGER.warning("upload repair skipped for %s: %s", process.node, error)
        return await original(process, *args, **kwargs)

    return upload_with_repair


def _wrap_retrieve(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    async def retrieve_with_repair(process: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            reset_retrieve_window(process)
        except Exception as error:  # a repair must never break the CalcJob it looks at
            LOGGER.warning("retrieve repair skipped for %s: %s", process.node, error)
        return await original(process, *args, **kwargs)

    return retrieve_with_repair


WRAPPERS: dict[str, Callable[[Callable[..., Any]], Callable[..., Any]]] = {
    "task_upload_job": _wrap_upload,
    "task_retrieve_job": _wrap_retrieve,
}
SUBMIT = "submit_calculation"
SUBMIT_SIGNATURE = ("calculation", "transport")
"""Window 3 (``workflows/engine/submit_repair.py``) wraps ``execmanager.submit_calculation``,
which ``task_submit_job`` calls with the node and an open transport."""


def _warn_once(message: str) -> None:
    if message not in _warned:
        _warned.append(message)
        LOGGER.warning(message)


def install_repairs(aiida_version: str | None = None) -> list[str]:
    """Wrap aiida-core's upload and retrieve tasks and its submit with the repairs; idempotent.

    Returns the names of the functions that carry a repair (empty, after one loud
    warning, when aiida-core is outside :data:`TESTED_AIIDA` or no task has the checked
    signature: the engine changed, and a repair written for 2.9 must not guess).
    """
    import aiida
    from aiida.engine.processes.calcjobs import tasks

    version = aiida.__version__ if aiida_version is None else aiida_version
    if not supported_aiida(version):
        _warn_once(
            f"aiida-janus engine repairs NOT installed: aiida-core {version} is outside the "
            "tested range >=2.9,<2.10. A daemon worker killed right after an upload or a "
            "retrieve can then lose that CalcJob's output, and one killed in a submit can "
            "submit its job twice; upgrade aiida-janus or pin aiida-core."
        )
        return []
    installed = []
    for name, wrap in WRAPPERS.items():
        task = getattr(tasks, name, None)
        if getattr(task, INSTALLED_FLAG, False):
            installed.append(name)
        elif has_checked_signature(task):
            wrapped = wrap(task)  # type: ignore[arg-type]
            setattr(wrapped, INSTALLED_FLAG, True)
            setattr(tasks, name, wrapped)
            installed.append(name)
        else:
            _warn_once(f"aiida-janus repair of {name} NOT installed: its signature changed")
    if _install_submit_repair():
        installed.append(SUBMIT)
    return installed


def _install_submit_repair() -> bool:
    """Wrap ``execmanager.submit_calculation`` (window 3) once; is it wrapped?"""
    from aiida.engine.daemon import execmanager

    from workflows.engine.submit_repair import wrap_submit

    function = getattr(execmanager, SUBMIT, None)
    if getattr(function, INSTALLED_FLAG, False):
        return True
    if not has_checked_signature(function, SUBMIT_SIGNATURE, coroutine=False):
        _warn_once(f"aiida-janus repair of {SUBMIT} NOT installed: its signature changed")
        return False
    wrapped = wrap_submit(function)  # type: ignore[arg-type]
    setattr(wrapped, INSTALLED_FLAG, True)
    setattr(execmanager, SUBMIT, wrapped)
    return True
