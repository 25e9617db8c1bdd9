"""Find a CalcJob's job that a killed worker submitted but never recorded (SLURM, direct).

Why: aiida-core 2.9 stores a job's id (``set_job_id`` in ``execmanager.submit_calculation``)
only after the scheduler's submit returned. A worker killed in between leaves a node with
no job id, and the restarted submit task submits the job a second time into the same
folder, where two runs can overwrite each other's files. Before such a re-submit,
:mod:`workflows.engine.submit_repair` runs ONE lookup command built here and parses its
output:

- ``core.slurm``: the job name AiiDA gives every job (``aiida-<pk>``, ``CalcJob.presubmit``)
  in ``squeue --states=all`` (pending, running and, for ``MinJobAge`` seconds, finished
  jobs) and ``sacct`` when accounting is enabled (finished jobs too), both restricted to
  the transport's user; a job counts only when its working directory is the node's.
- ``core.direct``: aiida-core's submit script writes no PID, so the repaired submit
  command writes the PID it prints (``$!``, the id aiida-core stores) into
  :data:`DIRECT_PID_MARKER` in the working directory; the lookup reads it and checks the
  process (``ps``, and its ``/proc`` cwd where there is one).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timezone

DIRECT_PID_MARKER = ".aiida/janus-submit.pid"
"""Next to aiida-core's own ``.aiida/calcinfo.json`` in the working directory."""
SECTION = "#janus-lookup "
_SLURM_FIELDS = 4  # id | name | state | working directory


@dataclass(frozen=True)
class LookupResult:
    """What one lookup found: the job id to adopt (or None), and what to report."""

    job_id: str | None
    note: str
    failed: bool = False


def job_name(pk: int) -> str:
    """The scheduler job name aiida-core 2.9 gives a CalcJob (``presubmit``: ``aiida-<pk>``)."""
    return f"aiida-{pk}"


def _quote(text: str) -> str:
    return "'" + text.replace("'", "'\"'\"'") + "'"


def slurm_lookup_command(name: str, lookback_days: int) -> str:
    """One shell command: the resolved cwd, then ``squeue`` and ``sacct`` sections with exits.

    Run in the job's working directory. ``sacct`` looks back ``lookback_days`` (its
    default with ``--name`` is today only).
    """
    user = '--user="$(id -un)"'
    squeue = f"squeue --noheader --states=all {user} --name={_quote(name)} --format='%i|%j|%T|%Z'"
    sacct = (
        f"sacct --noheader --parsable2 --allocations {user} --name={_quote(name)} "
        f"--starttime=now-{lookback_days}days --format=JobID,JobName,State,WorkDir"
    )
    return "; ".join(
        [
            f'echo "{SECTION}workdir $(pwd -P)"',
            f'echo "{SECTION}squeue"',
            f"{squeue} 2>&1",
            f'echo "{SECTION}squeue-exit $?"',
            f'echo "{SECTION}sacct"',
            f"{sacct} 2>&1",
            f'echo "{SECTION}sacct-exit $?"',
        ]
    )


def lookback_days(ctime: datetime, now: datetime | None = None) -> int:
    """Whole days since the node was created, plus one: how far back ``sacct`` must look."""
    now = datetime.now(timezone.utc) if now is None else now
    return max(1, math.ceil((now - ctime).total_seconds() / 86400.0) + 1)


def _sections(stdout: str) -> dict[str, list[str]]:
    """Lines of the lookup output grouped under their ``#janus-lookup <key>`` header."""
    sections: dict[str, list[str]] = {}
    key = ""
    for line in stdout.splitlines():
        if line.startswith(SECTION):
            key, _, value = line[len(SECTION) :].partition(" ")
            sections[key] = [value] if value else []
        elif key:
            sections[key].append(line)
    return sections


def _exit_status(sections: dict[str, list[str]], tool: str) -> int | None:
    values = sections.get(f"{tool}-exit", [])
    return int(values[0]) if values and values[0].strip().lstrip("-").isdigit() else None


