"""Faults survived: daemon SIGKILLed mid-study, broker restarted under load, pw.x killed.

Each test runs the tiny mock study of ``test_pipeline.py`` without its alignment series
(15 CalcJobs replaying real QE recordings) through a **real daemon** of a throw-away
profile made by ``tests/workflows/fault_study.py`` in its own folder, breaks something
while CalcJobs are in flight, and checks that the study still finishes with every
calculation done and nothing lost, and that every calculation beyond the 15 of an
uninterrupted run is accounted for in the provenance graph (see
``_assert_every_calculation_accounted``). The daemon is started as users start it,
``aiida-janus daemon start``: its workers carry the engine repairs from their first task.
The opt-in parts (``JANUS_SUBMIT_REUSE``, ``JANUS_BROKER_GUARD``) are off unless a test
turns them on (``workflows/engine/daemon_worker.py``) or ``JANUS_FAULT_OPT_IN=on`` turns
both on; ``JANUS_FAULT_RECORD_DIR`` makes each accounted study write a JSON record
(``tests/workflows/fault_record.py``), both for ``benchmarks/faults.py``.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import require_executable
from tests.workflows.fault_record import opt_in_requested, submit_window_runs, write_record
from workflows.setup.paths import work_dir

REPO = Path(__file__).resolve().parents[2]
PROFILE = "faults"
# bulk vc-relax ×2, interface relax, scf, nscf, projwfc, pp potential, route 2 reference
# scf + pp ×2, pp IS/FS ×2, MD ×2
EXPECTED_CALCJOBS = 15
OPT_IN = ("JANUS_SUBMIT_REUSE", "JANUS_BROKER_GUARD")
STUDY_TIMEOUT_S = 900.0
TWIN_SETTLE_S = 300.0
"""Seconds a twin still running when its study ended gets to end on its own: a tiny
study's CalcJob runs for seconds, so a live twin needs one scheduler poll and its run."""


