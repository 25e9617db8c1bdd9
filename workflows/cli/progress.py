"""Live progress of a study run in this process: steps done, running jobs, elapsed, ETA.

``aiida-janus run`` and ``demo`` block in AiiDA's runner. :func:`run_with_progress`
runs the study in that same runner and schedules a poll on the runner's own event loop
(no thread): between the study's steps it reads the call tree with a few projected
queries (:func:`workflows.provenance.status_tree.process_rows`), ends that read
transaction at once (a read left open on SQLite blocks other writers), and reads the
last kB of each running job's ``aiida.out`` for its MD/BFGS step and SCF iteration.

On a terminal one status line is redrawn in place (AiiDA's report lines, shown with
``-v``, are printed above it); otherwise (CI, a log file) a plain line is printed every
minute. The estimate of the time left comes from :mod:`heterostructures.structure.study_cost`.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, TextIO

from heterostructures.io.pw_progress import pw_progress, read_tail
from workflows.calculations.snapshot_batch_remote import frame_position
from workflows.provenance.process_tree import stored_pk
from workflows.provenance.status_tree import ACTIVE_STATES, ProcessRow, process_rows

STEP_CALLS = {
    "bulk": ("perovskite_bulk", "chalcogenide_bulk"),
    "na": ("na_snapshots", "na_analysis"),
}
"""Pipeline steps that call more than one sub-workflow (call link labels)."""
TTY_POLL_S = 2.0
PLAIN_POLL_S = 60.0
OUTPUT_FILE = "aiida.out"


@dataclass(frozen=True)
class StudyProgress:
    """One look at a running study: steps done of all, active jobs, times (s)."""

    pk: int
    state: str
    steps_done: int
    steps_total: int
    running: tuple[str, ...]
    elapsed_s: float
    remaining_s: float | None
    overdue_s: float = 0.0
    """Σ over running steps of the wall seconds spent beyond their cost-model estimate."""


def _step_of(label: str) -> str:
    return next((step for step, calls in STEP_CALLS.items() if label in calls), label)


def _steps_done(children: list[ProcessRow], steps: tuple[str, ...] | None) -> tuple[int, int]:
    """(done, all) over ``steps`` (pipeline), else over the direct children seen so far."""
    if steps is None:
        return sum(row.terminated for row in children), len(children)
    finished = {row.link_label for row in children if row.terminated}
    done = sum(set(STEP_CALLS.get(step, (step,))) <= finished for step in steps)
    return done, len(steps)


def _top_label(row: ProcessRow, by_pk: dict[int, ProcessRow], root: int) -> str:
    """The call link label of the study's child that ``row`` runs under."""
    while row.caller_pk is not None and row.caller_pk != root:
        row = by_pk[row.caller_pk]
    return row.link_label


def job_activity(workdir: Path) -> str:
    """MD/BFGS step and SCF iteration of the pw.x job writing ``workdir/aiida.out``; in a
    batch of NA snapshots (``janus.snapshot_batch``: one ``frame_NNNN.out`` per frame,
    no ``aiida.out``), the newest frame's, named."""
    positions = {path: frame_position(path.stem) for path in workdir.glob("*.out")}
    frames = sorted((at, path) for path, at in positions.items() if at is not None)
    if not frames:
        return pw_progress(read_tail(workdir / OUTPUT_FILE)).describe()
    newest = frames[-1][1]
    current = pw_progress(read_tail(newest)).describe()
    return newest.stem + (f", {current}" if current else "")


def _remaining(
    children: list[ProcessRow], estimates: dict[str, float], now: datetime
) -> tuple[float, float]:
    """(Σ over unfinished steps of estimated wall s − wall s spent so far, ≥ 0 each;
    Σ of the seconds by which started steps have overrun their estimate)."""
    left = overdue = 0.0
    for step, estimate in estimates.items():
        rows = [row for row in children if _step_of(row.link_label) == step]
        calls = STEP_CALLS.get(step, (step,))
        if len([row for row in rows if row.terminated]) >= len(calls):
            continue
        started = min((row.ctime for row in rows), default=None)
        spent = (now - started).total_seconds() if started else 0.0
        left += max(0.0, estimate - spent)
        overdue += max(0.0, spent - estimate)
    return left, overdue


