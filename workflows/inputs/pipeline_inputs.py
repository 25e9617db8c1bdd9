"""Input checks of ``janus.pipeline`` and what it reads from finished steps.

The step names themselves live in :mod:`workflows.inputs.pipeline_steps` (no AiiDA import,
so the CLI can offer them as choices cheaply); the protocol builders of the steps are
composed by :mod:`workflows.inputs.pipeline_protocol`.
"""

from __future__ import annotations

from typing import Any

from aiida import orm

from heterostructures.electronic.bands import occupied_bands
from workflows.calcfunctions.summary import energies_incomparable
from workflows.inputs.pipeline_steps import SIDES, STEPS
from workflows.inputs.pw_builders import pseudo_valence_electrons, system_namelist


def validate_skip(value: orm.List, _: Any) -> str | None:
    """Only known step names can be skipped."""
    unknown = sorted(set(value.get_list()) - set(STEPS))
    return f"unknown steps {unknown} in `skip`: choose from {STEPS}" if unknown else None


def validate_pipeline(inputs: dict[str, Any], _: Any) -> str | None:
    """A given structure needs its labels; a skipped step needs what it would have made."""
    if ("structure" in inputs) != ("site_labels" in inputs):
        return "give `structure` and `site_labels` together (outputs of janus.interface)"
    skip = set(inputs.get("skip", orm.List()).get_list())
    if "interface" in skip and "structure" not in inputs:
        return "skipping `interface` needs `structure` and `site_labels`"
    return None


def valence_electrons(calc: orm.CalcJobNode) -> float | None:
    """Valence electrons of a pw.x job, or None if it is no pw.x job or did not say.

    Read, in order of preference, from a ``PwCalculation``'s ``output_parameters``
    (aiida-quantumespresso's parser), from a ``janus.snapshot_batch`` job's ``frame_facts``
    (pw.x's XML ``nelec``, any frame: a job resumed from one that predates the fact lacks
    it in its first frames), or else from that job's own inputs: Σ ``z_valence`` of its
    pseudopotentials over the trajectory's sites − ``tot_charge``.
    """
    outputs, inputs = calc.outputs, calc.inputs
    if "output_parameters" in outputs:  # a pw.x stopped before its XML has no count
        count = outputs.output_parameters.get("number_of_electrons")
        return None if count is None else float(count)
    if "frame_facts" not in outputs:
        return None
    for frame in outputs.frame_facts["frames"]:
        if frame.get("number_of_electrons") is not None:
            return float(frame["number_of_electrons"])
    charge = float(system_namelist(inputs.parameters.get_dict()).get("tot_charge", 0.0))
    return pseudo_valence_electrons(inputs.trajectory.symbols, inputs.pseudos, charge)


def highest_occupied_band(process: orm.ProcessNode) -> int:
    """Highest occupied band (1-based) of a pw.x run in or under ``process`` (all runs of a
    step have the same electrons): :func:`valence_electrons` / 2. Raises ``ValueError``
    for an odd count (no spin-unpolarised gap) or when no pw.x job ran."""
    calcs = [process] if isinstance(process, orm.CalcJobNode) else process.called_descendants
    for calc in calcs:
        if isinstance(calc, orm.CalcJobNode) and (count := valence_electrons(calc)) is not None:
            return occupied_bands(count)
    raise ValueError(f"<{process.pk}> ran no pw.x calculation to count its electrons")


def formation_energy_blocker(inputs: Any) -> str | None:
    """Why the bulk and interface totals of the pipeline ``inputs`` are not comparable
    (different pseudopotentials or cutoffs), or None: a formation energy needs both."""
    for side in SIDES:
        reason = energies_incomparable(
            inputs[f"{side}_bulk"].relax.base_relax.pw, inputs.interface.relax.pw
        )
        if reason:
            return reason
    return None


def reference_energy_nodes(bulk: dict[str, orm.WorkflowNode]) -> dict[str, orm.Data]:
    """Formula, energy and relaxed structure of each side's finished bulk reference,
    keyed as ``bulk_reference_energies`` takes them (``<side>_<name>``)."""
    return {
        f"{side}_{name}": node
        for side, process in bulk.items()
        for name, node in (
            ("formula", process.inputs.formula),
            ("energy", process.outputs.energy),
            ("structure", process.outputs.relaxed_structure),
        )
    }


def na_band_inputs(
    na_snapshots: orm.WorkflowNode,
    electronic: orm.WorkflowNode | None,
    states: orm.Dict | None,
) -> orm.Dict:
    """IS/FS of the electronic step (if it ran) and the occupied bands of both band sets.

    ``na_transfer_bands`` maps the IS/FS bands of the electronic NSCF onto the bands of
    the NA snapshots through the highest occupied band of each.
    """
    values: dict[str, Any] = {"na_highest_occupied": highest_occupied_band(na_snapshots)}
    if states is not None and electronic is not None:
        nscf = electronic.outputs.nscf_remote_folder.creator
        values["electronic_highest_occupied"] = highest_occupied_band(nscf)
        values["initial_band"] = states["initial"]["band"]
        values["final_band"] = states["final"]["band"]
    return orm.Dict(values)


def md_gap_inputs(aimd: Any) -> dict[str, Any]:
    """janus.na_analysis's MD gap inputs from a finished janus.aimd (none when it printed no
    band energies): the per-step energies, the first NVE time (fs), read from the
    ``snapshots`` janus.aimd selected from that same time, not counted a second time, and
    the trajectory whose NVE velocities assign the gap peaks to elements."""
    if aimd is None or "band_energies" not in aimd.outputs:
        return {}
    return {
        "md_band_energies": aimd.outputs.band_energies,
        "md_production_start_fs": orm.Float(aimd.outputs.snapshots["start_fs"]),
        "md_trajectory": aimd.outputs.trajectory,
    }
