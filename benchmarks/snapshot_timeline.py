"""Where the wall time of a finished ``janus.na_snapshots`` step went, per snapshot (s).

Why: the cost model (``heterostructures/structure/study_cost.py``) rests on the step's
whole wall time; this splits it, from what the study already stored, into pw.x's own
run and what AiiDA spends around each CalcJob, so a slow step can be traced without
running anything again.

For each snapshot's ``PwBaseWorkChain`` it reads the creation times of the workchain, its
``PwCalculation``, the ``remote_folder`` (upload done), ``retrieved`` and
``output_parameters`` (parsed), and pw.x's own start and end stamps in ``aiida.out``
(one-second resolution, the machine's clock, read as UTC like AiiDA's times here), and
prints the median and mean of each interval over the snapshots.

Run: ``.work/venv/bin/python benchmarks/snapshot_timeline.py --profile demo-s11 470``
(the PK or UUID of the ``NaSnapshotsWorkChain``, e.g. from ``verdi process status``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import re
import statistics
from typing import Any

STAMP = r"(\d+):\s*(\d+):\s*(\d+)"
STARTS = re.compile(r"starts on\s+\S+\s+at\s+" + STAMP)
ENDS = re.compile(r"terminated on:\s+" + STAMP)
INTERVALS = (
    ("workchain launched -> PwCalculation created", "launched", "created"),
    ("upload", "created", "uploaded"),
    ("uploaded -> pw.x starts", "uploaded", "pw_start"),
    ("pw.x run", "pw_start", "pw_end"),
    ("pw.x ends -> retrieved stored", "pw_end", "retrieved"),
    ("parse", "retrieved", "parsed"),
)


def pw_stamps(output: str, day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """pw.x's own start and end (``aiida.out``), on ``day`` (a run over midnight is not
    handled: the end then precedes the start, and the interval shows negative)."""
    start, end = STARTS.search(output), ENDS.search(output)
    if start is None or end is None:
        raise ValueError("aiida.out has no start or end stamp: did pw.x finish?")

    def at(match: re.Match[str]) -> dt.datetime:
        hour, minute, second = (int(value) for value in match.groups())
        return dt.datetime.combine(day, dt.time(hour, minute, second), dt.UTC)

    return at(start), at(end)


def snapshot_times(base: Any) -> dict[str, Any]:
    """The time stamps of one snapshot's ``PwBaseWorkChain``, and the folders that chain it.

    Times are of its last ``PwCalculation`` (the one parsed); ``restarts_from`` is the
    ``parent_folder`` of its first (the previous snapshot's folder, None for a chain's
    first), ``folder`` the last one's ``remote_folder`` (what the next snapshot restarts from).
    """
    calcs = [node for node in base.called if node.process_type.endswith("quantumespresso.pw")]
    calc = calcs[-1]
    output = calc.outputs.retrieved.base.repository.get_object_content("aiida.out")
    pw_start, pw_end = pw_stamps(output, calc.ctime.astimezone(dt.UTC).date())
    first_inputs = calcs[0].inputs
    return {
        "launched": base.ctime,
        "created": calc.ctime,
        "uploaded": calc.outputs.remote_folder.ctime,
        "pw_start": pw_start,
        "pw_end": pw_end,
        "retrieved": calc.outputs.retrieved.ctime,
        "parsed": calc.outputs.output_parameters.ctime,
        "folder": calc.outputs.remote_folder.uuid,
        "restarts_from": (
            first_inputs.parent_folder.uuid if "parent_folder" in first_inputs else None
        ),
    }


def chain_gaps(times: list[dict[str, Any]]) -> list[float]:
    """Seconds from a snapshot's parse to the launch of the next snapshot of its chain
    (the one that restarts from its folder)."""
    parsed = {row["folder"]: row["parsed"] for row in times}
    return [
        (row["launched"] - parsed[row["restarts_from"]]).total_seconds()
        for row in times
        if row["restarts_from"] in parsed
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-p", "--profile", default=None, help="AiiDA profile (default: default)")
    parser.add_argument("workchain", help="PK or UUID of the NaSnapshotsWorkChain")
    args = parser.parse_args()
    from aiida import load_profile, orm

    load_profile(args.profile)
    step = orm.load_node(args.workchain)
    bases = [node for node in step.called if str(node.process_type).endswith("pw.base")]
    times = [snapshot_times(base) for base in sorted(bases, key=lambda node: node.ctime)]
    span = (times[-1]["parsed"] - times[0]["launched"]).total_seconds()
    print(f"{step.process_label}<{step.pk}>: {len(times)} snapshots in {span / 60:.1f} min")
    for name, first, last in INTERVALS:
        seconds = [(row[last] - row[first]).total_seconds() for row in times]
        median, mean = statistics.median(seconds), statistics.mean(seconds)
        print(f"  {name:<46} median {median:6.1f} s  mean {mean:6.1f} s")
    gaps = chain_gaps(times)
    if gaps:
        name = "parsed -> next snapshot of the chain launched"
        median, mean = statistics.median(gaps), statistics.mean(gaps)
        print(f"  {name:<46} median {median:6.1f} s  mean {mean:6.1f} s  ({len(gaps)} pairs)")


if __name__ == "__main__":
    main()
