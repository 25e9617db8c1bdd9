"""Fault-test pass rates: each fault test N times, per profile and opt-in setting, as a table.

Why: issue 20 asks for one honest reliability statement backed by a table that anyone can
regenerate, instead of dated tallies: how often each fault test of
``tests/workflows/test_faults.py`` (and, where SLURM is installed, the ``scancel`` test of
``tests/workflows/setup/test_slurm.py``) passes, and how many calculations ran twice or
were lost, with the risky opt-in parts (``JANUS_SUBMIT_REUSE``, ``JANUS_BROKER_GUARD``)
off and on.

Run from the repository with the environment of DEVELOPERS.md (each trial of a daemon
test takes minutes of both cores; PostgreSQL/RabbitMQ tests need root or the servers)::

    python benchmarks/faults.py --trials 10 --opt-in both -o fault-table.md
    python benchmarks/faults.py --list --only sigkilled

One trial is one ``pytest -p no:cacheprovider -m "" <nodeid>`` process (``-m ""``: the
slow-marked fault tests run too); its outcome comes from its ``--junitxml`` file and exit
code. Opt-in: ``on`` sets ``JANUS_FAULT_OPT_IN=on`` (both parts on in every daemon of the
test), ``off`` leaves both off; a test that fixes the setting itself (``FIXED_OPT_IN``)
runs only under that setting, and tests without a daemon show ``n/a`` and run once per
trial. Profile: from the test's profile fixture (``PROFILE_FIXTURES``); no fault test
runs on both profiles yet. Duplicated/lost calculations come from the JSON record the
test writes to ``JANUS_FAULT_RECORD_DIR`` (``tests/workflows/fault_record.py``; only
the tests that account for a whole study write one, the others show ``–``).
"""

from __future__ import annotations

import argparse
import ast
import datetime
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import NoReturn

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.workflows.fault_record import OPT_IN_ENV, RECORD_DIR_ENV  # noqa: E402

FAULT_FILE = "tests/workflows/test_faults.py"
SLURM_FILE = "tests/workflows/setup/test_slurm.py"
SLURM_FAULT_TESTS = ("test_scancelled_job_is_detected_and_run_again",)
# Tests whose opt-in setting is not the script's to choose (test name with parameters →
# label): set by the test itself, or ``n/a`` (a FaultProfile but no daemon started).
FIXED_OPT_IN = {
    "test_daemon_sigkilled_mid_study_resumes_every_calculation[default]": "off",
    "test_daemon_sigkilled_mid_study_resumes_every_calculation[submit-reuse]": (
        "on (submit re-use only)"
    ),
    "test_rabbitmq_restarted_under_load_with_the_guard_loses_no_process": (
        "on (broker guard only)"
    ),
    "test_the_guard_stops_a_dropped_worker_and_its_successor_waits_for_the_broker": (
        "on (broker guard only)"
    ),
    "test_full_disk_gives_a_clear_error_and_stores_nothing": "n/a",
    "test_read_only_repository_gives_a_clear_error_and_stores_nothing": "n/a",
}
# Fixtures that start a daemon, and the profile kind they make (test_faults.py).
PROFILE_FIXTURES = {
    "sqlite_profile": "SQLite/ZeroMQ",
    "full_disk_profile": "SQLite/ZeroMQ",
    "production_profile": "PostgreSQL/RabbitMQ",
}
NO_DAEMON_PROFILE = "in-process SQLite, no broker"  # aiida-core's pytest profile
OUTCOMES = ("passed", "failed", "skipped", "xfailed", "xpassed")
PACKAGES = ("aiida-core", "plumpy", "kiwipy")


class OneLineParser(argparse.ArgumentParser):
    """Bad input gives one line naming the option, not the usage block."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"faults.py: {message}\n")


@dataclass(frozen=True)
class Selected:
    """One row of the table: a test under one opt-in setting (``off``, ``on``, ``n/a``)."""

    nodeid: str
    profile: str
    opt_in: str


@dataclass
class Trial:
    """One pytest process: outcome, wall time (s), and the test's record if it wrote one."""

    outcome: str
    seconds: float
    duplicated: int | None = None
    lost: int | None = None
    notes: list[str] = field(default_factory=list)


def parse_collected(stdout: str) -> list[str]:
    """Node ids from ``pytest --collect-only -q`` output (one per line, with ``::``)."""
    return [line.strip() for line in stdout.splitlines() if "::" in line and " " not in line]


