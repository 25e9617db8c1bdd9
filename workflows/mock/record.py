"""Record mode: run the real QE executable and store what it wrote under the input hash.

The real executable is the code name looked up on ``PATH`` (``pw.x``), run serially, or
through ``mpirun -np N`` when ``JANUS_MOCK_MPI_RANKS=N`` (with Open MPI's run-as-root
flags, since containers and CI run as root). ``OMP_NUM_THREADS`` defaults to 1. Real runs
go one at a time (a file lock, :func:`one_real_run_at_a_time`), so the steps a workflow
launches together queue instead of crowding the cores. A run cut short (ended by a
signal, or failed without QE's own ending) is forwarded but not stored
(:func:`cut_short`); a code killed directly then exits 128 + N, as from a shell.
Wavefunction files (``wfc*.dat``) are left out unless ``JANUS_MOCK_KEEP_WAVEFUNCTIONS=1``:
one 26-atom Γ snapshot is ~50 MB and does not compress, and the whole fixture budget is a
few MB. ``JANUS_MOCK_KEEP_WAVEFUNCTIONS=batch`` keeps them only for the pw.x runs of a
``janus.snapshot_batch`` job (its folder holds :data:`BATCH_DRIVER_FILE`), the one place a
replay reads them (the job's own overlap code): a whole-study recording then keeps no
wavefunction of its SCF, MD or NSCF steps. ``JANUS_MOCK_SKIP_CHARGE_DENSITY=1`` also
leaves out ``charge-density.dat`` (a 13-atom PAW density is ~10 MB), except in a batch job's
folder, whose driver checkpoints each frame's density and fails without it. A replayed chained
step still hits, since the density's presence is not hashed
(``hashing.UNHASHED_PARENT_PATTERNS``); but a step recorded *later* reads its parent's
files, so a chain is recorded in one run (``parent_reads``: a step is refused downstream
of a replayed parent).
"""

from __future__ import annotations

import datetime
import fcntl
import fnmatch
import hashlib
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from workflows.mock.hashing import (
    CHARGE_DENSITY_PATTERN,
    WAVEFUNCTION_PATTERNS,
    HashedInputs,
    is_transient,
    pseudo_directory,
    referenced_pseudos,
)
from workflows.mock.invocation import Invocation
from workflows.mock.store import Recording, RecordingMetadata, RecordingStore

MPI_RANKS_VARIABLE = "JANUS_MOCK_MPI_RANKS"
KEEP_WAVEFUNCTIONS_VARIABLE = "JANUS_MOCK_KEEP_WAVEFUNCTIONS"
KEEP_IN_BATCHES = "batch"
"""``JANUS_MOCK_KEEP_WAVEFUNCTIONS`` value: keep ``wfc*.dat`` only inside batch job folders."""
BATCH_DRIVER_FILE = "janus_batch_driver.sh"
"""The driver a ``janus.snapshot_batch`` job folder holds (``snapshot_batch_files.DRIVER_FILE``;
a test checks they agree, so the mock need not import the CalcJob's modules)."""
SKIP_DENSITY_VARIABLE = "JANUS_MOCK_SKIP_CHARGE_DENSITY"
LARGE_RECORDING_BYTES = 5_000_000
LOCK_VARIABLE = "JANUS_MOCK_RECORD_LOCK"
"""The lock file that makes real runs wait for each other (default: in the temp folder)."""
_QE_VERSION = re.compile(r"Program\s+\S+\s+v\.(\S+)\s+starts")
_ROOT_FLAGS = {"OMPI_ALLOW_RUN_AS_ROOT": "1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1"}
_OPEN_MPI_SIGNAL = re.compile(rb"exited on signal (\d+)")
"""Open MPI 4.1's report when a rank dies by a signal (mpirun itself then exits 1 or 128+N)."""
_QE_ENDINGS = (b"JOB DONE.", b"Error in routine")
"""How a QE 6.7 program's output ends when the program stopped by itself."""

FileState = dict[str, tuple[int, int]]


class RealCodeNotFoundError(FileNotFoundError):
    """Record mode needs the real executable on PATH."""


def real_executable(code: str) -> str:
    """Absolute path of the real ``code`` on PATH."""
    path = shutil.which(code)
    if path is None:
        raise RealCodeNotFoundError(
            f"record mode needs the real {code} on PATH (install Quantum ESPRESSO, e.g. "
            "`apt-get install quantum-espresso`)"
        )
    return path


