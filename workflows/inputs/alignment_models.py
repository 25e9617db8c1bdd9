"""Inputs of each model of a ``janus.alignment`` series: the electronic template fitted to it.

The series' ``janus.electronic`` template is made once, on the thickest model. What
depends on the model's size is set per model at run time: ``nbnd`` (its electrons) and
the extensive SCF thresholds ``conv_thr``/``etot_conv_thr`` (aiida-quantumespresso's
per-atom values × its atoms), so a model gets the same pw.x inputs in every series.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aiida import orm

from workflows.inputs.pw_builders import (
    insulator_bands,
    scf_for_size,
    with_thresholds,
)
from workflows.inputs.size_fit import fitted_to_structure, preview_structure


def model_electronic_inputs(
    template: Mapping[str, Any], structure: orm.StructureData, site_labels: orm.Dict
) -> dict[str, Any]:
    """The series' ``janus.electronic`` template fitted to one model: its structure and
    labels, and in ``scf``/``nscf`` its own ``nbnd`` and, from the template's
    ``thresholds_per_atom``, its own ``conv_thr``/``etot_conv_thr`` (Ry), and the SCF mixing
    for its size (``scf_for_size``). So a model gets the same pw.x inputs whichever
    series it is in."""
    inputs = dict(template)
    inputs.update(structure=structure, site_labels=site_labels)
    per_atom = inputs.get("thresholds_per_atom")
    for step in ("scf", "nscf"):
        pw = dict(inputs[step]["pw"])
        parameters = pw["parameters"].get_dict()
        parameters.setdefault("SYSTEM", {})["nbnd"] = insulator_bands(structure, pw["pseudos"])
        if per_atom is not None:
            parameters = with_thresholds(parameters, per_atom.get_dict(), len(structure.sites))
        if step == "scf":
            parameters = scf_for_size(parameters, len(structure.sites))
        pw["parameters"] = orm.Dict(parameters)
        inputs[step] = {**inputs[step], "pw": pw}
    return inputs


def model_relax_inputs(
    relax: Mapping[str, Any], template_spec: Mapping[str, Any], model_spec: Mapping[str, Any]
) -> dict[str, Any]:
    """The series' relaxation inputs (``janus.interface``'s ``relax``, made by its builder
    for ``template_spec``) fitted to the model ``model_spec`` builds on the same lattices
    (:func:`size_fit.fitted_to_structure`: its occupied bands plus the template's empty
    ones, thresholds scaled with its atoms). ``janus.interface`` fits them again to the
    model it actually builds (relaxed lattices may change its cell).

    Why: the template is one interface (the protocol's, e.g. 5 + 4 planes: 116 occupied
    bands); every model of the series was relaxed with its ``nbnd``, too few bands for a
    thicker model (pw.x refuses a closed shell it cannot fill) and twice the work for a
    thinner one (the capped run of 2026-12-06 gave a 13-atom model 124 bands for 58
    occupied).
    """
    pw = dict(relax["pw"])
    fitted = fitted_to_structure(
        pw["parameters"].get_dict(),
        pw["pseudos"],
        preview_structure(template_spec),
        preview_structure(model_spec),
    )
    pw["parameters"] = orm.Dict(fitted)
    return {**relax, "pw": pw}