class FaultProfile:
    """Commands against the throw-away profile, each in its own process."""

    def __init__(self, folder: Path, storage: str = "sqlite") -> None:
        bin_dir = str(Path(sys.executable).parent)
        self.folder = folder
        self.storage = storage
        self.env = {
            **os.environ,
            "JANUS_WORK_DIR": str(folder),
            "AIIDA_PATH": str(folder / "aiida"),
            "PYTHONPATH": str(REPO),
            "PATH": f"{bin_dir}:{os.environ['PATH']}",
        }
        for name in ("JANUS_MOCK_RECORD", *OPT_IN):
            self.env.pop(name, None)
        if opt_in_requested():
            self.opt_in(*OPT_IN)

    def opt_in(self, *names: str) -> None:
        """Switch opt-in parts on for the daemons started from now on."""
        self.env.update(dict.fromkeys(names, "1"))

    def opted_in(self) -> list[str]:
        """The opt-in parts on for the daemons started from now on."""
        return [name for name in OPT_IN if self.env.get(name) == "1"]

    def driver(self, *args: str) -> str:
        return self._run([sys.executable, "-m", "tests.workflows.fault_study", *args])

    def janus(self, *args: str) -> str:
        return self._run([str(Path(sys.executable).parent / "aiida-janus"), *args])

    def verdi(self, *args: str) -> str:
        return self._run([str(Path(sys.executable).parent / "verdi"), "-p", PROFILE, *args])

    def _run(self, command: list[str]) -> str:
        result = subprocess.run(
            command, env=self.env, cwd=REPO, capture_output=True, text=True, check=False
        )
        if result.returncode != 0:
            raise AssertionError(f"{' '.join(command)} failed:\n{result.stdout}\n{result.stderr}")
        return result.stdout

    def status(self, pk: int) -> dict[str, Any]:
        status: dict[str, Any] = json.loads(self.driver("status", str(pk)).strip().splitlines()[-1])
        return status

    def wait(self, pk: int, done: Any, timeout: float) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            status = self.status(pk)
            if done(status):
                return status
            time.sleep(1.0)
        raise AssertionError(f"study <{pk}> not there after {timeout:.0f} s: {self.status(pk)}")

    def study_in_flight(self, workers: int) -> int:
        """Start the daemon, submit the tiny study, return its pk once 4 CalcJobs exist.

        The faults are injected at that point: CalcJobs are being uploaded and run, and
        most of the study is still ahead.
        """
        self.janus("daemon", "start", "--profile", PROFILE, "--workers", str(workers))
        pk = int(self.driver("submit").strip().splitlines()[-1])
        before = self.wait(pk, lambda s: s["calcjobs"] >= 4, STUDY_TIMEOUT_S)
        assert before["state"] != "finished", "the study ended before the fault: make it longer"
        return pk

    def wait_terminated(self, pk: int) -> dict[str, Any]:
        """The study's status once it and every CalcJob below it are terminated.

        A twin launched again after a kill (``_assert_every_calculation_accounted``) runs
        beside the one its caller awaits and may still be running when the study ends
        (1 of 10 trials on 2026-12-06: 16 CalcJobs, 15 terminated). It is given
        :data:`TWIN_SETTLE_S` more to end on its own; a twin still active then is left in
        the status (``unterminated``: label, pk, state, whether its task is queued).
        """
        ended = ("finished", "excepted", "killed")
        self.wait(pk, lambda s: s["state"] in ended, STUDY_TIMEOUT_S)
        deadline = time.monotonic() + TWIN_SETTLE_S
        while time.monotonic() < deadline:
            status = self.status(pk)
            if status["calcjobs_terminated"] == status["calcjobs"]:
                return status
            time.sleep(2.0)
        return self.status(pk)

    def daemon_log(self) -> str:
        """The daemon workers' log of this profile."""
        path = self.folder / "aiida" / ".aiida" / "daemon" / "log" / f"aiida-{PROFILE}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def daemon_pids(self) -> list[int]:
        """Circus, broker and workers of this profile's daemon (Linux /proc)."""
        marker = str(self.folder).encode()
        pids = []
        for proc in Path("/proc").iterdir():
            if not proc.name.isdigit():
                continue
            try:
                command = (proc / "cmdline").read_bytes()
                environ = (proc / "environ").read_bytes()
            except OSError:
                continue
            worker = b"verdi" in command or b"workflows.engine.daemon_worker" in command
            ours = (b"daemon" in command and worker) or b"circus" in command
            if ours and marker in environ:
                pids.append(int(proc.name))
        return pids

    def worker_pids(self) -> list[int]:
        """The daemon workers alone (``... daemon worker``; not circus or its stats process)."""
        pids = []
        for pid in self.daemon_pids():
            with contextlib.suppress(OSError):
                if Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[-2:-1] == [b"worker"]:
                    pids.append(pid)
        return pids

    def stop_daemon(self) -> None:
        """Stop the daemon if it runs; kill what a timed-out stop leaves behind."""
        if not self.daemon_pids():
            return
        with contextlib.suppress(AssertionError):
            self.verdi("daemon", "stop")
        if self.daemon_pids():
            self.kill_daemon(required=False)

    def kill_daemon(self, required: bool = True) -> None:
        """SIGKILL every daemon process and wait until they are gone. ``required``: a test
        that kills the daemon needs one running; the teardown after ``daemon stop`` does not
        (its processes may exit between two looks at /proc, as in one CI run here)."""
        pids = self.daemon_pids()
        assert pids or not required, "no daemon process to kill"
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 30
        while any(Path(f"/proc/{pid}").exists() for pid in pids):
            assert time.monotonic() < deadline, f"daemon processes {pids} survive SIGKILL"
            time.sleep(0.2)


def _fault_profile(folder: Path, storage: str) -> FaultProfile:
    require_executable("ld1.x")
    profile = FaultProfile(folder, storage)
    generated = work_dir() / "pseudos"
    if generated.is_dir():  # skip regenerating the UPF files (ld1.x, ~10 s)
        shutil.copytree(generated, profile.folder / "pseudos")
    profile.driver("setup", storage)
    return profile


@pytest.fixture
def sqlite_profile(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FaultProfile]:
    """The embedded kind of profile (SQLite + ZeroMQ broker), with codes and pseudos."""
    profile = _fault_profile(tmp_path_factory.mktemp("faults"), "sqlite")
    yield profile
    profile.stop_daemon()


