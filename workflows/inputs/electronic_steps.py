"""Inputs of ``janus.electronic``: analysis defaults, port validator, pw.x/projwfc.x/pp.x steps.

Kept beside the workchain so that its module holds only the steps it runs.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from aiida import orm
from aiida_quantumespresso.workflows.protocols.utils import recursive_merge

from workflows.inputs.cutoff_floors import with_ecutrho
from workflows.inputs.pw_builders import (
    THRESHOLDS_PER_ATOM,
    family_overrides,
    protocol_thresholds_per_atom,
    restart_once_on_unhandled_failure,
    scf_for_size,
)
from workflows.inputs.site_labels import interface_labels_error


def validate_electronic_inputs(inputs: dict[str, Any], _: Any) -> str | None:
    """Labels must fit the structure and name two domains (checked before anything runs)."""
    structure, labels = inputs.get("structure"), inputs.get("site_labels")
    if structure is None or labels is None:
        return None
    labels_error = interface_labels_error(structure, labels, "a band alignment needs")
    if labels_error:
        return labels_error
    domains = sorted(set(labels["domain"]))
    computed, given = inputs.get("lineup_references", {}), inputs.get("bulk_references", {})
    references = sorted(set(computed) | set(given))
    if references and "pp_potential" not in inputs:
        return "lineup_references need the interface potential: give pp_potential inputs (pp.x)"
    if set(computed) & set(given):
        return f"give each domain's reference once: {sorted(set(computed) & set(given))} are in "
        "both lineup_references (structures) and bulk_references (computed)"
    if not set(references) <= set(domains):
        return f"lineup_references keys {references} must be domains of the labels {domains}"
    requested = inputs.get("analysis", orm.Dict()).get_dict().get("domains")
    if requested and not set(requested) <= set(domains):
        return f"analysis domains (requested {requested}) must be domains of the labels {domains}"
    return None


DEFAULT_ANALYSIS = {
    "domains": None,
    "edge_fit_states_per_atom": [1e-5, 1e-2],
    "n_middle_layers": 1,
    "lineup_periods_ang": None,
}


def pw_step_builder(
    code: orm.AbstractCode,
    structure: orm.StructureData,
    protocol: str | None,
    inputs: dict[str, Any],
    step: str,
    options: dict[str, Any] | None,
) -> Any:
    """``PwBaseWorkChain`` builder of the ``scf`` or ``nscf`` step from the protocol
    ``inputs`` (janus.electronic's, merged): our pseudo family and cutoffs, an insulator's
    bands, one restart on an unhandled failure, and for the SCF the mixing for the cell's
    size (``scf_for_size``)."""
    from aiida_quantumespresso.common.types import ElectronicType
    from aiida_quantumespresso.workflows.pw.base import PwBaseWorkChain

    family = family_overrides(structure, inputs["pseudo_flavour"], inputs["dual"])
    pw = PwBaseWorkChain.get_builder_from_protocol(
        code,
        structure,
        protocol=protocol,
        overrides=recursive_merge(
            copy.deepcopy(family), with_ecutrho(inputs[step], inputs["dual"])
        ),
        electronic_type=ElectronicType.INSULATOR,
        options=options,
    )
    restart_once_on_unhandled_failure(pw)
    if step == "scf":
        pw.pw.parameters = orm.Dict(scf_for_size(pw.pw.parameters.get_dict(), len(structure.sites)))
    return pw


def post_processing_inputs(
    code: orm.AbstractCode, protocol: dict[str, Any], options: dict[str, Any] | None
) -> dict[str, Any]:
    """``code``, ``parameters`` and ``metadata.options`` of a projwfc.x/pp.x step."""
    metadata = copy.deepcopy(protocol.get("metadata", {}))
    metadata["options"] = recursive_merge(metadata.get("options", {}), options or {})
    inputs: dict[str, Any] = {
        "code": code,
        "parameters": orm.Dict(protocol["parameters"]),
        "metadata": metadata,
    }
    if "settings" in protocol:
        inputs["settings"] = orm.Dict(protocol["settings"])
    return inputs


CUTOFF_KEYS = ("ecutwfc", "ecutrho")


def with_scf_cutoffs(pw: Any, scf_parameters: orm.Dict) -> dict[str, tuple[Any, Any]]:
    """Give the NSCF ``pw`` namespace the SCF's ``ecutwfc``/``ecutrho`` (Ry); returns
    ``{key: (NSCF value, SCF value)}`` of those it changed.

    Why: the NSCF diagonalises the Hamiltonian of the SCF's density, which it reads; at
    other cutoffs its basis and density grid are not the SCF's. A caller who overrides
    only ``electronic.scf``'s cutoffs got such an NSCF.
    """
    scf_system = scf_parameters.get_dict().get("SYSTEM", {})
    parameters = copy.deepcopy(pw.parameters.get_dict())  # nested dicts are the node's own
    system = parameters.setdefault("SYSTEM", {})
    changed = {
        key: (system.get(key), scf_system[key])
        for key in CUTOFF_KEYS
        if key in scf_system and system.get(key) != scf_system[key]
    }
    if changed:
        system.update({key: scf for key, (_, scf) in changed.items()})
        pw.parameters = orm.Dict(parameters)
    return changed


def absolute_scf_thresholds(steps: Mapping[str, Any]) -> dict[str, float]:
    """The absolute thresholds (Ry) the merged ``janus.electronic`` inputs ``steps`` give
    its ``scf``, by per-atom key (``conv_thr_per_atom`` for ``conv_thr``, …). No janus
    protocol sets one (they give ``meta_parameters``), so these are the caller's."""
    parameters = steps.get("scf", {}).get("pw", {}).get("parameters", {})
    return {
        key: float(parameters[namelist][name])
        for key, (namelist, name) in THRESHOLDS_PER_ATOM.items()
        if name in parameters.get(namelist, {})
    }


def electronic_thresholds(protocol: str | None, steps: Mapping[str, Any], atoms: int) -> orm.Dict:
    """Per-atom SCF thresholds (Ry per atom) of a ``janus.electronic`` step on ``atoms``
    atoms: those of aiida-quantumespresso's ``protocol``, with the ``meta_parameters`` its
    ``scf`` and ``nscf`` protocol inputs (``steps``, janus.electronic's merged) give; one
    set for both, so the two never silently differ. An absolute ``conv_thr`` or
    ``etot_conv_thr`` given to the ``scf`` (:func:`absolute_scf_thresholds`) wins there, as
    in aiida-quantumespresso ("overrides are considered absolute"), and counts as that
    value / ``atoms`` per atom (a series refuses it: its template is its thickest model).

    Why: the step's line-up reference SCFs (strained bulk, a few atoms) and a series'
    models are other systems than the interface its ``scf`` was made for; each gets these
    × its own atoms (``with_thresholds``), the accuracy per atom asked for the interface,
    instead of the interface's absolute ``conv_thr``.
    """
    scf, nscf = (protocol_thresholds_per_atom(protocol, steps[step]) for step in ("scf", "nscf"))
    if scf != nscf:
        raise ValueError(f"electronic meta_parameters: scf {scf} ≠ nscf {nscf}; give one set")
    scf |= {key: value / atoms for key, value in absolute_scf_thresholds(steps).items()}
    return orm.Dict(scf)
