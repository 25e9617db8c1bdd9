"""``janus-mock-code``: a stand-in for a QE executable that replays recorded real runs.

Usage (normally through the wrapper script that :mod:`workflows.mock.codes` writes)::

    janus-mock-code --store tests/fixtures/mock pw.x -in aiida.in > aiida.out

Replay is the default. Record mode runs the real code and stores its outputs; it is
switched on by ``JANUS_MOCK_RECORD=1`` in the environment (which AiiDA's local transport
passes on to the job, so a whole test run can record) or by ``--record``.
``JANUS_MOCK_RECORD=missing`` replays what is recorded and records only the misses, so a
long chain (the pipeline test) is not re-run for one new step.

Exit status: the recorded one on a replay, the real one when recording,
:data:`EXIT_MISSING_RECORDING` (3) on a miss and :data:`EXIT_STORE_ERROR` (4) when the
store is missing/corrupt or the inputs cannot be hashed. Launched by mpirun, ranks other
than 0 exit at once, so a mock registered with MPI by mistake still runs once.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from workflows.mock.hashing import InputHashingError, hash_inputs
from workflows.mock.invocation import InvocationError, read_invocation
from workflows.mock.parent_reads import incomplete_parent
from workflows.mock.record import RealCodeNotFoundError, run_and_record
from workflows.mock.replay import (
    EXIT_MISSING_RECORDING,
    RECORD_VARIABLE,
    missing_recording_message,
    report_failure,
    restore,
)
from workflows.mock.store import RecordingStore, RecordingStoreError

EXIT_STORE_ERROR = 4
STORE_VARIABLE = "JANUS_MOCK_STORE"
HOLD_VARIABLE = "JANUS_MOCK_HOLD_FAILED_SECONDS"
PROGRAM = "janus-mock-code"
_RANK_VARIABLES = ("OMPI_COMM_WORLD_RANK", "PMI_RANK", "PMIX_RANK")

__all__ = ["EXIT_MISSING_RECORDING", "EXIT_STORE_ERROR", "main"]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROGRAM, description="Replay (or record) real Quantum ESPRESSO runs by input hash."
    )
    parser.add_argument(
        "--store",
        type=Path,
        default=os.environ.get(STORE_VARIABLE),
        help=f"recordings folder (default: ${STORE_VARIABLE})",
    )
    parser.add_argument(
        "--record", action="store_true", help=f"run the real code and record ({RECORD_VARIABLE}=1)"
    )
    parser.add_argument("code", help="the QE executable stood in for, e.g. pw.x")
    parser.add_argument("arguments", nargs=argparse.REMAINDER, help="the code's own arguments")
    return parser


def _is_secondary_mpi_rank() -> bool:
    return any(os.environ.get(name, "0") != "0" for name in _RANK_VARIABLES)


def run(code: str, arguments: tuple[str, ...], store: RecordingStore, record: str) -> int:
    """Replay or record one call of ``code`` in the current directory; return the exit status.

    ``record``: ``"never"`` (replay), ``"always"`` or ``"missing"``.
    """
    invocation = read_invocation(code, arguments, Path.cwd())
    hashed = hash_inputs(
        code, invocation.input_text, invocation.workdir, invocation.redirected_files
    )
    if record == "always":
        return run_and_record(invocation, hashed, store)
    recording = store.load(hashed)
    if recording is None and record == "missing":
        parent = incomplete_parent(code, invocation.input_text, invocation.workdir)
        if parent is not None:
            report_failure(
                f"{PROGRAM}: cannot record {code} here: its parent "
                f"{parent.relative_to(invocation.workdir)} was replayed without the files it "
                "reads; remove the parent step's recording from the store and resume, so "
                "the two are recorded together\n"
            )
            return EXIT_MISSING_RECORDING
        return run_and_record(invocation, hashed, store)
    if recording is None:
        report_failure(missing_recording_message(invocation, hashed, store, PROGRAM))
        return EXIT_MISSING_RECORDING
    return restore(recording, invocation)


def hold_failed_run(status: int) -> None:
    """Stay alive ``$JANUS_MOCK_HOLD_FAILED_SECONDS`` (s) after a failed run wrote its output.

    A replay writes its whole output at once and exits, and aiida-core stops calling
    CalcJob monitors once the job has left the scheduler. Holding a failed run lets a
    monitor (``janus.scf_divergence``) read the output of a job that still runs and stop
    it, as it would stop the real run; a converged run (exit 0) never waits.
    """
    seconds = float(os.environ.get(HOLD_VARIABLE) or 0.0)
    if status != 0 and seconds > 0:
        time.sleep(seconds)


def main(argv: list[str] | None = None) -> int:
    """Console-script entry point."""
    if _is_secondary_mpi_rank():
        return 0
    options = _parser().parse_args(argv)
    if options.store is None:
        report_failure(f"{PROGRAM}: no recording store: pass --store or set ${STORE_VARIABLE}\n")
        return EXIT_STORE_ERROR
    mode = os.environ.get(RECORD_VARIABLE, "")
    record = (
        "always" if options.record or mode == "1" else "missing" if mode == "missing" else "never"
    )
    store = RecordingStore(options.store.resolve())
    try:
        status = run(options.code, tuple(options.arguments), store, record)
    except (RecordingStoreError, InputHashingError, InvocationError, RealCodeNotFoundError) as err:
        report_failure(f"{PROGRAM}: {err}\n")
        return EXIT_STORE_ERROR
    hold_failed_run(status)
    return status


if __name__ == "__main__":
    sys.exit(main())
