"""Record the real output of the window-3 SLURM lookup, for its parser's tests.

Run: ``python -m tests.workflows.engine.record_slurm_lookup``.

Needs the running single-node SLURM (``aiida-janus slurm-up --no-register``). Submits a few
``sleep`` jobs named like AiiDA's (``aiida-<pk>``, pks far above any test profile's) with
``sbatch``, runs :func:`workflows.engine.submit_lookup.slurm_lookup_command` through
aiida-core's local transport in the situations the parser must tell apart, and writes one
JSON file per situation to ``tests/fixtures/slurm_lookup/`` (see its README.md). Every job
is cancelled at the end.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from workflows.engine import submit_lookup

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "slurm_lookup"
FIRST_PK = 900001  # one job name per situation: cancelled jobs stay listed for MinJobAge


def _sbatch(folder: Path, name: str, seconds: int, cpus: int = 1) -> str:
    script = folder / "_aiidasubmit.sh"
    script.write_text(
        f'#!/bin/bash\n#SBATCH --job-name="{name}"\n#SBATCH -c {cpus}\nsleep {seconds}\n'
    )
    result = subprocess.run(
        ["sbatch", "--parsable", script.name],
        cwd=folder,
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout.strip().split(";")[0]


def _state(job_id: str) -> str:
    command = ["squeue", "--noheader", "--states=all", "-j", job_id, "-o", "%T"]
    return subprocess.run(command, capture_output=True, text=True).stdout.strip()


def _wait_state(job_id: str, state: str, timeout_s: float = 120.0) -> None:
    deadline = time.monotonic() + timeout_s
    while _state(job_id) != state:
        if time.monotonic() > deadline:
            sys.exit(f"job {job_id} never reached {state} (now {_state(job_id)!r})")
        time.sleep(0.5)


def _shell_only_path(base: Path) -> Path:
    """A PATH folder with ``bash`` and ``id`` but no SLURM client: squeue/sacct missing."""
    folder = base / "bin"
    folder.mkdir()
    for tool in ("bash", "sh", "id"):
        found = shutil.which(tool)
        if found is not None:
            (folder / tool).symlink_to(found)
    return folder


def _record(situation: str, folder: Path, name: str, environ: dict[str, str] | None = None) -> None:
    from aiida.transports.plugins.local import LocalTransport

    command = submit_lookup.slurm_lookup_command(name, lookback_days=1)
    saved = dict(os.environ)
    os.environ.update(environ or {})
    try:
        # a login shell (aiida-core's default) would reset PATH from /etc/profile
        with LocalTransport(use_login_shell=not environ) as transport:
            retval, stdout, stderr = transport.exec_command_wait(command, workdir=str(folder))
    finally:
        os.environ.clear()
        os.environ.update(saved)
    version = subprocess.run(["sinfo", "--version"], capture_output=True, text=True).stdout
    record: dict[str, Any] = {
        "situation": situation,
        "slurm": version.strip(),
        "name": name,
        "workdir": str(folder),
        "command": command,
        "environment": environ or {},
        "login_shell": not environ,
        "retval": retval,
        "stdout": stdout,
        "stderr": stderr,
    }
    (FIXTURES / f"{situation}.json").write_text(json.dumps(record, indent=2) + "\n")
    print(f"recorded {situation}")


def main() -> None:
    """Record every situation; cancel the jobs."""
    FIXTURES.mkdir(parents=True, exist_ok=True)
    base = Path(tempfile.mkdtemp(prefix="janus-slurm-lookup-"))
    own, other = base / "own", base / "other"
    own.mkdir()
    other.mkdir()
    jobs: list[str] = []
    names = [submit_lookup.job_name(FIRST_PK + index) for index in range(5)]
    try:
        _record("no_job", own, names[0])
        _record("commands_missing", own, names[0], {"PATH": str(_shell_only_path(base))})
        jobs.append(_sbatch(other, names[1], 60))  # same name, another profile's folder
        _wait_state(jobs[-1], "RUNNING")
        _record("same_name_other_folder", own, names[1])
        subprocess.run(["scancel", jobs[-1]], check=True)
        jobs.append(_sbatch(own, names[2], 60, cpus=os.cpu_count() or 1))
        _wait_state(jobs[-1], "RUNNING")
        _record("running", own, names[2])
        jobs.append(_sbatch(own, names[2], 60))  # submitted twice: waits for the first
        _wait_state(jobs[-1], "PENDING")
        _record("running_and_pending", own, names[2])
        subprocess.run(["scancel", *jobs[-2:]], check=True)
        jobs.append(_sbatch(own, names[3], 1))
        _wait_state(jobs[-1], "COMPLETED")
        _record("completed", own, names[3])
    finally:
        subprocess.run(["scancel", *jobs], capture_output=True)


if __name__ == "__main__":
    main()