def study_progress(
    pk: int,
    steps: tuple[str, ...] | None = None,
    estimates: dict[str, float] | None = None,
    local_workdirs: bool = True,
    now: datetime | None = None,
) -> StudyProgress:
    """Progress of study ``pk``: ``steps`` are the pipeline steps it runs (None: count
    its direct children), ``estimates`` the cost model's wall seconds per step."""
    now = now or datetime.now(timezone.utc)
    rows = process_rows(pk)
    by_pk = {row.pk: row for row in rows}
    root = by_pk[pk]
    children = [row for row in rows if row.caller_pk == pk]
    done, total = _steps_done(children, steps)
    if root.terminated and root.exit_status == 0:
        done = total
    running = []
    for row in rows:
        if not (row.is_calc_job and row.state in ACTIVE_STATES):
            continue
        activity = ""
        if local_workdirs and row.remote_workdir and _is_local(row.pk):
            activity = job_activity(Path(row.remote_workdir))
        where = _top_label(row, by_pk, pk)
        text = f"{where}: {row.process_label}<{row.pk}>" + (f" {activity}" if activity else "")
        running.append(text)
    remaining, overdue = (
        (None, 0.0)
        if estimates is None or root.terminated
        else _remaining(children, estimates, now)
    )
    return StudyProgress(
        pk, root.state, done, total, tuple(running), root.elapsed_seconds(now), remaining, overdue
    )


_LOCAL: dict[int, bool] = {}


def _is_local(calc_pk: int) -> bool:
    """True when the job's computer uses the local transport (its files are readable here)."""
    if calc_pk not in _LOCAL:
        from aiida.orm import load_node

        computer = load_node(calc_pk).computer
        _LOCAL[calc_pk] = computer is not None and computer.transport_type == "core.local"
    return _LOCAL[calc_pk]


def _clock(seconds: float) -> str:
    minutes, second = divmod(int(seconds), 60)
    hours, minute = divmod(minutes, 60)
    return f"{hours}:{minute:02d}:{second:02d}" if hours else f"{minute}:{second:02d}"


def progress_line(progress: StudyProgress, lower_bound: bool = False) -> str:
    """``study <PK> 3/7 steps, 12:04 elapsed, ~33:10 left | aimd: PwCalculation<9> MD step 5``."""
    line = (
        f"study <{progress.pk}> {progress.state}: {progress.steps_done}/{progress.steps_total}"
        f" steps, {_clock(progress.elapsed_s)} elapsed"
    )
    if progress.remaining_s is not None and progress.remaining_s < 1 and progress.overdue_s >= 1:
        # the estimate is used up: say by how much it is overrun, not "~0:00 left"
        line += f", {_clock(progress.overdue_s)} over the cost model's estimate"
    elif progress.remaining_s is not None:
        line += f", {'≥' if lower_bound else '~'}{_clock(progress.remaining_s)} left (cost model)"
    if progress.running:
        shown = "; ".join(progress.running[:2])
        more = len(progress.running) - 2
        line += f" | {shown}" + (f" (+{more} more)" if more > 0 else "")
    return line


class ProgressPrinter:
    """Writes progress lines: redrawn in place on a terminal, plain lines otherwise."""

    def __init__(self, stream: TextIO, tty: bool) -> None:
        self.stream, self.tty = stream, tty
        self.shown = False
        self.last: str | None = None

    def clear(self) -> None:
        """Erase the status line (a terminal only) so another line can be written."""
        if self.tty and self.shown:
            self.stream.write("\r\x1b[K")
            self.stream.flush()
            self.shown = False

    def show(self, line: str) -> None:
        """Draw ``line``: in place on a terminal, as a new line otherwise."""
        self.last = line
        if self.tty:
            self.clear()
            self.stream.write(line)
            self.shown = True
        else:
            self.stream.write(line + "\n")
        self.stream.flush()

    def close(self, line: str | None) -> None:
        """The last line, always left on screen (once: not repeated after the same line)."""
        repeated = not self.tty and line == self.last
        self.clear()
        if line is not None and not repeated:
            self.stream.write(line + "\n")
            self.stream.flush()


class _ClearingStream:
    """A log stream that erases the status line before each record is written."""

    def __init__(self, stream: TextIO, printer: ProgressPrinter) -> None:
        self.stream, self.printer = stream, printer

    def write(self, text: str) -> int:
        self.printer.clear()
        return self.stream.write(text)

    def flush(self) -> None:
        self.stream.flush()


@contextmanager
def _logs_above(printer: ProgressPrinter) -> Iterator[None]:
    """On a terminal, AiiDA's report lines erase the status line before they print."""
    handlers = [
        handler
        for handler in logging.getLogger("aiida").handlers
        if type(handler) is logging.StreamHandler and printer.tty
    ]
    originals = [handler.stream for handler in handlers]
    for handler, stream in zip(handlers, originals, strict=True):
        handler.setStream(_ClearingStream(stream, printer))
    try:
        yield
    finally:
        for handler, stream in zip(handlers, originals, strict=True):
            handler.setStream(stream)


