"""Inputs of ``janus.charge_densities``: IS/FS selection defaults, pp.x state, validator.

Kept beside the workchain so that its module holds only the steps it runs.
"""

from __future__ import annotations

from typing import Any

from aiida import orm

from workflows.inputs.site_labels import interface_labels_error

ROLES = ("initial", "final")
DEFAULT_SELECTION = {"carrier": "electron", "threshold": 0.5, "k_index": None}


def state_parameters(k_index: int, band: int) -> dict[str, Any]:
    """pp.x input for |ψ|² of one state (1-based k-point and band) as a 3D cube."""
    return {
        "INPUTPP": {"plot_num": 7, "kpoint": [k_index], "kband": [band], "lsign": False},
        "PLOT": {"iflag": 3},
    }


def _state_range_error(states: dict[str, Any], parent: orm.RemoteData) -> str | None:
    """Bands/k-points beyond those the parent pw.x calculation computed."""
    try:
        parameters = parent.creator.outputs.output_parameters
    except AttributeError:
        return None
    n_bands, n_k = parameters["number_of_bands"], parameters["number_of_k_points"]
    for role in ROLES:
        band, k_index = states[role]["band"], states[role]["k_index"]
        if not (1 <= band <= n_bands and 1 <= k_index <= n_k):
            return (
                f"{role} state (k {k_index}, band {band}) out of range: the parent computed bands "
                f"1…{n_bands} at k-points 1…{n_k}; pick a computed state or raise nbnd"
            )
    return None


def validate_density_inputs(inputs: dict[str, Any], namespace: Any) -> str | None:
    """Labels fit and name ≥ 2 domains; states given either explicitly or by selection.

    When exposed without ``projections`` (janus.pipeline provides them at run time), a
    ``selection`` alone is enough.
    """
    labels_error = interface_labels_error(
        inputs.get("structure"), inputs.get("site_labels"), "IS/FS need"
    )
    if labels_error:
        return labels_error
    projections_given = "projections" in inputs or (
        namespace is not None and "projections" not in namespace
    )
    if ("states" in inputs) == (projections_given and "selection" in inputs):
        return "give either `states` or both `projections` and `selection`"
    if "states" in inputs and "parent_folder" in inputs:
        return _state_range_error(inputs["states"].get_dict(), inputs["parent_folder"])
    return None