def collect(files: list[str]) -> list[str]:
    """Node ids of every test in ``files`` (collect-only: no test runs)."""
    command = [sys.executable, "-m", "pytest", "--collect-only", "-q", "-m", ""]
    result = subprocess.run(
        [*command, "-p", "no:cacheprovider", *files],
        cwd=REPO,
        env=trial_env(None, None),
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        sys.exit(f"faults.py: collecting {' '.join(files)} failed:\n{result.stdout[-2000:]}")
    return parse_collected(result.stdout)


def profiles_by_test(path: Path) -> dict[str, str]:
    """Test function name → profile kind, from its fixture arguments (static: no import)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    profiles = {}
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name.startswith("test_"):
            names = [arg.arg for arg in node.args.args]
            kinds = [PROFILE_FIXTURES[name] for name in names if name in PROFILE_FIXTURES]
            profiles[node.name] = kinds[0] if kinds else NO_DAEMON_PROFILE
    return profiles


def opt_in_labels(nodeid: str, profile: str, requested: str) -> list[str]:
    """The opt-in settings a test runs under for ``--opt-in requested`` (off, on, both)."""
    name = nodeid.rsplit("::", 1)[-1]
    wanted = ("off", "on") if requested == "both" else (requested,)
    label = FIXED_OPT_IN.get(name, "n/a" if profile == NO_DAEMON_PROFILE else None)
    if label is None:
        return list(wanted)
    return [label] if label == "n/a" or label.split()[0] in wanted else []


def select(
    nodeids: list[str], profiles: dict[str, str], requested: str, only: str | None
) -> list[Selected]:
    """Rows to run: every node id containing ``only``, under each of its opt-in settings."""
    rows = []
    for nodeid in nodeids:
        if only is not None and only not in nodeid:
            continue
        function = nodeid.rsplit("::", 1)[-1].split("[")[0]
        profile = profiles.get(function, NO_DAEMON_PROFILE)
        labels = opt_in_labels(nodeid, profile, requested)
        rows += [Selected(nodeid, profile, label) for label in labels]
    return rows


def outcome_of(exit_code: int, junit: Path, stdout: str = "") -> str:
    """passed / failed / skipped / xfailed / xpassed of one single-test pytest process.

    junit: a ``failure``/``error`` child is a failure (an error in set-up or tear-down
    too), ``skipped`` of type ``pytest.xfail`` an xfail, ``skipped`` "xfail-marked test
    passes unexpectedly" a strict xpass, no child a pass (or a non-strict xpass, which
    only the summary line shows). No junit test case (crash, timeout): failed.
    """
    try:
        cases = list(ET.parse(junit).getroot().iter("testcase"))
    except (OSError, ET.ParseError):
        cases = []
    if not cases:
        return "failed"
    children = [child for case in cases for child in case]
    if any(child.tag in ("failure", "error") for child in children):
        return "failed"
    for child in (child for child in children if child.tag == "skipped"):
        if child.get("type") == "pytest.xfail":
            return "xfailed"
        if "passes unexpectedly" in (child.get("message") or ""):
            return "xpassed"
        return "skipped"
    if exit_code != 0:
        return "failed"
    summary = stdout.strip().splitlines()[-1] if stdout.strip() else ""
    return "xpassed" if " xpassed" in f" {summary}" else "passed"


def read_record(folder: Path) -> tuple[int | None, int | None, list[str]]:
    """Duplicated and lost CalcJobs summed over the records a trial wrote (None: none)."""
    records = [json.loads(path.read_text()) for path in sorted(folder.glob("record-*.json"))]
    if not records:
        return None, None, []
    notes = [f"{r['storage']} opt-in {r['opt_in'] or 'none'}" for r in records]
    stranded = sum(int(r.get("stranded_calcjobs", 0)) for r in records)
    if stranded:  # launched twice, never run: marked KILLED (workflows/engine/stranded.py)
        notes.append(f"{stranded} stranded twin(s) marked KILLED")
    active = [line for r in records for line in r.get("status", {}).get("unterminated", [])]
    if active:  # still active after the settle time (tests/workflows/test_faults.py)
        notes.append(f"{len(active)} CalcJob(s) never terminated: " + "; ".join(active))
    duplicated = sum(int(r["duplicated"]) for r in records)
    return duplicated, sum(int(r["lost"]) for r in records), notes


def trial_env(row: Selected | None, record_dir: Path | None) -> dict[str, str]:
    """Environment of one pytest process: this tree first, the row's opt-in setting."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    for name in (OPT_IN_ENV, RECORD_DIR_ENV, "JANUS_SUBMIT_REUSE", "JANUS_BROKER_GUARD"):
        env.pop(name, None)
    if row is not None and row.opt_in in ("off", "on"):
        env[OPT_IN_ENV] = row.opt_in
    if record_dir is not None:
        env[RECORD_DIR_ENV] = str(record_dir)
    return env