@contextmanager
def short_read() -> Iterator[None]:
    """End the read transaction the poll opened, unless one was open before it."""
    from aiida.manage import get_manager

    storage = get_manager().get_profile_storage()
    session = storage.get_session() if hasattr(storage, "get_session") else None
    fresh = session is not None and not session.in_transaction()
    try:
        yield
    finally:
        if fresh and session is not None and session.in_transaction():
            session.commit()


LATTICE_KEYS = ("perovskite_a", "chalcogenide_a")
"""Interface-spec keys of the lattice constants ``--perovskite-a``/``--chalcogenide-a`` set."""


def given_lattices(builder: Any) -> dict[str, float]:
    """The lattice constants (Å) a pipeline builder was given, as ``aiida-janus plan`` takes
    them: from the interface spec, or, when ``--structure`` replaced the build, from the
    alignment series' model spec (:func:`~workflows.cli.lattices.lattice_overrides` sets both).
    """
    for path in (("interface", "interface"), ("alignment", "model", "interface")):
        namespace = builder
        for name in path:
            namespace = namespace.get(name)
            if namespace is None:
                break
        if namespace is not None:
            values = namespace.get_dict()
            return {key: float(values[key]) for key in LATTICE_KEYS if key in values}
    return {}


def study_estimates(builder: Any) -> tuple[dict[str, float] | None, bool]:
    """Wall seconds per step of a pipeline builder from the cost model, and whether they
    are lower bounds; ``(None, False)`` when the builder is not a pipeline study.

    The lattice constants given on the command line (:func:`given_lattices`) reach the
    cost model, so a material without a tabulated lattice (CdTe) still gets an estimate."""
    from heterostructures.structure.study_cost import MACHINE_CORES, study_cost
    from workflows.inputs.study_size import study_size

    try:
        size = study_size(
            builder.protocol.value,
            builder.perovskite.value,
            builder.chalcogenide.value,
            given_lattices(builder),
        )
    except (AttributeError, KeyError, ValueError):
        return None, False
    skipped = set(builder.skip.get_list()) if "skip" in builder else set()
    estimates = study_cost(size)
    return (
        {e.step: e.wall_seconds(MACHINE_CORES) for e in estimates if e.step not in skipped},
        any(e.lower_bound for e in estimates),
    )


class ProgressPoll:
    """The periodic callback: read the study's progress and show it; never fails the study."""

    def __init__(self, pk: int, printer: ProgressPrinter, builder: Any) -> None:
        self.pk, self.printer = pk, printer
        self.estimates, self.lower_bound = study_estimates(builder)
        self.steps = tuple(self.estimates) if self.estimates is not None else None
        self.enabled = True

    def line(self) -> str | None:
        """The current progress line, or None once reading failed (then the poll stops)."""
        if not self.enabled:
            return None
        try:
            with short_read():
                progress = study_progress(self.pk, self.steps, self.estimates)
        except Exception as exception:  # the view must never stop the study
            self.enabled = False
            logging.getLogger(__name__).warning("progress view stopped: %s", exception)
            return None
        return progress_line(progress, self.lower_bound)

    def __call__(self) -> None:
        line = self.line()
        if line is not None:
            self.printer.show(line)


def run_with_progress(
    builder: Any, stream: TextIO | None = None, poll_s: float | None = None, verbose: bool = False
) -> Any:
    """Run ``builder`` in this process like ``run_get_node`` and show its progress.

    Returns the process node. ``poll_s`` defaults to 2 s on a terminal, 60 s otherwise.
    AiiDA's console lines are coloured by level on a terminal; its report lines are shown
    only when ``verbose`` (:func:`workflows.cli.console.styled_console`).
    """
    from aiida.engine.utils import instantiate_process, loop_scope
    from aiida.manage import get_manager

    from workflows.cli.console import styled_console

    stream = stream or sys.stdout
    printer = ProgressPrinter(stream, tty=stream.isatty())
    interval = poll_s or (TTY_POLL_S if printer.tty else PLAIN_POLL_S)
    # A local runner without a broker, as aiida-core's own run_get_node makes (2.9): a run
    # in this process needs no communicator, and one that waits for the broker fails
    # where the broker cannot start (a full disk: tests/workflows/test_faults.py).
    runner = get_manager().create_runner(communicator=None)
    with loop_scope(runner.loop):
        process = instantiate_process(runner, builder)
    poll = ProgressPoll(stored_pk(process.node), printer, builder)
    handle = None

    def tick() -> None:
        nonlocal handle
        poll()
        handle = runner.loop.call_later(interval, tick) if poll.enabled else None

    handle = runner.loop.call_later(min(interval, 1.0), tick)
    try:
        with styled_console(verbose), _logs_above(printer):
            node = runner.run_get_node(process)[1]
    finally:
        if handle is not None:
            handle.cancel()
        final = poll.line()
        printer.close(final)
    return node
