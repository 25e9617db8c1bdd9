"""Inputs of the strained bulk reference SCFs of route 2 (potential line-up).

Route 2 subtracts each side's bulk ``E_edge − V̄`` from the interface's potential step,
so the bulk SCF must see the same Hamiltonian as the interface SCF: the same
pseudopotentials, cutoffs, functional and convergence settings. These helpers derive
its inputs from the interface ``scf`` inputs instead of asking the user for a second
copy that could drift apart. Only what must differ is changed: the structure, the
number of bands (the bulk cell has other electrons), the k-points (an even
Γ-centred mesh, so zone-boundary edges such as CsPbBr3's R point are sampled), any
dipole-correction keys (a bulk cell has no vacuum) and, given per-atom values, the
extensive SCF thresholds (the same accuracy per atom as the interface).
"""

from __future__ import annotations

import copy
import math
from collections.abc import Mapping
from typing import Any

import numpy as np
from aiida import orm

from workflows.inputs.pw_builders import insulator_bands, scf_for_size, with_thresholds

DEFAULT_REFERENCE_KPOINTS_DISTANCE = 0.3
"""k-spacing (1/Å) of the reference SCF when the interface SCF gives an explicit mesh."""
# Interface-cell settings a bulk reference must not inherit: fields, dipole and isolated
# boundaries, and local-TF mixing (meant for inhomogeneous cells; a bulk mixes plainly).
_SLAB_ONLY = {
    "CONTROL": ("tefield", "dipfield", "lfcp"),
    "ELECTRONS": ("mixing_mode",),
    "SYSTEM": ("edir", "emaxpos", "eopreg", "eamp", "assume_isolated"),
}


def even_kpoints_mesh(cell_ang: np.ndarray | list[list[float]], distance: float) -> list[int]:
    """Γ-centred mesh with spacing ≤ ``distance`` (1/Å, 2π included), rounded up to even.

    Why even: with a Γ-centred mesh only even divisions contain the zone-boundary
    points (e.g. R of a cubic perovskite) where bulk band edges often sit.
    """
    reciprocal = 2 * math.pi * np.linalg.inv(np.asarray(cell_ang, dtype=float)).T
    mesh = []
    for vector in reciprocal:
        divisions = max(1, math.ceil(float(np.linalg.norm(vector)) / distance))
        mesh.append(divisions + divisions % 2)
    return mesh


def reference_pseudos(structure: orm.StructureData, pseudos: dict[str, Any]) -> dict[str, Any]:
    """The interface's pseudopotentials, by element, for the kinds of a bulk reference."""
    by_element = {pseudo.element: pseudo for pseudo in pseudos.values()}
    missing = sorted({kind.symbol for kind in structure.kinds if kind.symbol not in by_element})
    if missing:
        raise ValueError(
            f"the interface SCF has no pseudopotential for {missing} of the bulk reference: "
            "the references must be made of the interface's elements"
        )
    return {kind.name: by_element[kind.symbol] for kind in structure.kinds}


def reference_scf_inputs(
    scf: dict[str, Any],
    structure: orm.StructureData,
    thresholds_per_atom: Mapping[str, float] | None = None,
) -> dict[str, Any]:
    """``PwBaseWorkChain`` inputs of a bulk reference SCF from the interface ``scf`` inputs.

    With ``thresholds_per_atom`` (aiida-quantumespresso's ``conv_thr_per_atom`` and
    ``etot_conv_thr_per_atom``, Ry per atom) the reference's thresholds are those per-atom
    values × its own atoms; without, the interface's.
    """
    inputs = copy.copy(scf)
    pw = dict(inputs["pw"])
    pw["pseudos"] = reference_pseudos(structure, pw["pseudos"])
    parameters = copy.deepcopy(pw["parameters"].get_dict())
    for namelist, keys in _SLAB_ONLY.items():
        for key in keys:
            parameters.get(namelist, {}).pop(key, None)
    parameters = scf_for_size(parameters, len(structure.sites))
    parameters.setdefault("SYSTEM", {})["nbnd"] = insulator_bands(structure, pw["pseudos"])
    if thresholds_per_atom is not None:
        parameters = with_thresholds(parameters, thresholds_per_atom, len(structure.sites))
    pw["parameters"] = orm.Dict(parameters)
    pw["structure"] = structure
    distance = inputs.pop("kpoints_distance", None)
    inputs.pop("kpoints", None)
    inputs.pop("kpoints_force_parity", None)
    spacing = float(distance.value) if distance is not None else DEFAULT_REFERENCE_KPOINTS_DISTANCE
    mesh = orm.KpointsData()
    mesh.set_kpoints_mesh(even_kpoints_mesh(structure.cell, spacing))
    inputs["kpoints"] = mesh
    settings = pw.get("settings")
    if settings is not None and settings.get_dict().get("gamma_only"):
        pw["settings"] = orm.Dict(
            {k: v for k, v in settings.get_dict().items() if k != "gamma_only"}
        )
    inputs["pw"] = pw
    return inputs