def _job_order(job_id: str) -> tuple[int, str]:
    return (int(job_id), job_id) if job_id.isdigit() else (2**63, job_id)


def parse_slurm_lookup(stdout: str, name: str, workdir: str) -> LookupResult:
    """The job named ``name`` in ``workdir`` (either spelling) in the squeue/sacct output.

    Failed only when neither tool answered (exit status not 0). Several matches mean the
    job was already submitted more than once: the oldest is adopted and the note says so.
    """
    sections = _sections(stdout)
    folders = {workdir.rstrip("/"), *(line.rstrip("/") for line in sections.get("workdir", []))}
    answered = [tool for tool in ("squeue", "sacct") if _exit_status(sections, tool) == 0]
    if not answered:
        errors = " / ".join(
            " ".join(sections.get(tool, [])).strip() or f"no output from {tool}"
            for tool in ("squeue", "sacct")
        )
        return LookupResult(None, f"squeue and sacct both failed: {errors}", failed=True)
    found: dict[str, str] = {}
    for tool in answered:
        for line in sections.get(tool, []):
            fields = line.strip().split("|")
            if len(fields) != _SLURM_FIELDS or fields[1] != name:
                continue
            if fields[3].rstrip("/") in folders:
                found.setdefault(fields[0], fields[2])
    if not found:
        return LookupResult(None, f"no job {name} in {workdir} ({' and '.join(answered)})")
    ids = sorted(found, key=_job_order)
    note = f"job {ids[0]} ({found[ids[0]]}) found by {' and '.join(answered)}"
    if len(ids) > 1:
        note += f"; it was already submitted {len(ids)} times: {', '.join(ids)}"
    return LookupResult(ids[0], note)


def direct_submit_command(submit_script: str) -> str:
    """aiida-core 2.9's direct submit command that also writes the PID to the marker file.

    ``submit_script`` is already escaped for bash, as the scheduler passes it.
    """
    return f"(bash {submit_script} > /dev/null 2>&1 & echo $! | tee {DIRECT_PID_MARKER}) &"


def direct_lookup_command() -> str:
    """One shell command run in the working directory: marker PID, its process, cwds."""
    marker = DIRECT_PID_MARKER
    return "; ".join(
        [
            f'echo "{SECTION}workdir $(pwd -P)"',
            f"if [ -f {marker} ]; then pid=$(head -c 32 {marker} | tr -cd 0-9)",
            f'echo "{SECTION}pid $pid"',
            f'echo "{SECTION}args"; ps -o args= -p "$pid"',
            f'echo "{SECTION}cwd $(readlink "/proc/$pid/cwd" 2>/dev/null)"',
            f'else echo "{SECTION}no-marker"; fi',
        ]
    )


def parse_direct_lookup(stdout: str, workdir: str, submit_script: str) -> LookupResult:
    """Adopt the marker's PID: the job was started (running or finished since).

    Not adopted: no marker (the submit never ran), or a live process with that PID that is
    not this job's ``bash <script>`` in this folder (the job finished and the PID was
    reused; adopting it would make AiiDA wait for a stranger).
    """
    sections = _sections(stdout)
    if "no-marker" in sections:
        return LookupResult(None, f"no {DIRECT_PID_MARKER} in {workdir}: never started")
    pid = (sections.get("pid") or [""])[0].strip()
    if not pid.isdigit():
        return LookupResult(None, f"{DIRECT_PID_MARKER} holds no PID", failed=True)
    args = " ".join(sections.get("args", [])).strip()
    cwd = (sections.get("cwd") or [""])[0].strip().rstrip("/")
    folders = {workdir.rstrip("/"), *(line.rstrip("/") for line in sections.get("workdir", []))}
    if not args:
        return LookupResult(pid, f"job {pid} started before (marker), no longer running")
    if submit_script in args.split() and (not cwd or cwd in folders):
        return LookupResult(pid, f"job {pid} started before (marker) and still running")
    return LookupResult(
        None, f"job {pid} started before and finished; its PID now runs {args!r} in {cwd!r}"
    )
