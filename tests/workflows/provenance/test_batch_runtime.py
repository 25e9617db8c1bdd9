"""Run time of a batch of NA snapshots as ``calculation_record`` reports it.

Reference: a hand-built node with the batch job's ``frame_facts`` output; hand arithmetic.
"""

from __future__ import annotations

from aiida import orm
from aiida.common.links import LinkType


def test_a_snapshot_batch_runtime_is_its_frames_pw_wall_times(aiida_profile: object) -> None:
    """A ``janus.snapshot_batch`` job has no output_parameters: its runtime is Σ of pw.x's
    wall time per frame (12.5 + 7.25 s, hand arithmetic), not creation to last change."""
    from workflows.provenance.queries import calculation_record

    node = orm.CalcJobNode(process_type="aiida.calculations:janus.snapshot_batch").store()
    facts = orm.Dict({"frames": [{"pw_wall_seconds": 12.5}, {"pw_wall_seconds": 7.25}]})
    facts.base.links.add_incoming(node, LinkType.CREATE, "frame_facts")
    facts.store()
    assert calculation_record("na_snapshots/batch", node).runtime_s == 19.75


def test_a_resumed_batch_counts_only_the_frames_it_ran(localhost: orm.Computer) -> None:
    """A batch resumed from its own folder lists the parent's finished frames again (copied
    results, skipped by the driver): only frame 2's 4.0 s is this job's."""
    from workflows.provenance.queries import calculation_record

    first = orm.CalcJobNode(process_type="aiida.calculations:janus.snapshot_batch").store()
    done = [{"position": 0, "pw_wall_seconds": 12.5}, {"position": 1, "pw_wall_seconds": 7.25}]
    facts = orm.Dict({"frames": done})
    facts.base.links.add_incoming(first, LinkType.CREATE, "frame_facts")
    facts.store()
    folder = orm.RemoteData(remote_path="/tmp/batch", computer=localhost)
    folder.base.links.add_incoming(first, LinkType.CREATE, "remote_folder")
    folder.store()
    resumed = orm.CalcJobNode(process_type="aiida.calculations:janus.snapshot_batch")
    resumed.base.links.add_incoming(folder, LinkType.INPUT_CALC, "parent_folder")
    resumed.store()
    again = orm.Dict({"frames": [*done, {"position": 2, "pw_wall_seconds": 4.0}]})
    again.base.links.add_incoming(resumed, LinkType.CREATE, "frame_facts")
    again.store()
    assert calculation_record("na_snapshots/batch", resumed).runtime_s == 4.0
