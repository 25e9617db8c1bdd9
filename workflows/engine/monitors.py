"""CalcJob monitors: stop a pw.x SCF that diverges or oscillates instead of burning walltime.

Registered as ``janus.scf_divergence`` (entry-point group ``aiida.calculations.monitors``)
and attached by the janus workchains to every pw.x run they launch. The verdict itself is
:func:`heterostructures.io.scf_history.classify_scf_history`. A stopped run fails with
aiida-core's ``STOPPED_BY_MONITOR`` and a message starting with :data:`STOP_PREFIX`, which
``JanusPwBaseWorkChain`` (:mod:`workflows.workchains.pw_base`) handles.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from aiida import orm

from heterostructures.io.scf_history import classify_scf_history, current_cycle

MONITOR_ENTRY_POINT = "janus.scf_divergence"
STOP_PREFIX = "SCF stopped early by janus.scf_divergence:"


def scf_divergence_monitor(node: orm.CalcJobNode, transport: Any) -> str | None:
    """Return a message (which kills the job) when the current SCF cycle is hopeless."""
    output_name = node.get_option("output_filename") or "aiida.out"
    workdir = node.get_remote_workdir()
    if workdir is None:
        return None
    remote = Path(workdir) / output_name
    with tempfile.TemporaryDirectory() as tmp:
        local = Path(tmp) / output_name
        try:
            transport.getfile(str(remote), str(local))
        except OSError:
            return None
        trend = classify_scf_history(current_cycle(local.read_text(errors="replace")))
    if trend.hopeless:
        return f"{STOP_PREFIX} {trend.verdict} after {trend.iterations} iterations: {trend.reason}"
    return None


def divergence_monitor_input(poll_seconds: int | None = 30) -> dict[str, orm.Dict]:
    """The ``monitors`` input namespace value attaching the monitor to a PwCalculation.

    ``poll_seconds`` (s) spaces the reads of the remote output; ``None`` reads it at every
    scheduler poll, including the last one after the job ended (what replayed runs need:
    they write their whole output at once).
    """
    monitor: dict[str, str | int] = {"entry_point": MONITOR_ENTRY_POINT}
    if poll_seconds is not None:
        monitor["minimum_poll_interval"] = poll_seconds
    return {"scf_divergence": orm.Dict(monitor)}
