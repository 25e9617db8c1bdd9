"""Replay mode: restore a recorded run's outputs, or fail loudly when there is none.

A miss never falls back to the real code: it exits with :data:`EXIT_MISSING_RECORDING`
and writes, to stderr and to stdout (which AiiDA redirects to the file its parser
reads), the input hash, a unified diff of the hashed inputs against the nearest
recording of the same code, and the exact commands that record the run.
"""

from __future__ import annotations

import difflib
import os
import shutil
import sys

from workflows.mock.hashing import HashedInputs, pseudo_directory
from workflows.mock.invocation import Invocation
from workflows.mock.store import Recording, RecordingMetadata, RecordingStore

EXIT_MISSING_RECORDING = 3
RECORD_VARIABLE = "JANUS_MOCK_RECORD"
RECORD_SCRIPT = "scripts/record_fixtures.sh"


def restore(recording: Recording, invocation: Invocation) -> int:
    """Write the recorded files and streams; return the recorded exit status."""
    workdir = invocation.workdir
    for name, data in recording.files.items():
        target = workdir / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    pseudo_dir = pseudo_directory(invocation.input_text, workdir)
    for name, pseudo in recording.metadata.pseudo_copies:
        (workdir / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(pseudo_dir / pseudo, workdir / name)
    sys.stdout.buffer.write(recording.stdout)
    sys.stdout.flush()
    sys.stderr.buffer.write(recording.stderr)
    return recording.metadata.exit_status


def nearest_recording(store: RecordingStore, hashed: HashedInputs) -> RecordingMetadata | None:
    """The recording of the same code whose hashed inputs differ least from these."""
    candidates = store.metadata_for_code(hashed.code)
    if not candidates:
        return None

    def similarity(metadata: RecordingMetadata) -> float:
        return difflib.SequenceMatcher(None, metadata.material, hashed.material).ratio()

    return max(candidates, key=similarity)


def _diff_section(store: RecordingStore, hashed: HashedInputs) -> list[str]:
    nearest = nearest_recording(store, hashed)
    if nearest is None:
        return [f"There is no recording of {hashed.code} at all in {store.root}."]
    diff = difflib.unified_diff(
        nearest.material.splitlines(),
        hashed.material.splitlines(),
        fromfile=f"recorded {nearest.digest[:16]} ({nearest.date}, {nearest.hostname})",
        tofile=f"this run {hashed.digest[:16]}",
        lineterm="",
    )
    return ["Hashed inputs against the nearest recording of the same code:", *diff]


def _record_commands(invocation: Invocation, store: RecordingStore, program: str) -> list[str]:
    commands = ["Record it with the real code (never done implicitly):"]
    test = os.environ.get("PYTEST_CURRENT_TEST", "").rsplit(" ", 1)[0]
    if test:
        commands.append(f"    {RECORD_SCRIPT} '{test}'")
    commands.append(
        f"    cd {invocation.workdir} && {RECORD_VARIABLE}=1 "
        + invocation.shell_command(f"{program} --store {store.root} {invocation.code}")
    )
    return commands


def missing_recording_message(
    invocation: Invocation, hashed: HashedInputs, store: RecordingStore, program: str
) -> str:
    """The message printed when no recording matches: hash, diff, how to record."""
    lines = [
        f"janus-mock-code: NO RECORDING of {hashed.code} for input hash {hashed.digest}",
        f"(store {store.root}). Unrecorded inputs never pass silently.",
        *_diff_section(store, hashed),
        *_record_commands(invocation, store, program),
    ]
    return "\n".join(lines) + "\n"


def report_failure(message: str) -> None:
    """Write a failure to stderr and to stdout, so that the parsed output file shows it."""
    sys.stdout.write(message)
    sys.stdout.flush()
    sys.stderr.write(message)