@pytest.fixture
def production_profile(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FaultProfile]:
    """PostgreSQL + RabbitMQ (local servers, installed and started as root if missing)."""
    if os.geteuid() != 0 and not shutil.which("rabbitmq-diagnostics"):
        pytest.skip("PostgreSQL/RabbitMQ missing and not root: cannot install them")
    try:
        profile = _fault_profile(tmp_path_factory.mktemp("faults-psql"), "postgresql")
    except AssertionError as error:  # servers that cannot be installed/started here
        pytest.skip(f"no local PostgreSQL/RabbitMQ: {str(error)[-300:]}")
    yield profile
    profile.stop_daemon()
    profile.driver("teardown")


def _assert_every_calculation_accounted(
    status: dict[str, Any], profile: FaultProfile, submit_window: bool = False
) -> None:
    """The study finished OK, nothing lost, and every extra CalcJob is one of two known kinds.

    - a **twin**: a step re-run after the kill launched its child again (the workchain's
      checkpoint did not yet record the first launch). Both run to the end; the caller
      uses exactly one, whose outputs it returns or a later step reads, and the other's
      outputs are used by nothing (``fault_study._twins``). If the first child's task
      never reached the broker, it never runs: its caller marks it KILLED as stranded
      when it terminates (``workflows/engine/stranded.py``), so it stays in provenance
      but not among the active processes. With ``JANUS_SUBMIT_REUSE`` on, a twin is
      avoided when the first child's task is still queued.
    - ``submit_window``: aiida-core's submit window (a job started before its job id was
      written is submitted again after the restart; the second run fails on the first
      run's files, exit 312, and the restart handler runs it once more). Each such case
      must show as exactly that: one failed CalcJob with exit 312 and one handler re-run.

    Any other extra CalcJob, a twin group whose results are used twice or not at all, or a
    lost calculation fails the test. With ``JANUS_FAULT_RECORD_DIR`` set, the counts are
    written there first (``tests/workflows/fault_record.py``).
    """
    record = write_record(
        status, storage=profile.storage, opt_in=profile.opted_in(), expected=EXPECTED_CALCJOBS
    )
    if record is not None:  # the daemon log beside it: a failed trial can be traced later
        record.with_suffix(".daemon.log").write_text(profile.daemon_log(), encoding="utf-8")
    shown = json.dumps(status, indent=1)  # in full: pytest shortens a dict message
    print(shown)  # for the tallies (`pytest -rP`): e.g. how often a repair fired
    interrupted = submit_window_runs(status)
    if not submit_window:
        assert interrupted == 0, shown
    assert status["finished_ok"], shown
    assert status["calcjobs_terminated"] == status["calcjobs"], shown
    assert status["twin_groups_not_one_used"] == 0, shown
    orphaned, stranded = status["orphaned_calcjobs"], status["stranded_calcjobs"]
    assert status["calcjobs"] == EXPECTED_CALCJOBS + interrupted + orphaned + stranded, shown
    assert status["base_restarts"] == interrupted, shown
    assert status["duplicated_inputs"] <= interrupted + orphaned, shown
    if interrupted or orphaned or stranded:
        warnings.warn(
            f"{orphaned} CalcJob(s) run twice as unused twins of a re-run step, {stranded} "
            f"twin(s) never run and marked KILLED as stranded, {interrupted} submitted twice "
            "across the kill (aiida-core submit window) and run once more",
            stacklevel=2,
        )


@pytest.mark.slow  # 2-4 min a trial; 10/10 on 2026-12-06 (docs/faults/): `make pytest-slow`
@pytest.mark.daemon
@pytest.mark.parametrize("opt_in", [(), ("JANUS_SUBMIT_REUSE",)], ids=["default", "submit-reuse"])
def test_daemon_sigkilled_mid_study_resumes_every_calculation(
    sqlite_profile: FaultProfile, opt_in: tuple[str, ...]
) -> None:
    """SIGKILL circus, broker and worker while CalcJobs start; restart; nothing lost.

    Killing as CalcJobs start often lands in aiida-core's window between an upload and
    the link of its ``remote_folder`` (``remote_folders_restored`` in the status counts
    the CalcJobs that ``workflows/engine/repairs.py`` mended; before the repair, 4 of 10
    runs failed there with PwBaseWorkChain exit 11 and study exit 401). What may run
    twice, shown in the status and asserted exactly: a twin of a step re-run after the
    kill (fewer with ``JANUS_SUBMIT_REUSE``, ``children_reused`` counts them), and
    aiida-core's submit window (1 of 8 runs on 2026-11-26).
    """
    profile = sqlite_profile
    profile.opt_in(*opt_in)
    pk = profile.study_in_flight(workers=1)
    profile.kill_daemon()
    # The product's restart clears the killed broker's files (workflows/engine/daemon_start.py);
    # plain
    # `verdi daemon start` hung in 2 of 4 trials here, workers on the dead broker socket.
    restarted = profile.janus("daemon", "start", "--profile", PROFILE)
    assert "cleared stale broker files" in restarted
    after = profile.wait_terminated(pk)
    _assert_every_calculation_accounted(after, profile, submit_window=True)
    if "JANUS_SUBMIT_REUSE" not in profile.opted_in():
        assert after["children_reused"] == 0, "submit re-use is off by default"


