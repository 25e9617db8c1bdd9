"""AiiDA engine throughput and per-CalcJob overhead, per profile, side by side.

Why: the NA stage runs hundreds to thousands of snapshot SCFs. What the engine adds to
each (upload, submit, job polling, retrieve, parse, database writes) must stay small
against a pw.x run, and the daemon must keep up when many are in flight.

What runs: ``PwCalculation``s of the recorded 2-atom CdS SCF (``tests/fixtures/mock``,
the real pw.x output replayed by the mock code, so the job itself costs ~0.3 s and the
rest is engine), through the **daemon** of each profile given (e.g. the embedded
SQLite + ZeroMQ ``janus`` and a ``core.psql_dos`` + RabbitMQ one). Per profile:

- ``job``: wall time of the mock job run directly, without AiiDA (median of 5);
- ``latency``: ``--chain`` CalcJobs one after the other (submit, wait until terminated,
  next), as in one snapshot chain: overhead per CalcJob = mean latency − ``job``;
  printed also as a fraction of a 10 s pw.x run (the target is ≤ 10 %);
- ``throughput``: ``--calcs`` CalcJobs submitted at once: processes finished per minute,
  and the daemon workers' CPU time per CalcJob (from ``/proc``): on a cluster, where
  the jobs run elsewhere, this is what each snapshot costs the machine running AiiDA.

Run (after ``aiida-janus setup`` for each profile, all in one ``AIIDA_PATH``)::

    .work/venv/bin/python benchmarks/bench_engine_throughput.py \\
        --profile janus --profile janus-psql --calcs 200 --chain 20 --workers 2

Each profile is measured in a subprocess (one loaded profile per process); the daemon
of the profile is started with ``--workers`` workers and stopped afterwards.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
PW_RUN_SECONDS = 10.0  # the reference pw.x run of the target
POLL_SECONDS = 0.05


def _pw_inputs() -> dict[str, Any]:
    from aiida import orm
    from aiida_pseudo.groups.family import CutoffsPseudoPotentialFamily

    from tests.workflows.mock.test_mock import cds_pw_inputs
    from workflows.mock.codes import register_mock_code
    from workflows.setup.paths import work_dir
    from workflows.setup.pseudos import FAMILY_LABELS

    computer = orm.load_computer("localhost")
    code = register_mock_code("pw.x", computer, work_dir() / "mock-bin")
    family = orm.load_group(FAMILY_LABELS["nc"])
    assert isinstance(family, CutoffsPseudoPotentialFamily)
    inputs = cds_pw_inputs(code, family)
    inputs["metadata"]["disable_cache"] = True  # identical inputs: every one must run
    return inputs


def _direct_job_seconds(inputs: dict[str, Any], repeats: int = 5) -> float:
    """Wall time of the mock job alone: its command re-run in copies of a job folder."""
    import shutil

    from aiida.engine import run_get_node
    from aiida_quantumespresso.calculations.pw import PwCalculation

    _, node = run_get_node(PwCalculation, **inputs)
    if not node.is_finished_ok:
        sys.exit(f"the mock PwCalculation failed: see `verdi process report {node.pk}`")
    workdir = Path(node.outputs.remote_folder.get_remote_path())
    executable = str(inputs["code"].get_executable())
    times = []
    for _ in range(repeats):
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(shutil.copytree(workdir / "pseudo", Path(tmp) / "job" / "pseudo")).parent
            shutil.copy(workdir / "aiida.in", folder)
            start = time.perf_counter()
            with (folder / "aiida.out").open("w") as stdout:
                result = subprocess.run(
                    [executable, "-in", "aiida.in"],
                    cwd=folder,
                    stdout=stdout,
                    stderr=subprocess.PIPE,
                    check=False,
                )
            times.append(time.perf_counter() - start)
            if result.returncode != 0:
                sys.exit(f"mock job failed in {folder}: {result.stderr.decode()[-2000:]}")
    return statistics.median(times)


def _daemon_cpu_seconds(profile: str) -> float:
    """User + system CPU time of this profile's daemon workers so far (Linux /proc)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            command = (proc / "cmdline").read_bytes().split(b"\0")
            fields = (proc / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        words = [word.decode(errors="replace") for word in command]
        if "worker" in words and "daemon" in words and profile in words:
            total += (int(fields[11]) + int(fields[12])) / ticks
    return total


def _wait(pks: list[int | None], timeout: float) -> None:
    from aiida import orm

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done = (
            orm.QueryBuilder()
            .append(
                orm.CalcJobNode, filters={"id": {"in": pks}}, project="attributes.process_state"
            )
            .all(flat=True)
        )
        if all(state in ("finished", "excepted", "killed") for state in done):
            return
        time.sleep(POLL_SECONDS)
    raise TimeoutError(f"{len(pks)} CalcJobs not terminated after {timeout:.0f} s")


def measure_profile(profile: str, calcs: int, chain: int, workers: int) -> dict[str, Any]:
    """Everything for one profile, in this process."""
    from aiida import load_profile, orm
    from aiida.engine import submit
    from aiida.engine.daemon.client import get_daemon_client
    from aiida_quantumespresso.calculations.pw import PwCalculation

    load_profile(profile, allow_switch=True)
    inputs = _pw_inputs()
    job = _direct_job_seconds(inputs)
    client = get_daemon_client()
    if client.is_daemon_running:
        client.stop_daemon(wait=True)
    client.start_daemon(number_workers=workers)
    try:
        latencies = []
        for _ in range(chain):
            start = time.perf_counter()
            node = submit(PwCalculation, **inputs)
            _wait([node.pk], 300)
            latencies.append(time.perf_counter() - start)
            assert orm.load_node(node.pk).is_finished_ok, f"CalcJob {node.pk} failed"
        cpu_before = _daemon_cpu_seconds(profile)
        start = time.perf_counter()
        pks = [submit(PwCalculation, **inputs).pk for _ in range(calcs)]
        submitted = time.perf_counter() - start
        _wait(pks, 3600)
        wall = time.perf_counter() - start
        daemon_cpu = _daemon_cpu_seconds(profile) - cpu_before
        failed = [pk for pk in pks if not orm.load_node(pk).is_finished_ok]
    finally:
        client.stop_daemon(wait=True)
    latency = statistics.mean(latencies[1:] if len(latencies) > 1 else latencies)
    return {
        "profile": profile,
        "storage": orm.load_computer("localhost").backend.__class__.__name__,
        "job_s": job,
        "latency_s": latency,
        "overhead_s": latency - job,
        "overhead_of_10s_pw": (latency - job) / PW_RUN_SECONDS,
        "calcs": calcs,
        "submit_s": submitted,
        "wall_s": wall,
        "per_minute": 60.0 * calcs / wall,
        "daemon_cpu_per_calc_s": daemon_cpu / calcs,
        "failed": len(failed),
    }


def _measure_child(profile: str, calcs: int, chain: int, workers: int) -> None:
    """One profile, in this process; a profile that cannot be used exits with why."""
    from aiida.common.exceptions import ConfigurationError, UnreachableStorage

    try:
        print(json.dumps(measure_profile(profile, calcs, chain, workers)))
    except UnreachableStorage as error:
        sys.exit(
            f"its storage cannot be reached ({str(error).splitlines()[0]}). Start the database "
            f"server: `aiida-janus setup --profile {profile} --storage postgresql` starts a "
            "local PostgreSQL and RabbitMQ again."
        )
    except ConfigurationError as error:
        sys.exit(f"{error}. Create it first: `aiida-janus setup --profile {profile}`.")


def main() -> None:
    """Measure each profile in its own subprocess, then print them side by side."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--profile", action="append", required=True)
    parser.add_argument("--calcs", type=int, default=200)
    parser.add_argument("--chain", type=int, default=20)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _measure_child(args.profile[0], args.calcs, args.chain, args.workers)
        return
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    rows: list[dict[str, Any]] = []
    failures: list[str] = []
    for profile in args.profile:
        command = [sys.executable, __file__, "--child", "--profile", profile]
        command += ["--calcs", str(args.calcs), "--chain", str(args.chain)]
        command += ["--workers", str(args.workers)]
        output = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
        if output.returncode != 0:  # measure the other profiles anyway
            failures.append(f"profile {profile} not measured: {output.stderr.strip()[-3000:]}")
            continue
        rows.append(json.loads(output.stdout.strip().splitlines()[-1]))
    print(
        f"{'profile':<14}{'storage':<16}{'job s':>7}{'latency s':>11}{'overhead s':>12}"
        f"{'of 10 s pw':>12}{'calcs':>7}{'wall s':>8}{'per min':>9}{'CPU s/calc':>12}{'failed':>8}"
    )
    for row in rows:
        print(
            f"{row['profile']:<14}{row['storage']:<16}{row['job_s']:7.2f}{row['latency_s']:11.2f}"
            f"{row['overhead_s']:12.2f}{100 * row['overhead_of_10s_pw']:11.1f}%"
            f"{row['calcs']:7d}{row['wall_s']:8.1f}{row['per_minute']:9.1f}"
            f"{row['daemon_cpu_per_calc_s']:12.2f}{row['failed']:8d}"
        )
    if len(rows) == 2:
        first, second = rows
        print(
            f"ratios {second['profile']}/{first['profile']}: throughput "
            f"{second['per_minute'] / first['per_minute']:.2f}x, overhead "
            f"{second['overhead_s'] / first['overhead_s']:.2f}x"
        )
    if failures:
        sys.exit("\n".join(failures))


if __name__ == "__main__":
    main()
