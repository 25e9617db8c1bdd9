"""Checks of ``janus.aimd``'s inputs, run by its input validator before anything is submitted.

The physics of the bounds (temperature, time step against the shortest bond, walltime per
chunk) is in :mod:`heterostructures.dynamics.md_units`; this module only reads the nodes.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from aiida import orm

from heterostructures.dynamics.md_units import MdInputError, check_md_settings, plan_chunks

THERMOSTATS = ("equipartition", "rescaling", "berendsen", "andersen", "svr")


def _min_distance_ang(structure: orm.StructureData) -> float:
    atoms = structure.get_ase()
    if len(atoms) < 2:
        return float("inf")
    distances = atoms.get_all_distances(mic=any(atoms.pbc))
    return float(distances[np.triu_indices(len(atoms), 1)].min())


def validate_aimd_inputs(inputs: dict[str, Any], _: Any = None) -> str | None:
    """Reject bad settings before submission; returns the message (None when fine).

    Exposed in janus.pipeline without ``structure`` (given at run time): the overlap
    check then runs when the AIMD step is launched.
    """
    structure = inputs.get("structure")
    try:
        check_md_settings(
            inputs["temperature"].value,
            inputs["timestep_fs"].value,
            _min_distance_ang(structure) if structure is not None else None,
        )
        plan_chunks(
            total_steps=1,
            walltime_seconds=inputs["max_walltime_seconds"].value,
            seconds_per_step=inputs["seconds_per_step"].value,
            setup_seconds=inputs["setup_seconds"].value,
        )
    except MdInputError as error:
        return str(error)
    bound = inputs.get("max_drift_ev_per_atom_per_ps")
    if bound is not None and not bound.value > 0:
        return f"max_drift_ev_per_atom_per_ps must be > 0 eV/atom/ps, got {bound.value}."
    window = inputs.get("snapshot_window_fs")
    if window is not None and not 0 < window.value <= inputs["production_time_fs"].value:
        return (
            f"snapshot_window_fs must be in (0, production_time_fs = "
            f"{inputs['production_time_fs'].value}] fs, got {window.value}."
        )
    if inputs["thermostat"].value not in THERMOSTATS:
        return f"thermostat must be one of {THERMOSTATS}, got {inputs['thermostat'].value!r}."
    return None