@pytest.mark.daemon
def test_a_fresh_worker_repairs_its_first_task(sqlite_profile: FaultProfile) -> None:
    """A PwCalculation left in window 1 is the first task of a fresh worker.

    Reference: the same case under plain ``verdi daemon start`` (aiida-core alone, no
    janus module loaded by the worker), which finishes OK without ``remote_folder``.
    """
    profile = sqlite_profile
    profile.verdi("daemon", "start", "1")
    plain, janus = (int(profile.driver("window1").split()[-1]) for _ in range(2))
    profile.driver("revive", str(plain))
    unrepaired = profile.wait(plain, lambda s: s["state"] == "finished", STUDY_TIMEOUT_S)
    profile.stop_daemon()
    profile.janus("daemon", "start", "--profile", PROFILE)
    profile.driver("revive", str(janus))
    profile.wait(janus, lambda s: s["state"] == "finished", STUDY_TIMEOUT_S)
    plain_job = json.loads(profile.driver("calcjob", str(plain)).splitlines()[-1])
    janus_job = json.loads(profile.driver("calcjob", str(janus)).splitlines()[-1])
    shown = json.dumps({"plain": plain_job, "janus": janus_job}, indent=1)
    assert unrepaired["state"] == "finished"
    assert plain_job["exit_status"] == 0, shown
    assert "remote_folder" not in plain_job["outputs"], shown
    assert janus_job["exit_status"] == 0, shown
    assert janus_job["remote_path"] == janus_job["workdir"], shown
    assert sum("restored the `remote_folder`" in line for line in janus_job["log"]) == 1, shown
    assert "janus daemon worker" in profile.daemon_log()


def _restart_rabbitmq() -> None:
    """Stop and start the RabbitMQ application (queues are durable, connections drop)."""
    for action in ("stop_app", "start_app"):
        subprocess.run(["rabbitmqctl", "-q", action], check=True, capture_output=True)
    subprocess.run(["rabbitmqctl", "-q", "await_startup"], check=True, capture_output=True)


@pytest.mark.slow  # 2 min a trial; 10/10 on 2026-12-06 (docs/faults/): `make pytest-slow`
@pytest.mark.daemon
def test_rabbitmq_restarted_under_load_with_the_guard_loses_no_process(
    production_profile: FaultProfile,
) -> None:
    """A raw broker restart under a daemon with ``JANUS_BROKER_GUARD=1``: nothing lost.

    Without ``workflows/engine/broker_guard.py`` (the default), RabbitMQ redelivers the tasks of
    the dropped connections while their workers still run them (aiida-core #1748): on
    2026-11-26, 1 of 5 runs lost a process (a second instance of a PwBaseWorkChain
    excepted on its RETURN link, study exit 401) and 1 ran 24 CalcJobs for 15; the
    supported path is ``aiida-janus daemon restart-broker`` (next test). With the guard,
    each worker whose connection the broker drops stops as on ``verdi daemon stop``, and
    circus starts a new one once the broker answers: what may then run twice is what a
    stop mid-step allows (twins of a re-run step, aiida-core's submit window), asserted
    exactly. This guard passed 10 of 10 trials, the first one (``os.execv``, a kill) 8 of 10
    (2026-12-06, docs/faults/).
    """
    profile = production_profile
    profile.opt_in("JANUS_BROKER_GUARD")
    pk = profile.study_in_flight(workers=2)
    _restart_rabbitmq()
    after = profile.wait_terminated(pk)
    assert "broker connection lost" in profile.daemon_log(), "the guard did not restart workers"
    _assert_every_calculation_accounted(after, profile, submit_window=True)


