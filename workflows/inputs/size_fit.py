"""pw.x parameters made for one model, fitted to another of a different composition.

Why: a builder sets ``nbnd`` (occupied bands + a few empty ones) and the extensive SCF
thresholds ``conv_thr``/``etot_conv_thr`` (Ry; aiida-quantumespresso's per-atom values ×
atoms) on a *preview* of the model it will run. The model that runs can differ: an
alignment series relaxes models of other thicknesses with one template, and relaxed bulk
lattices can move an interface to another coincidence cell. With the preview's ``nbnd``
a larger model has fewer bands than occupied states, which pw.x refuses after the job
has queued; a smaller one does twice the work.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aiida import orm

from heterostructures.structure.interface_spec import build_from_spec
from workflows.inputs.pw_builders import insulator_bands

EXTENSIVE_THRESHOLDS = (("ELECTRONS", "conv_thr"), ("CONTROL", "etot_conv_thr"))
"""pw.x thresholds (Ry) on the total energy of the cell: they grow with its atoms."""


def preview_structure(spec: Mapping[str, Any]) -> orm.StructureData:
    """The interface a build ``spec`` makes on the experimental lattices: the model every
    builder sets its inputs up on (unstored)."""
    return orm.StructureData(ase=build_from_spec(dict(spec), {}).atoms)


def fitted_to_structure(
    parameters: Mapping[str, Any],
    pseudos: Mapping[str, Any],
    preview: orm.StructureData,
    actual: orm.StructureData,
) -> dict[str, Any]:
    """``parameters`` (made for ``preview``) fitted to ``actual``: ``nbnd`` becomes the
    occupied bands of ``actual`` plus the empty bands ``preview`` had, and the extensive
    thresholds scale with the atom ratio (an absolute override too: the series keeps the
    per-atom accuracy it was given). Unchanged when the two have the same atoms and
    electrons, so a model run as previewed keeps its inputs bit for bit."""
    fitted: dict[str, Any] = {key: dict(value) for key, value in parameters.items()}
    occupied = {
        name: insulator_bands(structure, dict(pseudos), 0)
        for name, structure in (("preview", preview), ("actual", actual))
    }
    atoms = {"preview": len(preview.sites), "actual": len(actual.sites)}
    if occupied["preview"] == occupied["actual"] and atoms["preview"] == atoms["actual"]:
        return fitted
    system = fitted.get("SYSTEM", {})
    if "nbnd" in system:
        system["nbnd"] = occupied["actual"] + int(system["nbnd"]) - occupied["preview"]
    for namelist, name in EXTENSIVE_THRESHOLDS:
        value = fitted.get(namelist, {}).get(name)
        if value is not None:
            fitted[namelist][name] = value * atoms["actual"] / atoms["preview"]
    return fitted