def real_command(invocation: Invocation) -> list[str]:
    """The command that runs the real code: serial, or through mpirun when asked."""
    command = [real_executable(invocation.code), *invocation.arguments]
    ranks = os.environ.get(MPI_RANKS_VARIABLE)
    if ranks:
        if not ranks.isdigit() or int(ranks) < 1:
            raise ValueError(f"{MPI_RANKS_VARIABLE}={ranks!r}: give a positive number of ranks")
        command = ["mpirun", "-np", ranks, *command]
    return command


def file_state(workdir: Path) -> FileState:
    """Size and modification time (ns) of every file below ``workdir``."""
    state = {}
    for path in workdir.rglob("*"):
        if path.is_file():
            stat = path.stat()
            state[path.relative_to(workdir).as_posix()] = (stat.st_size, stat.st_mtime_ns)
    return state


def _wanted(relative_path: str, keep_wavefunctions: bool, in_batch: bool) -> bool:
    skip_density = os.environ.get(SKIP_DENSITY_VARIABLE) == "1" and not in_batch
    if skip_density and fnmatch.fnmatch(relative_path, CHARGE_DENSITY_PATTERN):
        return False
    is_wavefunction = any(fnmatch.fnmatch(relative_path, p) for p in WAVEFUNCTION_PATTERNS)
    if is_wavefunction and keep_wavefunctions:
        return True
    return not is_transient(relative_path)


def is_batch_folder(workdir: Path) -> bool:
    """Whether ``workdir`` is a ``janus.snapshot_batch`` job folder (it holds the driver)."""
    return (workdir / BATCH_DRIVER_FILE).is_file()


def keeps_wavefunctions(workdir: Path) -> bool:
    """Whether this run's ``wfc*.dat`` are recorded (``JANUS_MOCK_KEEP_WAVEFUNCTIONS``)."""
    setting = os.environ.get(KEEP_WAVEFUNCTIONS_VARIABLE, "0")
    if setting == KEEP_IN_BATCHES:
        return is_batch_folder(workdir)
    return setting == "1"


def written_files(invocation: Invocation, before: FileState) -> dict[str, bytes]:
    """Files the run created or changed, minus scratch and (by default) wavefunctions."""
    keep_wavefunctions = keeps_wavefunctions(invocation.workdir)
    in_batch = is_batch_folder(invocation.workdir)
    skipped = {path.resolve() for path in invocation.redirected_files}
    outputs = {}
    for name, state in sorted(file_state(invocation.workdir).items()):
        path = invocation.workdir / name
        if before.get(name) == state or path.resolve() in skipped:
            continue
        if _wanted(name, keep_wavefunctions, in_batch):
            outputs[name] = path.read_bytes()
    return outputs


def split_pseudo_copies(
    invocation: Invocation, files: dict[str, bytes]
) -> tuple[dict[str, bytes], tuple[tuple[str, str], ...]]:
    """Separate output files that are byte copies of input pseudopotentials."""
    pseudo_dir = pseudo_directory(invocation.input_text, invocation.workdir)
    by_checksum = {
        hashlib.sha256((pseudo_dir / name).read_bytes()).hexdigest(): name
        for name in referenced_pseudos(invocation.input_text)
    }
    kept, copies = {}, []
    for path, data in files.items():
        source = by_checksum.get(hashlib.sha256(data).hexdigest())
        if source is None:
            kept[path] = data
        else:
            copies.append((path, source))
    return kept, tuple(copies)


