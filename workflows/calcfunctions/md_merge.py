"""``janus.aimd``'s merge: the chunks' pw.x stdouts → one trajectory, diagnostics, snapshots.

A calcfunction, so the merged trajectory and every number derived from it (drift, mean
temperature and its thermalisation verdict, the NVE frames for the NA step, the per-step
band energies) are linked to the chunks they came from.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
from aiida import orm
from aiida.engine import calcfunction
from aiida_quantumespresso.calculations.pw import PwCalculation

from heterostructures.dynamics.md_diagnostics import (
    md_diagnostics,
    select_snapshots,
    thermalisation,
)
from heterostructures.io.pw_md_output import Trajectory, merge_chunks, parse_pw_md_stdout
from heterostructures.plots.md import plot_temperature_and_energy
from workflows.calcfunctions.md_outputs import band_energies_node, drift_verdict

STDOUT_NAME = PwCalculation._DEFAULT_OUTPUT_FILE


def fixed_coordinate_count(settings: orm.Dict | None) -> int:
    fixed = (settings.get_dict() if settings else {}).get("FIXED_COORDS", [])
    return int(np.asarray(fixed, dtype=bool).sum())


def _trajectory_node(trajectory: Trajectory, symbols: list[str]) -> orm.TrajectoryData:
    node = orm.TrajectoryData()
    node.set_trajectory(
        symbols=symbols,
        positions=trajectory.positions_ang,
        stepids=trajectory.steps,
        cells=np.repeat(trajectory.cell_ang[None], len(trajectory.steps), axis=0),
        times=trajectory.times_fs,
        velocities=trajectory.velocities_ang_per_fs,
    )
    node.set_array("forces", trajectory.forces_ev_per_ang)
    node.set_array("potential_energy", trajectory.potential_energy_ev)
    node.set_array("kinetic_energy", trajectory.kinetic_energy_ev)
    node.set_array("total_energy", trajectory.total_energy_ev)
    node.set_array("temperature", trajectory.temperature_k)
    node.base.attributes.set("units", "positions Å, times fs, velocities Å/fs, eV, eV/Å, K")
    return node


@calcfunction
def merge_md_chunks(
    structure: orm.StructureData, settings: orm.Dict, **retrieved: orm.FolderData
) -> dict[str, orm.Data]:
    """Merge the chunks' stdouts into one TrajectoryData, drift/T diagnostics and snapshots.

    ``settings``: timestep_fs, production_start_fs, snapshot_stride, n_fixed_coordinates,
    target_temperature_k (for the thermalisation verdict in the diagnostics); optional
    max_drift_ev_per_atom_per_ps and snapshot_window_fs (NA frames only in the first
    window fs of NVE).
    """
    options = settings.get_dict()
    cell = np.array(structure.cell)
    n_atoms = len(structure.sites)
    stdouts = [
        folder.base.repository.get_object_content(STDOUT_NAME, mode="r")
        for _, folder in sorted(retrieved.items())
    ]
    chunks = [parse_pw_md_stdout(text, n_atoms, cell) for text in stdouts]
    trajectory = merge_chunks(
        np.array([site.position for site in structure.sites]),
        chunks,
        options["timestep_fs"],
        cell,
        np.array([structure.get_kind(site.kind_name).mass for site in structure.sites]),
        options["n_fixed_coordinates"],
    )
    start = options["production_start_fs"]
    diagnostics = md_diagnostics(trajectory, start_fs=start)
    verdict = thermalisation(diagnostics, options["target_temperature_k"])
    verdict |= drift_verdict(diagnostics.drift_ev_per_atom_per_ps, options)
    window = options.get("snapshot_window_fs")
    snapshots = select_snapshots(
        trajectory.times_fs,
        start,
        stop_fs=None if window is None else start + window,
        stride=options["snapshot_stride"],
    )
    with tempfile.TemporaryDirectory() as scratch:
        plot = plot_temperature_and_energy(
            trajectory, Path(scratch) / "md.png", start, options["target_temperature_k"]
        )
        md_plot = orm.SinglefileData(file=plot)
    outputs = {
        "md_plot": md_plot,
        "trajectory": _trajectory_node(trajectory, [s.kind_name for s in structure.sites]),
        "diagnostics": orm.Dict(diagnostics.__dict__ | verdict),
        "snapshots": orm.Dict(snapshots.__dict__),
    }
    band_energies = band_energies_node(stdouts, options["timestep_fs"])
    if band_energies is not None:
        outputs["band_energies"] = band_energies
    return outputs
