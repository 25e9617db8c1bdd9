"""Batched snapshots of ``janus.na_snapshots``: K frames per ``janus.snapshot_batch`` job.

With ``frames_per_job`` K > 0 each chain of snapshots runs as consecutive batch jobs of K
frames (:mod:`workflows.calculations.snapshot_batch`), each restarting from the previous
batch's folder; the pairs come back computed next to the wavefunctions. A chain after the
first starts one snapshot early (the last of the chain before, recomputed) so the pair
across the chain boundary exists too: one extra SCF per chain. A batch that stops with
frames left (walltime, exit 351) is resumed once from its own folder.

The lead-in snapshot is computed twice, so its states carry two independent phases (a
sign per band at Γ): both runs keep a gauge fingerprint, and the lead-in pair is put in
the phases of the chain before (``rephase_lead_in_pair``) so the NAC signs stay continuous
across chains. With ``clean_workdir`` a batch folder is emptied once the batch that copied
from it has finished (or its chain is done), as today's path does per snapshot.

K from a protocol: ``batch_walltime_seconds // seconds_per_snapshot`` (a job of about the
walltime); the driver stops cleanly at 90 % of the job's walltime.
"""

from __future__ import annotations

from typing import Any

from aiida import orm

from workflows.calcfunctions.na import rephase_lead_in_pair
from workflows.calculations.snapshot_batch import SnapshotBatchCalculation
from workflows.inputs.pw_builders import with_dipole_correction

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


def lead_in_positions(chains: list[list[int]]) -> list[int]:
    """Snapshots computed twice: the last of each chain but the last, again as the next
    chain's lead-in. Both runs keep a gauge fingerprint to join the phases."""
    return [chain[0] - 1 for chain in chains[1:]]


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
    lead_ins = lead_in_positions(workchain.ctx.chains)
    settings["gauge_frames"] = [p for p in positions if p in lead_ins]
    inputs: dict[str, Any] = {
        "code": scf.pw.code,
        "trajectory": workchain.inputs.trajectory,
        "frames": orm.List([workchain.ctx.frames[p] for p in positions]),
        "first_position": orm.Int(positions[0]),
        # the dipole correction of a slab in vacuum, placed from the batch's first frame
        "parameters": with_dipole_correction(
            {"parameters": scf.pw.parameters},
            workchain.inputs.trajectory.get_step_structure(workchain.ctx.frames[positions[0]]),
        )["parameters"],
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
    if "gauges" not in ctx:
        ctx.gauges = {}
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
        spent, ctx.batch_parent[number] = ctx.batch_parent[number], node.outputs.remote_folder
        for label, gauge in getattr(node.outputs, "gauges", {}).items():
            ctx.gauges[f"chain_{number}_{label}"] = gauge
        if not resumable:
            ctx.batch_resumes[number] = 0
            ctx.batch_step[number] += 1
            ctx.pairs.update(getattr(node.outputs, "pairs", {}))
        else:
            ctx.batch_resumes[number] += 1
        if workchain.inputs.clean_workdir.value:
            _clean_batch_folders(ctx, number, spent)
    if not batches_left(ctx):
        _join_chain_phases(ctx)
    return None


def empty_remote_folder(remote: orm.RemoteData) -> None:
    """Empty ``remote`` (once) and bar the calculation that made it from AiiDA's cache.

    Why both: a later identical calculation "cached" from a node whose files are gone
    would break the step that copies them (the next NA frame). The batched and the
    per-snapshot NA paths both clean this way.
    """
    if not remote.is_cleaned:
        remote._clean()
    remote.creator.base.caching.is_valid_cache = False


def _clean_batch_folders(ctx: Any, number: int, spent: orm.RemoteData | None) -> None:
    """Empty the folder the chain's newest batch copied from, and the newest one once its
    chain is done (they hold the wavefunctions of a frame); bar both from caching."""
    done = ctx.batch_step[number] >= len(ctx.batches[number])
    for remote in (spent, ctx.batch_parent[number] if done else None):
        if remote is not None:
            empty_remote_folder(remote)


def _join_chain_phases(ctx: Any) -> None:
    """Put each chain's lead-in pair in the phases of the chain before (its fingerprints)."""
    for number, position in enumerate(lead_in_positions(ctx.chains), start=1):
        gauge = f"gauge_{position:04d}"
        pair = f"pair_{position:04d}"
        ctx.pairs[pair] = rephase_lead_in_pair(
            ctx.pairs[pair],
            ctx.gauges[f"chain_{number - 1}_{gauge}"],
            ctx.gauges[f"chain_{number}_{gauge}"],
        )