def _until(condition: Any, timeout_s: float, what: str) -> Any:
    """Poll ``condition()`` every 0.5 s until it is truthy; fail naming ``what``."""
    deadline = time.monotonic() + timeout_s
    while not (value := condition()):
        assert time.monotonic() < deadline, f"{what}: not after {timeout_s:.0f} s"
        time.sleep(0.5)
    return value


@pytest.mark.slow  # 4.3 min beside a pw.x run (set-up included): `make pytest-slow`
@pytest.mark.daemon
def test_the_guard_stops_a_dropped_worker_and_its_successor_waits_for_the_broker(
    production_profile: FaultProfile,
) -> None:
    """The mechanism of ``workflows/engine/broker_guard.py`` on a real daemon, no study.

    RabbitMQ's application is stopped (its connections close with CONNECTION_FORCED and
    its port refuses): the worker must end by itself (SIGTERM to itself, aiida-core's
    shutdown), circus must start another, and that one must not start its worker (no
    "installed" line in the log) until the broker is back.
    """
    profile = production_profile
    profile.opt_in("JANUS_BROKER_GUARD")
    profile.janus("daemon", "start", "--profile", PROFILE, "--workers", "1")
    log_line = "janus daemon worker {}: installed"
    (first,) = _until(profile.worker_pids, 60, "no daemon worker")
    _until(lambda: log_line.format(first) in profile.daemon_log(), 120, "worker not started")
    try:
        subprocess.run(["rabbitmqctl", "-q", "stop_app"], check=True, capture_output=True)
        _until(lambda: not Path(f"/proc/{first}").exists(), 60, f"worker {first} still runs")
        (second,) = _until(profile.worker_pids, 60, "circus started no new worker")
        time.sleep(5.0)  # the broker is down: the new worker must still be waiting
        assert log_line.format(second) not in profile.daemon_log()
    finally:
        _restart_rabbitmq()
    _until(lambda: log_line.format(second) in profile.daemon_log(), 120, "worker never started")
    assert "broker connection lost" in profile.daemon_log()
    assert "'broker_guard': True" in profile.daemon_log().split(log_line.format(second))[-1]


@pytest.mark.slow  # 2-4 min a trial; 10/10 on 2026-12-06 (docs/faults/): `make pytest-slow`
@pytest.mark.daemon
def test_rabbitmq_restarted_with_the_safe_command_runs_every_calculation_once(
    production_profile: FaultProfile,
) -> None:
    """`aiida-janus daemon restart-broker` under load: no step re-run, nothing lost."""
    profile = production_profile
    pk = profile.study_in_flight(workers=2)
    restarted = profile.janus("daemon", "restart-broker", "--profile", PROFILE)
    assert "running again with 2 worker(s)" in restarted
    after = profile.wait_terminated(pk)
    _assert_every_calculation_accounted(after, profile)


def _kill_first_pw_run(scratch: Path, after_s: float, killed: list[int]) -> None:
    """SIGKILL the first pw.x that runs under ``scratch`` once it has run ``after_s``."""
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        for proc in Path("/proc").iterdir():
            if not proc.name.isdigit():
                continue
            try:
                command = (proc / "cmdline").read_bytes().split(b"\0")
                cwd = os.readlink(proc / "cwd")
            except OSError:
                continue
            if command and command[0].endswith(b"pw.x") and cwd.startswith(str(scratch)):
                time.sleep(after_s)
                os.kill(int(proc.name), signal.SIGKILL)
                killed.append(int(proc.name))
                return
        time.sleep(0.05)


