"""Calcfunctions of ``janus.charge_densities``: the IS/FS choice and their densities' analysis.

``transfer_states`` records which states were chosen and why; ``transfer_densities`` reads
the pp.x cubes and records localisation fractions, element shares (projections and
real-space Bader/Voronoi partitions) and the normalised spatial overlap. Their plain-Python
twins (``select_states``, ``analyse_densities``) let the workchain check the input before
anything is stored.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import numpy as np
from aiida import orm
from aiida.engine import calcfunction

from heterostructures.electronic.densities import (
    PARTITION,
    TransferStates,
    domain_fractions,
    layer_partition,
    line_density,
    select_transfer_states,
    spatial_overlap,
)
from heterostructures.electronic.projected_dos import ElectronicStructureError
from heterostructures.electronic.real_space_partition import (
    BADER,
    VORONOI,
    element_ranking,
    real_space_shares,
)
from heterostructures.io.cube import read_cube
from heterostructures.io.projwfc_files import read_atomic_projections, read_atomic_states
from heterostructures.plots.electronic import plot_transfer_densities
from workflows.calcfunctions.electronic import ATOMIC_PROJ, CUBE_FILE, PROJWFC_STDOUT, SiteLabels
from workflows.inputs.transfer_states import (
    ROLES,
)


def select_states(folder: Path, labels: SiteLabels, settings: dict[str, Any]) -> TransferStates:
    """IS/FS from a projwfc.x folder; ``settings``: donor, acceptor, carrier, threshold, k_index.

    ``k_index`` is a 1-based k-point, ``None`` (search all) or ``"gamma"``: the NA snapshots
    of the pipeline are Γ-only, so the states they follow must be Γ states.
    """
    projections = read_atomic_projections(folder / ATOMIC_PROJ)
    return select_transfer_states(
        projections,
        read_atomic_states(folder / PROJWFC_STDOUT),
        labels.domains,
        labels.layers,
        donor=settings["donor"],
        acceptor=settings["acceptor"],
        carrier=settings.get("carrier", "electron"),
        threshold=float(settings.get("threshold", 0.5)),
        k_index=resolve_k_index(settings.get("k_index"), projections.k_points),
    )


def resolve_k_index(k_index: int | str | None, k_points: Any) -> int | None:
    """A 1-based k-point index; ``"gamma"`` becomes the index of Γ in ``k_points``."""
    if k_index != "gamma":
        return None if k_index is None else int(k_index)
    norms = np.linalg.norm(np.asarray(k_points, dtype=float), axis=1)
    if norms.size == 0 or norms.min() > 1e-6:
        raise ElectronicStructureError(
            "k_index 'gamma': the NSCF k-points do not include Γ; use a Γ-centred mesh "
            "(no shift) or give a k-point index"
        )
    return int(np.argmin(norms)) + 1


def transfer_states_dict(transfer: TransferStates) -> dict[str, Any]:
    """JSON form of the IS/FS choice (1-based k-point and band, as pp.x wants them)."""

    def state(character: Any) -> dict[str, Any]:
        return {
            "k_index": character.k_index,
            "band": character.band,
            "energy_ev": character.energy_ev,
            "domain_weights": character.domain_weights,
            "element_weights": character.element_weights,
            "layer_weights": {f"{d} layer {n}": w for (d, n), w in character.layer_weights.items()},
        }

    return {
        "carrier": transfer.carrier,
        "donor": transfer.donor,
        "acceptor": transfer.acceptor,
        "threshold": transfer.threshold,
        "initial": state(transfer.initial),
        "final": state(transfer.final),
        "energy_gap_ev": transfer.energy_gap_ev,
        "explanation": transfer.explanation,
    }


@calcfunction
def transfer_states(
    projections: orm.FolderData,
    structure: orm.StructureData,
    site_labels: orm.Dict,
    settings: orm.Dict,
) -> orm.Dict:
    """Record the IS/FS choice made on a projwfc.x retrieved folder."""
    labels = SiteLabels.from_nodes(structure, site_labels)
    with projections.base.repository.as_path() as folder:
        chosen = select_states(Path(folder), labels, settings.get_dict())
    return orm.Dict(transfer_states_dict(chosen))


def element_shares(grid: Any, symbols: list[str]) -> dict[str, dict[str, float]]:
    """Element shares of a |ψ|² cube by the Bader and Voronoi real-space partitions."""
    return {
        method: real_space_shares(grid, method, symbols).element_shares
        for method in ("bader", "voronoi")
    }


def analyse_densities(
    initial_cube: Path, final_cube: Path, labels: SiteLabels, plot_path: Path
) -> dict[str, Any]:
    """Norms, layer/domain fractions (spatial partition), element shares (Bader, Voronoi)
    and the normalised ∫|ψ_IS||ψ_FS| of two pp.x cubes."""
    grids = {"initial": read_cube(initial_cube), "final": read_cube(final_cube)}
    summary: dict[str, Any] = {
        "partition": PARTITION,
        "element_partitions": {"bader": BADER, "voronoi": VORONOI},
    }
    lines = {}
    for role, grid in grids.items():
        layers = layer_partition(grid, labels.z_ang, labels.domains, labels.layers)
        lines[role] = line_density(grid)
        summary[role] = {
            "norm": grid.integral(),
            "layer_fractions": {f"{d} layer {n}": f for (d, n), f in layers.items()},
            "domain_fractions": domain_fractions(layers),
            "element_shares": element_shares(grid, labels.symbols),
        }
    summary["spatial_overlap"] = spatial_overlap(grids["initial"], grids["final"])
    z = lines["initial"][0]
    plot_transfer_densities(
        z, lines["initial"][1], lines["final"][1], labels.z_ang, labels.symbols,
        labels.domains, plot_path,
    )  # fmt: skip
    return summary


@calcfunction
def transfer_densities(
    states: orm.Dict,
    initial: orm.FolderData,
    final: orm.FolderData,
    structure: orm.StructureData,
    site_labels: orm.Dict,
) -> dict[str, orm.Data]:
    """IS/FS summary Dict (choice + spatial analysis) and the planar-average PNG."""
    labels = SiteLabels.from_nodes(structure, site_labels)
    with (
        initial.base.repository.as_path() as initial_folder,
        final.base.repository.as_path() as final_folder,
        tempfile.TemporaryDirectory() as scratch,
    ):
        plot = Path(scratch) / "transfer_densities.png"
        spatial = analyse_densities(
            Path(initial_folder) / CUBE_FILE, Path(final_folder) / CUBE_FILE, labels, plot
        )
        picture = orm.SinglefileData(file=plot)
    return {
        "summary": orm.Dict(combine_summary(states.get_dict(), spatial)),
        "density_plot": picture,
    }


def combine_summary(states: dict[str, Any], spatial: dict[str, Any]) -> dict[str, Any]:
    """IS/FS choice + spatial analysis; each role gets ``element_shares`` by every method.

    ``projection`` (Löwdin shares, normalised over the pseudo-atomic basis: diffuse
    projectors such as the NC Cs 6s inflate their element) sits next to the real-space
    ``bader`` and ``voronoi`` shares of the same |ψ|², so a reader sees both.
    """
    summary = states | {"spatial": spatial}
    for role in ROLES:
        shares = dict(spatial[role]["element_shares"])
        if "element_weights" in states.get(role, {}):
            shares["projection"] = states[role]["element_weights"]
        summary[role] = summary.get(role, {}) | {"element_shares": shares}
    return summary


def describe_element_shares(summary: dict[str, Any]) -> str:
    """One line per role: elements ranked by each method, largest share first."""
    lines = []
    for role in ROLES:
        ranked = []
        for method, shares in summary[role]["element_shares"].items():
            top = ", ".join(f"{e} {shares[e]:.2f}" for e in element_ranking(shares)[:3])
            ranked.append(f"{method}: {top}")
        lines.append(f"{role} state element shares — " + "; ".join(ranked))
    return "\n".join(lines)
