"""How long a calculation ran (s), as the provenance report lists it.

The code's own wall time where it states one, since a node's creation-to-last-change
time also counts the queue: pw.x's ``wall_time_seconds`` (aiida-quantumespresso's
parser), or for a batch of NA snapshots (``janus.snapshot_batch``) the sum of pw.x's
wall time over the frames that job itself ran.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from aiida import orm


def _frames_run_before(node: orm.CalculationNode) -> set[int]:
    """Positions a resumed batch job copied from its parent batch job (its ``frame_facts``
    list them again; the driver skipped them): not run by ``node``."""
    parents = node.base.links.get_incoming(link_label_filter="parent_folder").all_nodes()
    creator = parents[0].creator if parents else None
    if creator is None or "frame_facts" not in creator.outputs:
        return set()
    return {frame.get("position") for frame in creator.outputs.frame_facts["frames"]}


def calculation_runtime_s(node: orm.CalculationNode) -> float | None:
    """pw.x's own wall time (s): ``output_parameters`` of a pw.x job, Σ over the frames a
    ``janus.snapshot_batch`` job ran (``frame_facts``); else creation to last change."""
    from aiida.orm import Dict

    parameters = node.base.links.get_outgoing(link_label_filter="output_parameters").all_nodes()
    if parameters and isinstance(parameters[0], Dict):
        wall = parameters[0].get("wall_time_seconds")
        if wall is not None:
            return float(wall)
    facts = node.base.links.get_outgoing(link_label_filter="frame_facts").all_nodes()
    if facts and isinstance(facts[0], Dict):
        before = _frames_run_before(node)
        frames = [f for f in facts[0].get("frames", []) if f.get("position") not in before]
        walls = [frame.get("pw_wall_seconds") for frame in frames]
        if None not in walls:
            return float(sum(walls))
    if not node.is_terminated:
        return None
    return (node.mtime - node.ctime).total_seconds()
