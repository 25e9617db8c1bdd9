"""Batched snapshots of ``janus.na_snapshots``: K frames per ``janus.snapshot_batch`` job.

With ``frames_per_job`` K > 0 each chain of snapshots runs as consecutive batch jobs of K
frames (:mod:`workflows.calculations.snapshot_batch`), each restarting from the previous
batch's folder; the pairs come back computed next to the wavefunctions. A chain after the
first starts one snapshot early (the last of the chain before, recomputed) so the pair
across the chain boundary exists too: one extra SCF per chain. A batch that stops with
frames left (walltime, exit 351) is resumed once from its own folder.

K from a protocol: ``batch_walltime_seconds // seconds_per_snapshot`` (a job of about the
walltime); the driver stops cleanly at 90 % of the job's walltime.
"""

from __future__ import annotations

from typing import Any

from aiida import orm

from workflows.calculations.snapshot_batch import SnapshotBatchCalculation

RESUMABLE = 351
WALLTIME_SHARE = 0.9
RESUMES_PER_BATCH = 1


def frames_per_job(batch_walltime_seconds: float, seconds_per_snapshot: float) -> int:
    """Frames that fill a job of ``batch_walltime_seconds`` (s), at least one."""
    if not batch_walltime_seconds > 0 or not seconds_per_snapshot > 0:
        raise ValueError("batch_walltime_seconds and seconds_per_snapshot must be positive (s)")
    return max(1, int(batch_walltime_seconds // seconds_per_snapshot))


def batch_layout(chains: list[list[int]], per_job: int) -> list[list[list[int]]]:
    """Per chain, its batches of snapshot positions; chains after the first lead in with
    the position before their first."""
    layout = []
    for number, chain in enumerate(chains):
        positions = ([chain[0] - 1] if number else []) + list(chain)
        layout.append([positions[i : i + per_job] for i in range(0, len(positions), per_job)])
    return layout


def batches_left(ctx: Any) -> bool:
    """True while some chain has a batch left (or one to resume)."""
    return any(step < len(b) for step, b in zip(ctx.batch_step, ctx.batches, strict=True))


def _batch_inputs(workchain: Any, positions: list[int], parent: Any) -> dict[str, Any]:
    scf = workchain.inputs.scf
    options = dict(scf.pw.metadata.get("options", {}))
    for own in ("parser_name", "input_filename", "output_filename"):  # pw.x's, not the batch's
        options.pop(own, None)
    walltime = options.get("max_wallclock_seconds")
    settings: dict[str, Any] = {
        "band_window": list(workchain.inputs.band_window),
        "gamma_only": bool(scf.pw.settings.get_dict().get("gamma_only", False)),
    }
    if walltime:
        settings["max_seconds"] = WALLTIME_SHARE * walltime
    inputs: dict[str, Any] = {
        "code": scf.pw.code,
        "trajectory": workchain.inputs.trajectory,
        "frames": orm.List([workchain.ctx.frames[p] for p in positions]),
        "first_position": orm.Int(positions[0]),
        "parameters": scf.pw.parameters,
        "pseudos": dict(scf.pw.pseudos),
        "kpoints": scf.kpoints,
        "settings": orm.Dict(settings),
        "metadata": {"options": options, "call_link_label": f"batch_{positions[0]:04d}"},
    }
    if "site_labels" in workchain.inputs:
        inputs["site_labels"] = workchain.inputs.site_labels
    if parent is not None:
        inputs["parent_folder"] = parent
    return inputs


def submit_batches(workchain: Any) -> dict[str, Any]:
    """Submit each chain's next batch (or the resume of a stopped one); futures by chain."""
    ctx, futures = workchain.ctx, {}
    for number, batches in enumerate(ctx.batches):
        step = ctx.batch_step[number]
        if step >= len(batches):
            continue
        parent = ctx.batch_parent[number]
        inputs = _batch_inputs(workchain, batches[step], parent)
        futures[f"chain_{number}"] = workchain.submit(SnapshotBatchCalculation, **inputs)
    return futures


def inspect_batches(workchain: Any, submitted: list[str]) -> Any:
    """Keep the pairs of finished batches, queue resumes; an exit code on a hard failure."""
    ctx = workchain.ctx
    for key in submitted:
        number = int(key.split("_")[1])
        node = ctx[key]
        resumable = node.exit_status == RESUMABLE and ctx.batch_resumes[number] < RESUMES_PER_BATCH
        if not node.is_finished_ok and not resumable:
            positions = ctx.batches[number][ctx.batch_step[number]]
            return workchain.exit_codes.ERROR_SNAPSHOT_SCF_FAILED.format(
                position=positions,
                frame=[ctx.frames[p] for p in positions],
                pk=node.pk,
                status=node.exit_status,
            )
        ctx.batch_parent[number] = node.outputs.remote_folder
        if resumable:
            ctx.batch_resumes[number] += 1
            continue
        ctx.batch_resumes[number] = 0
        ctx.batch_step[number] += 1
        for label in node.outputs.pairs:
            ctx.pairs[label] = node.outputs.pairs[label]
    return None
