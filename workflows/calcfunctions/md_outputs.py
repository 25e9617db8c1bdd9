"""Extra outputs of ``janus.aimd``'s merge: the drift verdict and the per-step band energies.

Kept out of ``workflows/workchains/aimd.py`` so that module only wires them in. The
science is in :mod:`heterostructures.dynamics.md_drift` (time step vs the protocol's drift
bound) and :mod:`heterostructures.io.pw_md_eigenvalues` (Kohn–Sham energies that pw.x
prints after every MD step's SCF).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from aiida import orm

from heterostructures.dynamics.md_drift import check_energy_drift
from heterostructures.io.pw_md_eigenvalues import (
    EigenvalueParseError,
    merge_md_eigenvalues,
    parse_md_eigenvalues,
)


def drift_verdict(drift_ev_per_atom_per_ps: float, options: dict[str, Any]) -> dict[str, Any]:
    """Diagnostics fields of the drift check; empty when no bound was given (older inputs)."""
    bound = options.get("max_drift_ev_per_atom_per_ps")
    if bound is None:
        return {}
    check = check_energy_drift(drift_ev_per_atom_per_ps, bound, options["timestep_fs"])
    return {
        "drift_bound_ev_per_atom_per_ps": check.bound_ev_per_atom_per_ps,
        "drift_within_bound": check.within_bound,
        "drift_note": check.note,
    }


def band_energies_node(stdouts: Sequence[str], timestep_fs: float) -> orm.ArrayData | None:
    """Per-step Kohn–Sham energies of all chunks as ArrayData, or None if none were printed.

    Arrays: ``steps`` (0-based MD steps), ``times_fs``, ``eigenvalues_ev`` (step × k-point
    × band, eV; pw.x band n is column n − 1).
    """
    try:
        merged = merge_md_eigenvalues([parse_md_eigenvalues(text) for text in stdouts])
    except EigenvalueParseError:
        return None
    node = orm.ArrayData()
    node.set_array("steps", merged.steps)
    node.set_array("times_fs", merged.steps * float(timestep_fs))
    node.set_array("eigenvalues_ev", merged.eigenvalues_ev)
    node.base.attributes.set("units", "times fs, eigenvalues eV (step x k-point x band)")
    node.base.attributes.set("dt_fs", float(timestep_fs))
    return node