def run_trial(row: Selected, folder: Path, timeout: float) -> Trial:
    """Run ``row``'s test once in its own pytest process; files go to ``folder``."""
    folder.mkdir(parents=True)
    junit = folder / "junit.xml"
    command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-m", "", "-q"]
    command += [f"--junitxml={junit}", row.nodeid]
    start = time.monotonic()
    with (folder / "stdout.txt").open("w") as out:
        process = subprocess.Popen(
            command,
            cwd=REPO,
            env=trial_env(row, folder),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            exit_code, timed_out = process.wait(timeout=timeout), False
        except subprocess.TimeoutExpired:
            exit_code, timed_out = stop(process), True
    seconds = time.monotonic() - start
    stdout = (folder / "stdout.txt").read_text(errors="replace")
    duplicated, lost, notes = read_record(folder)
    outcome = "failed" if timed_out else outcome_of(exit_code, junit, stdout)
    if timed_out:
        notes.append(f"timed out after {timeout:g} s")
    elif exit_code not in (0, 1):
        notes.append(f"pytest exit {exit_code}")
    return Trial(outcome, seconds, duplicated, lost, notes)


def stop(process: subprocess.Popen[bytes]) -> int:
    """A trial past ``--timeout``: SIGINT (pytest tears down), then SIGKILL after 120 s.

    A daemon the test started runs in its own session and may outlive a SIGKILLed pytest
    (the test's teardown stops it only after SIGINT): look for it after a timeout.
    """
    os.killpg(process.pid, signal.SIGINT)
    try:
        return process.wait(timeout=120)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        return process.wait()


def count_cell(values: list[int | None]) -> str:
    """Sum over the trials that wrote a record; ``–`` when none did."""
    known = [value for value in values if value is not None]
    if not known:
        return "–"
    missing = len(values) - len(known)
    return f"{sum(known)}" + (f" ({missing} runs unrecorded)" if missing else "")


def table_row(row: Selected, trials: list[Trial]) -> str:
    """Markdown row: test, profile, opt-in, trials, outcomes, duplicated, lost, median (s)."""
    counts = {outcome: sum(t.outcome == outcome for t in trials) for outcome in OUTCOMES}
    median = f"{statistics.median(t.seconds for t in trials):.0f}" if trials else "–"
    name = f"`{row.nodeid.removeprefix('tests/')}`"
    cells = [name, row.profile, row.opt_in, str(len(trials)), str(counts["passed"])]
    cells += [str(counts["failed"]), str(counts["skipped"])]
    cells += [f"{counts['xfailed']}/{counts['xpassed']}"]
    cells += [count_cell([t.duplicated for t in trials]), count_cell([t.lost for t in trials])]
    cells += [median]
    return "| " + " | ".join(cells) + " |"


def markdown_table(results: dict[Selected, list[Trial]]) -> str:
    """The table of every row, in selection order."""
    head = [
        "| test | profile | opt-in | trials | passed | failed | skipped | xfailed/xpassed "
        "| duplicated calcs | lost calcs | median wall (s) |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    return "\n".join([*head, *(table_row(row, trials) for row, trials in results.items())])


def package_version(name: str) -> str:
    """Installed version of a distribution (``not installed`` when missing)."""
    try:
        return version(name)
    except PackageNotFoundError:
        return "not installed"


def git_commit() -> str:
    """HEAD of this tree, ``-dirty`` when it has uncommitted changes."""

    def git(*args: str) -> str:
        run = subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True)
        return run.stdout.strip()

    return git("rev-parse", "--short=12", "HEAD") + ("-dirty" if git("status", "--short") else "")


def now() -> str:
    """Local time with its UTC offset, to the second."""
    return datetime.datetime.now().astimezone().isoformat(timespec="seconds")


def header(argv: list[str], started: str, load_start: tuple[float, ...]) -> str:
    """Where and on what the table was measured (read at the end, after the trials)."""
    load = "/".join(f"{value:.2f}" for value in load_start)
    load_end = "/".join(f"{value:.2f}" for value in os.getloadavg())
    versions = ", ".join(f"{name} {package_version(name)}" for name in PACKAGES)
    lines = ["# Fault tests: pass rates", "", f"- date: {started} to {now()}"]
    lines += [f"- host: {socket.gethostname()} ({os.cpu_count()} CPUs)"]
    lines += [f"- versions: {versions}, Python {sys.version.split()[0]}"]
    lines += [f"- git commit: {git_commit()}"]
    lines += [f"- load average (1/5/15 min): {load} at start, {load_end} at end"]
    lines += [f"- command: `benchmarks/faults.py {' '.join(argv)}`"]
    return "\n".join(lines)


FOOTNOTE = """
Each trial is one `pytest -m "" <test>` process; wall time is that whole process (profile
set-up included). failed includes set-up/tear-down errors and timeouts. duplicated calcs:
CalcJobs that ran again (same inputs hashed twice, unused twins, submit-window re-runs);
lost calcs: of the 15 calculations of the study, those without a finished-OK run; both
summed over the trials, `–` for tests that do not account for a whole study."""


def parse_args(argv: list[str]) -> argparse.Namespace:
    """Options, checked: each bad value is one line naming its option (exit 2)."""
    parser = OneLineParser(
        prog="faults.py",
        description=(__doc__ or "").splitlines()[0],
        epilog="Definitions of the columns: the docstring of benchmarks/faults.py.",
    )
    parser.add_argument("--trials", type=int, default=10, help="runs per row (default 10)")
    parser.add_argument(
        "--opt-in",
        choices=("off", "on", "both"),
        default="both",
        help="JANUS_SUBMIT_REUSE + JANUS_BROKER_GUARD off, on, or a row each (default both)",
    )
    parser.add_argument("--only", metavar="PATTERN", help="tests whose node id contains this")
    parser.add_argument("--list", action="store_true", help="print the selection, run nothing")
    parser.add_argument("-o", "--output", type=Path, help="also write the table here (.md)")
    parser.add_argument("--timeout", type=float, default=3600.0, help="s per trial (3600)")
    parser.add_argument("--keep", type=Path, help="keep each trial's junit/stdout/record here")
    args = parser.parse_args(argv)
    if args.trials < 1:
        parser.error(f"--trials must be at least 1, not {args.trials}")
    if args.timeout <= 0:
        parser.error(f"--timeout must be a positive number of seconds, not {args.timeout:g}")
    if args.output is not None and not args.output.parent.is_dir():
        parser.error(f"-o/--output: folder {args.output.parent} does not exist")
    if args.keep is not None and args.keep.exists():
        parser.error(f"--keep: {args.keep} exists already (give a new folder)")
    return args


def selection(args: argparse.Namespace) -> list[Selected]:
    """The rows the arguments select (collect-only over the fault test files)."""
    files = [FAULT_FILE]
    profiles = profiles_by_test(REPO / FAULT_FILE)
    if shutil.which("sinfo"):
        files.append(SLURM_FILE)
    else:
        print(f"faults.py: SLURM not installed: {SLURM_FILE} left out", file=sys.stderr)
    nodeids = collect(files)
    nodeids = [n for n in nodeids if n.startswith(FAULT_FILE) or n.endswith(SLURM_FAULT_TESTS)]
    rows = select(nodeids, profiles, args.opt_in, args.only)
    if not rows:
        sys.exit(f"faults.py: --only {args.only!r} selects none of {len(nodeids)} fault tests")
    return rows


def run_all(
    rows: list[Selected], args: argparse.Namespace, folder: Path
) -> dict[Selected, list[Trial]]:
    """Every row ``--trials`` times, trial by trial across rows (load drifts hit all)."""
    results: dict[Selected, list[Trial]] = {row: [] for row in rows}
    total = len(rows) * args.trials
    for trial in range(args.trials):
        for index, row in enumerate(rows):
            done = trial * len(rows) + index + 1
            result = run_trial(row, folder / f"row{index}-trial{trial}", args.timeout)
            results[row].append(result)
            notes = f" ({'; '.join(result.notes)})" if result.notes else ""
            print(
                f"[{done}/{total}] {row.nodeid} opt-in {row.opt_in}: {result.outcome} "
                f"in {result.seconds:.0f} s{notes}",
                file=sys.stderr,
                flush=True,
            )
    return results


def main(argv: list[str] | None = None) -> int:
    """Entry point: list or run the selection, print (and write) the table."""
    argv = sys.argv[1:] if argv is None else argv
    args = parse_args(argv)
    started, load_start = now(), os.getloadavg()
    rows = selection(args)
    if args.list:
        for row in rows:
            print(f"{row.nodeid}  [{row.profile}; opt-in {row.opt_in}]")
        return 0
    with tempfile.TemporaryDirectory(prefix="janus-faults-") as scratch:
        folder = args.keep or Path(scratch)
        results = run_all(rows, args, folder)
    text = "\n\n".join([header(argv, started, load_start), markdown_table(results), FOOTNOTE])
    print(text)
    if args.output is not None:
        args.output.write_text(text + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
