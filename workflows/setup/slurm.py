"""A real single-node SLURM on this machine, for the cluster path and its tests.

The cluster path (``profiles/computer-slurm.yaml``, AiiDA's ``core.slurm`` scheduler) is
tested against a genuine ``slurmctld`` + ``slurmd`` pair rather than a fake ``sbatch``:
job submission, ``squeue`` polling and job ids are then exactly what a cluster gives.

Debian's ``slurm-wlm`` and ``munge`` are installed when missing (as root). The daemons run
as root with process tracking that needs no cgroups (``proctrack/linuxproc``,
``task/none``), so it works in containers. State, spool, pid and log files live in
``<work folder>/slurm``; only ``/etc/slurm/slurm.conf`` sits where the client commands
(``sbatch``, ``squeue``, ``sinfo``) look for it, and a foreign one is never overwritten.
Everything is idempotent; :func:`stop_slurm` ends only the daemons this module started.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from workflows.setup.paths import work_dir

SLURM_PACKAGES = ("slurm-wlm", "munge")
SLURM_CONF_PATH = Path("/etc/slurm/slurm.conf")
MANAGED_MARKER = "# Written by aiida-janus (workflows/setup/slurm.py); safe to overwrite."
CLUSTER_NAME = "janus"
PARTITION_NAME = "janus"
MUNGE_RUN_DIR = Path("/run/munge")
MUNGE_STARTED_FLAG = "munged.started-by-janus"
MEMORY_FRACTION = 0.9
IDLE_STATES = frozenset({"idle", "mixed", "allocated"})


class SlurmSetupError(RuntimeError):
    """SLURM could not be installed, configured or started; the message says what to do."""


@dataclass(frozen=True)
class SlurmLayout:
    """Folders of the local SLURM inside the work folder."""

    root: Path

    @property
    def state_dir(self) -> Path:
        """``StateSaveLocation`` of slurmctld."""
        return self.root / "state"

    @property
    def spool_dir(self) -> Path:
        """``SlurmdSpoolDir`` of slurmd."""
        return self.root / "spool"

    @property
    def log_dir(self) -> Path:
        """Daemon log files and pid files."""
        return self.root / "log"

    def pid_file(self, daemon: str) -> Path:
        """Pid file of ``slurmctld`` or ``slurmd``."""
        return self.log_dir / f"{daemon}.pid"

    def log_file(self, daemon: str) -> Path:
        """Log file of ``slurmctld`` or ``slurmd``."""
        return self.log_dir / f"{daemon}.log"


@dataclass(frozen=True)
class SlurmNode:
    """The one compute node: this machine, its cores and memory (MB)."""

    name: str
    cpus: int
    real_memory_mb: int


@dataclass(frozen=True)
class SlurmStatus:
    """Outcome of :func:`start_slurm`: node state, daemons started now, seconds taken."""

    node: str
    state: str
    started: tuple[str, ...]
    seconds: float


def slurm_layout(root: Path | None = None) -> SlurmLayout:
    """Layout under ``root`` (default ``<work folder>/slurm``), folders created."""
    layout = SlurmLayout(root or work_dir() / "slurm")
    for folder in (layout.state_dir, layout.spool_dir, layout.log_dir):
        folder.mkdir(parents=True, exist_ok=True)
    return layout


def local_node() -> SlurmNode:
    """This machine as a SLURM node: hostname, ``nproc`` CPUs, 90 % of MemTotal (MB)."""
    memory_kb = 1024 * 1024
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            memory_kb = int(line.split()[1])
    return SlurmNode(
        name=socket.gethostname().split(".")[0],
        cpus=os.cpu_count() or 1,
        real_memory_mb=max(1, int(MEMORY_FRACTION * memory_kb / 1024)),
    )


def render_slurm_conf(node: SlurmNode, layout: SlurmLayout) -> str:
    """``slurm.conf`` for one node without cgroups, accounting or a separate SLURM user."""
    settings = {
        "ClusterName": CLUSTER_NAME,
        "SlurmctldHost": f"{node.name}(127.0.0.1)",
        "SlurmUser": "root",
        "SlurmdUser": "root",
        "AuthType": "auth/munge",
        "ProctrackType": "proctrack/linuxproc",
        "TaskPlugin": "task/none",
        "SelectType": "select/cons_tres",
        "SelectTypeParameters": "CR_CPU",
        "MpiDefault": "none",
        "JobAcctGatherType": "jobacct_gather/none",
        "AccountingStorageType": "accounting_storage/none",
        "ReturnToService": "2",
        "SchedulerType": "sched/backfill",
        "StateSaveLocation": str(layout.state_dir),
        "SlurmdSpoolDir": str(layout.spool_dir),
        "SlurmctldPidFile": str(layout.pid_file("slurmctld")),
        "SlurmdPidFile": str(layout.pid_file("slurmd")),
        "SlurmctldLogFile": str(layout.log_file("slurmctld")),
        "SlurmdLogFile": str(layout.log_file("slurmd")),
        "SlurmctldTimeout": "30",
        "SlurmdTimeout": "60",
        "InactiveLimit": "0",
        "MinJobAge": "300",
        "KillWait": "5",
        "Waittime": "0",
    }
    lines = [MANAGED_MARKER, *(f"{key}={value}" for key, value in settings.items())]
    lines.append(
        f"NodeName={node.name} NodeAddr=127.0.0.1 CPUs={node.cpus} "
        f"RealMemory={node.real_memory_mb} State=UNKNOWN"
    )
    lines.append(
        f"PartitionName={PARTITION_NAME} Nodes={node.name} Default=YES MaxTime=INFINITE State=UP"
    )
    return "\n".join(lines) + "\n"


def write_slurm_conf(text: str, path: Path = SLURM_CONF_PATH) -> Path:
    """Write ``slurm.conf`` unless a configuration not written by us is already there."""
    if path.exists() and not path.read_text().startswith(MANAGED_MARKER):
        raise SlurmSetupError(
            f"{path} exists and was not written by aiida-janus: this machine already has a "
            "SLURM configuration; use it with profiles/computer-slurm.yaml directly, or move "
            "the file away to let `aiida-janus slurm-up` write its own"
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def _missing_executables() -> list[str]:
    names = ("slurmctld", "slurmd", "sinfo", "sbatch", "munged", "munge")
    return [name for name in names if shutil.which(name) is None]


def ensure_slurm_packages() -> None:
    """Install ``slurm-wlm`` and ``munge`` with apt when missing (root only)."""
    if not _missing_executables():
        return
    if os.geteuid() != 0:
        raise SlurmSetupError(
            f"{', '.join(_missing_executables())} not found: install them with "
            "`sudo apt-get install -y slurm-wlm munge` (or run `aiida-janus slurm-up` as root)"
        )
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    apt_install = ["apt-get", "install", "-y", "-qq", "--no-install-recommends"]
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=env, capture_output=True)
    subprocess.run([*apt_install, *SLURM_PACKAGES], check=True, env=env, capture_output=True)
    if _missing_executables():
        raise SlurmSetupError(f"apt installed SLURM but {_missing_executables()} are missing")


def _munge_works() -> bool:
    if shutil.which("munge") is None:
        return False
    encode = subprocess.run(["munge", "-n"], capture_output=True, check=False)
    if encode.returncode != 0:
        return False
    decode = subprocess.run(["unmunge"], input=encode.stdout, capture_output=True, check=False)
    return decode.returncode == 0


def ensure_munge(layout: SlurmLayout, timeout_s: float = 10.0) -> bool:
    """Start ``munged`` (as user ``munge``) unless it already works; True if started now."""
    if _munge_works():
        return False
    if not Path("/etc/munge/munge.key").exists():
        subprocess.run(["mungekey", "--create"], check=True, capture_output=True)
        shutil.chown("/etc/munge/munge.key", "munge", "munge")
    MUNGE_RUN_DIR.mkdir(mode=0o755, parents=True, exist_ok=True)
    shutil.chown(MUNGE_RUN_DIR, "munge", "munge")
    subprocess.run(
        ["runuser", "-u", "munge", "--", "munged"], check=True, capture_output=True, text=True
    )
    (layout.log_dir / MUNGE_STARTED_FLAG).touch()
    deadline = time.monotonic() + timeout_s
    while not _munge_works():
        if time.monotonic() > deadline:
            raise SlurmSetupError("munged started but `munge -n | unmunge` fails: see syslog")
        time.sleep(0.2)
    return True


def _running_pid(pid_file: Path) -> int | None:
    """Pid recorded in ``pid_file`` if that process is alive, else None."""
    try:
        pid = int(pid_file.read_text().split()[0])
        os.kill(pid, 0)
    except (FileNotFoundError, ValueError, IndexError, ProcessLookupError):
        return None
    return pid


def node_state(node: str) -> str | None:
    """The node's state as ``sinfo`` prints it (``idle``, ``down*`` ...), None if unknown."""
    result = subprocess.run(
        ["sinfo", "--noheader", "--nodes", node, "--format", "%T"],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0 or not result.stdout.strip():
        return None
    return result.stdout.split()[0].lower()


def _start_daemon(daemon: str, layout: SlurmLayout) -> bool:
    """Start ``slurmctld``/``slurmd`` unless its pid file names a live process."""
    if _running_pid(layout.pid_file(daemon)) is not None:
        return False
    result = subprocess.run([daemon], capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise SlurmSetupError(
            f"{daemon} failed to start (exit {result.returncode}): {result.stderr.strip()}; "
            f"see {layout.log_file(daemon)}"
        )
    return True


def wait_for_idle(node: str, layout: SlurmLayout, timeout_s: float) -> str:
    """Wait until ``sinfo`` shows the node usable; resume it once if it comes up down."""
    deadline = time.monotonic() + timeout_s
    resumed = False
    state: str | None = None
    while time.monotonic() < deadline:
        state = node_state(node)
        if state is not None and state.rstrip("*~#") in IDLE_STATES and "*" not in state:
            return state
        if state is not None and not resumed and state.startswith(("down", "drain")):
            subprocess.run(
                ["scontrol", "update", f"nodename={node}", "state=resume"],
                capture_output=True,
                check=False,
            )
            resumed = True
        time.sleep(0.5)
    raise SlurmSetupError(
        f"SLURM node {node} is {state or 'not reported by sinfo'} after {timeout_s:.0f} s: "
        f"see {layout.log_file('slurmctld')} and {layout.log_file('slurmd')}"
    )


def start_slurm(timeout_s: float = 60.0, root: Path | None = None) -> SlurmStatus:
    """Install, configure and start munge + slurmctld + slurmd; return once the node is idle.

    Idempotent: daemons already running are left alone and not restarted.
    """
    start = time.perf_counter()
    ensure_slurm_packages()
    layout = slurm_layout(root)
    node = local_node()
    started: list[str] = []
    if ensure_munge(layout):
        started.append("munged")
    controller_up = _running_pid(layout.pid_file("slurmctld")) is not None
    if not controller_up:
        write_slurm_conf(render_slurm_conf(node, layout))
    for daemon in ("slurmctld", "slurmd"):
        if _start_daemon(daemon, layout):
            started.append(daemon)
    state = wait_for_idle(node.name, layout, timeout_s)
    return SlurmStatus(node.name, state, tuple(started), time.perf_counter() - start)


def _terminate(pids: list[int], timeout_s: float = 15.0) -> None:
    """SIGTERM every pid, wait for all together, SIGKILL what is left after ``timeout_s``."""
    for pid in pids:
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout_s
    alive = list(pids)
    while alive and time.monotonic() < deadline:
        time.sleep(0.1)
        alive = [pid for pid in alive if _is_alive(pid)]
    for pid in alive:
        os.kill(pid, signal.SIGKILL)


def _is_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def stop_slurm(root: Path | None = None) -> tuple[str, ...]:
    """Stop slurmd, slurmctld and (if we started it) munged, by pid; return what stopped."""
    layout = SlurmLayout(root or work_dir() / "slurm")
    running = {d: _running_pid(layout.pid_file(d)) for d in ("slurmd", "slurmctld")}
    flag = layout.log_dir / MUNGE_STARTED_FLAG
    if flag.exists():
        running["munged"] = _running_pid(MUNGE_RUN_DIR / "munged.pid")
    stopped = {daemon: pid for daemon, pid in running.items() if pid is not None}
    _terminate(list(stopped.values()))
    flag.unlink(missing_ok=True)
    return tuple(stopped)


def slurm_is_up(root: Path | None = None) -> bool:
    """True when our slurmctld and slurmd are running and the node is usable."""
    layout = SlurmLayout(root or work_dir() / "slurm")
    if any(_running_pid(layout.pid_file(d)) is None for d in ("slurmctld", "slurmd")):
        return False
    state = node_state(local_node().name)
    return state is not None and state in IDLE_STATES
