"""Repair of window 3 (aiida-core 2.9): a re-submit adopts the job a killed worker submitted.

Why: ``execmanager.submit_calculation`` calls the scheduler's ``submit_job`` and only then
``set_job_id``. A worker killed between the two (or a submit whose answer was lost on the
way back) leaves a node with no job id although its job is queued or running; the
restarted ``task_submit_job`` submits it again into the same folder. The wrapper installed
here around ``submit_calculation`` (by :func:`workflows.engine.repairs.install_repairs`,
same version range, in every janus daemon worker):

- marks the node (extra :data:`SUBMIT_EXTRA`, the number of submit attempts) before it
  submits, so that a later call knows the submit may already have happened;
- on such a later call with no job id, runs ONE lookup
  (:mod:`workflows.engine.submit_lookup`) and adopts the job it finds (``set_job_id``, a
  warning in ``verdi process report``); a lookup that fails (command missing, transport
  error, unsupported scheduler) is reported and the job is submitted as aiida-core would;
- on ``core.direct``, submits with a command that also writes the job's PID into the
  working directory, the marker the lookup reads.

A node that has a job id, and every first submit of other schedulers, go to aiida-core's
function unchanged.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any

from workflows.engine import submit_lookup

LOGGER = logging.getLogger(__name__)
SUBMIT_EXTRA = "janus_submit_attempts"
SLURM = "core.slurm"
DIRECT = "core.direct"
AIIDA_DIRECT_COMMAND = "(bash {script} > /dev/null 2>&1 & echo $!) &"
"""``DirectScheduler._get_submit_command`` of aiida-core 2.9; the marker is added only to it."""


def lookup_submitted_job(calculation: Any, transport: Any) -> submit_lookup.LookupResult:
    """Run the one lookup for ``calculation``'s scheduler on ``transport``; what it found."""
    scheduler_type = calculation.computer.scheduler_type
    workdir = calculation.get_remote_workdir()
    script = calculation.get_option("submit_script_filename")
    if scheduler_type == SLURM:
        name = submit_lookup.job_name(calculation.pk)
        days = submit_lookup.lookback_days(calculation.ctime)
        command = submit_lookup.slurm_lookup_command(name, days)
    elif scheduler_type == DIRECT:
        command = submit_lookup.direct_lookup_command()
    else:
        return submit_lookup.LookupResult(None, f"no lookup for {scheduler_type}", failed=True)
    retval, stdout, stderr = transport.exec_command_wait(command, workdir=workdir)
    if f"{submit_lookup.SECTION}workdir" not in stdout:
        message = f"lookup command failed (exit {retval}): {stderr.strip() or stdout.strip()}"
        return submit_lookup.LookupResult(None, message, failed=True)
    if scheduler_type == SLURM:
        return submit_lookup.parse_slurm_lookup(stdout, name, workdir)
    return submit_lookup.parse_direct_lookup(stdout, workdir, script)


def adopt_submitted_job(calculation: Any, transport: Any) -> str | None:
    """The job id a lookup found and stored on the node, or None (then submit as usual)."""
    try:
        found = lookup_submitted_job(calculation, transport)
    except Exception as error:  # transport error, a bug: submitting is aiida-core's behaviour
        found = submit_lookup.LookupResult(None, f"{type(error).__name__}: {error}", failed=True)
    if found.failed:
        calculation.logger.warning(
            f"could not check whether an interrupted submit already started this job "
            f"({found.note}); submitting it, so it may run twice in the same folder"
        )
        return None
    if found.job_id is None:
        calculation.logger.info(f"re-submitting after an interrupted submit: {found.note}")
        return None
    calculation.set_job_id(found.job_id)
    calculation.logger.warning(
        f"adopted job {found.job_id} that an interrupted submit had started but not recorded "
        f"(aiida-core: job id stored after the scheduler's submit returned): {found.note}"
    )
    return found.job_id


def submit_with_pid_marker(calculation: Any, transport: Any) -> Any:
    """``submit_calculation`` of aiida-core 2.9 for ``core.direct``, writing the PID marker.

    Only the submit command differs, and only while aiida-core's is the one checked
    (:data:`AIIDA_DIRECT_COMMAND`); the id is parsed and stored as aiida-core does.
    """
    scheduler = calculation.computer.get_scheduler()
    scheduler.set_transport(transport)
    aiida_command = scheduler._get_submit_command

    def with_marker(submit_script: str) -> str:
        command = str(aiida_command(submit_script))
        if command != AIIDA_DIRECT_COMMAND.format(script=submit_script):
            return command  # not the command checked: aiida-core's, without a marker
        return submit_lookup.direct_submit_command(submit_script)

    scheduler._get_submit_command = with_marker
    filename = calculation.get_option("submit_script_filename")
    result = scheduler.submit_job(calculation.get_remote_workdir(), filename)
    if isinstance(result, str):
        calculation.set_job_id(result)
    return result


def wrap_submit(original: Callable[..., Any]) -> Callable[..., Any]:
    """``execmanager.submit_calculation`` made idempotent (see the module docstring)."""

    @functools.wraps(original)
    def submit_calculation(calculation: Any, transport: Any) -> Any:
        if calculation.get_job_id() is not None:
            return original(calculation, transport)
        attempts = int(calculation.base.extras.get(SUBMIT_EXTRA, 0))
        if attempts and (job_id := adopt_submitted_job(calculation, transport)) is not None:
            return job_id
        calculation.base.extras.set(SUBMIT_EXTRA, attempts + 1)
        if calculation.computer.scheduler_type == DIRECT:
            return submit_with_pid_marker(calculation, transport)
        return original(calculation, transport)

    return submit_calculation