@contextmanager
def one_real_run_at_a_time() -> Iterator[None]:
    """Hold an exclusive lock on the recording lock file while the real code runs.

    Why: a workflow launches independent steps together (the alignment's reference SCFs
    beside its model), and each real run takes ``JANUS_MOCK_MPI_RANKS`` ranks. Three
    2-rank runs on 2 cores were measured on 2026-12-06 at a third of the cores' time in
    useful CPU (1 min 16 s CPU in 7 min wall), and the wall times they recorded measured the
    crowd, not the run. Queued one at a time, a recording's wall time is its own.
    """
    path = Path(
        os.environ.get(LOCK_VARIABLE) or Path(tempfile.gettempdir()) / "janus-mock-record.lock"
    )
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def ended_by_signal(returncode: int, stderr: bytes) -> int | None:
    """The signal that ended a real run, or ``None`` if none is reported.

    The command has no shell in between, so a code run directly shows a signal as a
    negative status; under mpirun, Open MPI 4.1 reports a rank's signal as ``exited on
    signal N`` (mpirun itself then exits 1 or 128 + N). A status alone is not read as a
    signal: QE 6.7's pw.x exits 255 by itself (``max_seconds`` reached, an exit file,
    ``nstep = 0``) and 3 for an unconverged relaxation (``run_pwscf.f90``).
    """
    if returncode < 0:
        return -returncode
    reported = _OPEN_MPI_SIGNAL.search(stderr) if returncode != 0 else None
    return int(reported.group(1)) if reported else None


def cut_short(completed: subprocess.CompletedProcess[bytes]) -> str | None:
    """Why a real run's output is cut short, or ``None`` if the code ended by itself.

    Why: a run stopped from outside (a stopped session, a kill by hand, the OOM killer) or
    crashed wrote a truncated output; stored, it would replay that truncation forever as
    if QE had produced it. Besides a signal (:func:`ended_by_signal`), a failed run must
    show how QE ended it: every QE 6.7 program prints ``JOB DONE.`` when it stops by itself
    (also with exit 2 or 255) and an ``Error in routine`` banner when it stops on an error
    (both seen in this store's recordings). ``mpirun`` killed by SIGTERM exits 1 with
    neither and an empty stderr (measured 2026-12-06, Open MPI 4.1.4).
    """
    signal_number = ended_by_signal(completed.returncode, completed.stderr)
    if signal_number is not None:
        return f"ended by signal {signal_number} (stopped from outside, or crashed)"
    output = completed.stdout + completed.stderr
    if completed.returncode != 0 and not any(mark in output for mark in _QE_ENDINGS):
        return (
            f"exited {completed.returncode} without QE's 'JOB DONE.' or error message"
            " (stopped from outside?)"
        )
    return None


def _forward(completed: subprocess.CompletedProcess[bytes]) -> None:
    sys.stdout.buffer.write(completed.stdout)
    sys.stdout.flush()
    sys.stderr.buffer.write(completed.stderr)
    sys.stderr.flush()


def run_and_record(invocation: Invocation, hashed: HashedInputs, store: RecordingStore) -> int:
    """Run the real code, forward its output, store the recording; return its exit status."""
    command = real_command(invocation)
    environment = {**os.environ, **_ROOT_FLAGS}
    environment.setdefault("OMP_NUM_THREADS", "1")
    with one_real_run_at_a_time():
        before = file_state(invocation.workdir)
        completed = subprocess.run(
            command,
            input=invocation.input_text.encode() if invocation.input_from_stdin else None,
            stdin=None if invocation.input_from_stdin else subprocess.DEVNULL,
            capture_output=True,
            cwd=invocation.workdir,
            env=environment,
            check=False,
        )
    reason = cut_short(completed)
    if reason is not None:
        _forward(completed)
        print(
            f"janus-mock-code: not recorded: {invocation.code} {reason}: its output is cut short",
            file=sys.stderr,
        )
        return completed.returncode if completed.returncode > 0 else 128 - completed.returncode
    files, pseudo_copies = split_pseudo_copies(invocation, written_files(invocation, before))
    version = _QE_VERSION.search(completed.stdout.decode(errors="replace"))
    metadata = RecordingMetadata(
        code=invocation.code,
        digest=hashed.digest,
        material=hashed.material,
        command=tuple(command),
        qe_version=version.group(1) if version else "unknown",
        date=datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        hostname=socket.gethostname(),
        exit_status=completed.returncode,
        file_sizes=tuple((name, len(data)) for name, data in files.items()),
        pseudo_copies=pseudo_copies,
    )
    archive = store.save(Recording(metadata, files, completed.stdout, completed.stderr))
    # Only now forward the output: a CalcJob monitor that reads it may kill this process.
    _forward(completed)
    size = archive.stat().st_size
    note = " (large: keep recordings small)" if size > LARGE_RECORDING_BYTES else ""
    print(f"janus-mock-code: recorded {archive} ({size} bytes){note}", file=sys.stderr)
    return completed.returncode