@pytest.mark.real_qe
def test_pw_killed_mid_run_is_restarted_once(
    real_code: Any, pseudo_family: Any, janus_test_dir: Path
) -> None:
    """A pw.x killed by a signal: the SCF fails, PwBaseWorkChain runs it again and succeeds."""
    import threading

    from aiida.engine import run_get_node
    from aiida.orm import CalcJobNode, StructureData
    from ase.build import bulk

    from workflows.inputs.pw_builders import pw_base_builder

    pseudo_family("nc")
    structure = StructureData(ase=bulk("CdS", "zincblende", a=5.832))
    builder = pw_base_builder(
        real_code("pw.x"),
        structure,
        flavour="nc",
        overrides={"pw": {"parameters": {"ELECTRONS": {"conv_thr": 1e-11}}}},
    )
    builder["pw"]["metadata"]["options"] = {
        "resources": {"num_machines": 1},
        "max_wallclock_seconds": 600,
        "withmpi": False,
    }
    killed: list[int] = []
    killer = threading.Thread(
        target=_kill_first_pw_run, args=(janus_test_dir / "scratch", 1.0, killed), daemon=True
    )
    killer.start()
    _, node = run_get_node(builder)
    killer.join(timeout=5)
    assert killed, "pw.x finished before it could be killed: make the SCF longer"
    calcs = [child for child in node.called if isinstance(child, CalcJobNode)]
    assert len(calcs) == 2, [c.exit_status for c in calcs]
    first, second = sorted(calcs, key=lambda c: c.ctime)
    assert first.is_failed, "the killed run must fail, not pass with a truncated output"
    assert second.is_finished_ok
    assert node.is_finished_ok, node.exit_message
    assert node.inputs.on_unhandled_failure.value == "restart_once"


def _mount(*args: str) -> None:
    result = subprocess.run(["mount", *args], capture_output=True, text=True, check=False)
    if result.returncode != 0:
        # Needs root with CAP_SYS_ADMIN (true on the project machine and in its CI).
        pytest.skip(f"cannot mount here: {result.stderr.strip()}")


def _umount(path: Path) -> None:
    subprocess.run(["umount", str(path)], capture_output=True, check=False)


def _storage_dir(profile: FaultProfile) -> Path:
    return profile.folder / "aiida" / "storage" / PROFILE


def _refused_run(profile: FaultProfile, *messages: str, **env: str) -> None:
    """``aiida-janus run`` fails with every one of ``messages`` and no traceback."""
    command = [str(Path(sys.executable).parent / "aiida-janus"), "run", "--profile", PROFILE]
    command += ["--computer", "localhost"]
    result = subprocess.run(
        command, env={**profile.env, **env}, capture_output=True, text=True, check=False
    )
    assert result.returncode != 0
    for message in messages:
        assert message in result.stderr, result.stderr
    assert "Traceback" not in result.stderr


def _node_count(profile: FaultProfile) -> int:
    return int(profile.driver("count").strip().splitlines()[-1])


@pytest.fixture
def full_disk_profile(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FaultProfile]:
    """An embedded profile whose storage lives on a 64 MB tmpfs."""
    folder = tmp_path_factory.mktemp("faults-full")
    storage = folder / "aiida" / "storage" / PROFILE
    storage.mkdir(parents=True)
    _mount("-t", "tmpfs", "-o", "size=64m", "tmpfs", str(storage))
    try:
        yield _fault_profile(folder, "sqlite")
    finally:
        _umount(storage)


@pytest.mark.daemon
def test_full_disk_gives_a_clear_error_and_stores_nothing(
    full_disk_profile: FaultProfile,
) -> None:
    profile = full_disk_profile
    storage = _storage_dir(profile)
    nodes_before = _node_count(profile)
    filler = storage / "filler.bin"
    free = shutil.disk_usage(storage).free
    with filler.open("wb") as handle:  # leave ~16 kB: too little for the inputs of a study
        handle.truncate(0)
        handle.write(b"\0" * max(0, free - 16 * 1024))
    _refused_run(profile, "MB free, less than the", str(storage))
    # Past the check (threshold 0): the write itself fails, with the same kind of message.
    _refused_run(profile, "is full", "nothing was stored", JANUS_MIN_FREE_MB="0")
    filler.unlink()
    assert _node_count(profile) == nodes_before


@pytest.mark.daemon
def test_read_only_repository_gives_a_clear_error_and_stores_nothing(
    sqlite_profile: FaultProfile,
) -> None:
    profile = sqlite_profile
    storage = _storage_dir(profile)
    nodes_before = _node_count(profile)
    _mount("--bind", str(storage), str(storage))
    try:
        _mount("-o", "remount,ro,bind", str(storage))
        _refused_run(profile, "read-only file system", str(storage))
    finally:
        _umount(storage)
    assert _node_count(profile) == nodes_before
