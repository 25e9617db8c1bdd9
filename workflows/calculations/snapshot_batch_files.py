"""What a ``janus.snapshot_batch`` job ships: its shell driver and the project's own modules.

The remote runs the project's reader and overlap code, not a copy that could drift: the
modules are read from this installation at submission (so the job's input folder, kept in
the CalcJob node's repository, records exactly the code that ran). ``heterostructures.units``
imports ASE, which a cluster's ``python3`` may lack, so its constants are written out as
numbers taken from the module itself.
"""

from __future__ import annotations

import importlib
import shlex
from pathlib import Path

from workflows.calculations import snapshot_batch_remote
from workflows.calculations.snapshot_batch_remote import CHECKPOINTS, FRAME_PREFIX, RESULTS

REMOTE_DIR = "janus_remote"
REMOTE_SCRIPT = f"{REMOTE_DIR}/janus_frame_results.py"
CONFIG_FILE = "janus_batch.json"
DRIVER_FILE = "janus_batch_driver.sh"
DRIVER_LOG = "janus_batch.log"
SHIPPED_MODULES = (
    "heterostructures",
    "heterostructures.io",
    "heterostructures.io.wavefunctions",
    "heterostructures.dynamics",
    "heterostructures.dynamics.nac",
    "heterostructures.electronic",
    "heterostructures.electronic.domain_weights",
)
EXIT_PW_FAILED = 11
EXIT_RESULTS_FAILED = 12


def _module_file(name: str) -> Path:
    file = importlib.import_module(name).__file__
    if file is None:
        raise RuntimeError(f"module {name} has no source file to ship")
    return Path(file)


def _units_module() -> str:
    """``heterostructures/units.py`` for the remote: every constant as a literal float."""
    units = importlib.import_module("heterostructures.units")
    lines = ['"""Constants of heterostructures.units, written out by aiida-janus (no ASE)."""', ""]
    for name in sorted(vars(units)):
        value = getattr(units, name)
        if name.isupper() and isinstance(value, float):
            lines.append(f"{name} = {value!r}")
    return "\n".join(lines) + "\n"


def shipped_files() -> dict[str, str]:
    """Relative path in the job folder → text of every Python file the remote imports."""
    files = {}
    for name in SHIPPED_MODULES:
        source = _module_file(name)
        relative = Path(*name.split("."))
        target = relative / "__init__.py" if source.name == "__init__.py" else relative
        path = target if target.suffix == ".py" else target.with_suffix(".py")
        files[f"{REMOTE_DIR}/{path.as_posix()}"] = source.read_text()
    files[f"{REMOTE_DIR}/heterostructures/units.py"] = _units_module()
    files[REMOTE_SCRIPT] = _module_file(snapshot_batch_remote.__name__).read_text()
    return files


def driver_script(
    positions: list[int],
    pw_command: list[str],
    python: str,
    max_seconds: float = 0.0,
    prefix: str = "aiida",
) -> str:
    """The bash driver: per frame pw.x (skipped when its results exist), checkpoint, results.

    With ``max_seconds`` > 0 the driver stops cleanly (exit 0, frames left for a resumed
    job) after a frame when another frame as long would pass that budget (s). A resumed
    job (its folder copied from a stopped one) first restores ``out/`` from the newest
    checkpoint, so the next SCF restarts from the last finished frame. Exits
    ``EXIT_PW_FAILED`` (pw.x failed) or ``EXIT_RESULTS_FAILED`` (the results script failed).
    """
    frames = " ".join(str(position) for position in positions)
    return f"""#!/bin/bash
# janus.snapshot_batch driver, written by aiida-janus: one pw.x per frame, each restarting
# from the previous frame's out/; overlaps and energies computed here, then wfc deleted.
set -u
export PYTHONDONTWRITEBYTECODE=1
SAVE=out/{prefix}.save
restored=no
job_start=$(date +%s.%N)
for frame in {frames}; do
    name=$(printf '{FRAME_PREFIX}%04d' "$frame")
    if [ -f "{RESULTS}/$name.json" ]; then echo "$name: finished before, skipped"; continue; fi
    if [ "$restored" = no ]; then
        last=$(ls -d {CHECKPOINTS}/{FRAME_PREFIX}* 2>/dev/null | sort -V | tail -n 1)
        if [ -n "$last" ]; then
            mkdir -p "$SAVE" && cp "$last/{prefix}.save/"* "$SAVE/"
            echo "$name: restarting from checkpoint $last"
        fi
        restored=yes
    fi
    start=$(date +%s.%N)
    {shlex.join(pw_command)} -in "$name.in" > "$name.out" 2> "$name.err"
    status=$?
    seconds=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN {{print b - a}}')
    if [ "$status" -ne 0 ]; then echo "$name: pw.x exited $status"; exit {EXIT_PW_FAILED}; fi
    mkdir -p "{CHECKPOINTS}/$name/{prefix}.save"
    cp "$SAVE/data-file-schema.xml" "$SAVE"/wfc1.* "$SAVE"/charge-density.* \\
        "{CHECKPOINTS}/$name/{prefix}.save/" || exit {EXIT_PW_FAILED}
    if ! {shlex.quote(python)} {REMOTE_SCRIPT} {CONFIG_FILE} "$frame" "$seconds"; then
        echo "$name: results script failed"; exit {EXIT_RESULTS_FAILED}
    fi
    echo "$name: done, pw.x $seconds s"
    if awk -v s="$job_start" -v n="$(date +%s.%N)" -v f="$seconds" -v b={max_seconds!r} \
        'BEGIN {{exit !(b > 0 && n - s + f > b)}}'; then
        echo "stopping after $name: another frame would pass max_seconds {max_seconds!r}"; exit 0
    fi
done
"""
