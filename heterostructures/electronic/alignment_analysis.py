"""Band alignment of an interface from its projwfc.x (and pp.x) output: both routes, one summary.

The plain-Python analysis behind ``janus.electronic``: reads a projwfc.x output folder
(``*.pdos*``, ``atomic_proj.xml``, the projwfc.x stdout) and optionally a pp.x plot_num 11
cube, and gives the edges of the middle layers of each domain, the offsets by route
(projected DOS edges, projection-weighted Kohn–Sham eigenvalues, potential line-up with
strained bulk references), the line-up step ΔV with its uncertainty, and the warnings.
Energies in eV, heights in Å, potentials in Ry as pp.x writes them. The AiiDA layer only
turns nodes into these inputs and the result into nodes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Self

import numpy as np
from ase import Atoms

from heterostructures.electronic.band_offsets import (
    SIGN_CONVENTION,
    BandAlignment,
    BulkReference,
    OffsetResult,
    bulk_reference,
    domain_alignment,
    lineup_offsets,
    offsets_from_edges,
)
from heterostructures.electronic.densities import (
    PLATEAU_TOLERANCE_EV,
    planar_average,
    plane_heights_ang,
)
from heterostructures.electronic.lineup_windows import AtomSites, potential_lineup_step
from heterostructures.electronic.projected_dos import (
    EDGE_FIT_STATES_PER_ATOM,
    LEVEL_OF_THEORY,
    BandEdges,
    ElectronicStructureError,
    GroupedDos,
    check_atom_labels,
    eigenvalue_band_edges,
    group_projected_dos,
    layer_resolved_edges,
    middle_layer_mask,
    midgap_reference,
)
from heterostructures.io.cube import read_cube
from heterostructures.io.projwfc_files import (
    ProjectedDos,
    read_atomic_projections,
    read_atomic_states,
    read_projected_dos,
)
from heterostructures.units import RYDBERG_EV

PREFIX = "aiida"
"""projwfc.x ``filpdos`` prefix of the ``*.pdos*`` files."""
ATOMIC_PROJ = "atomic_proj.xml"
PROJWFC_STDOUT = "aiida.out"
"""projwfc.x stdout: the list of atomic states (atom, l, m of each projection)."""


@dataclass(frozen=True)
class SiteLabels:
    """Plain per-atom labels in pw.x order: domain, layer, element, height z (Å)."""

    domains: list[str]
    layers: list[int]
    symbols: list[str]
    z_ang: list[float]

    @classmethod
    def from_atoms(cls, atoms: Atoms) -> Self:
        """Labels of ``atoms`` carrying ``domain`` and ``layer`` arrays (Å heights)."""
        return cls(
            domains=[str(d) for d in atoms.arrays["domain"]],
            layers=[int(layer) for layer in atoms.arrays["layer"]],
            symbols=atoms.get_chemical_symbols(),
            z_ang=[float(z) for z in atoms.positions[:, 2]],
        )

    def domain_pair(self, requested: Sequence[str] | None) -> tuple[str, str]:
        """(A, B): the requested pair or the first two domains in site order."""
        present = list(dict.fromkeys(self.domains))
        pair = list(requested) if requested else present[:2]
        if len(present) < 2 or len(pair) != 2 or not set(pair) <= set(present):
            raise ElectronicStructureError(
                f"domains {present} (requested {requested}): a band alignment needs an interface "
                "with two labelled domains; build it with janus.interface"
            )
        return pair[0], pair[1]

    def layer_heights(self) -> list[float]:
        """Mean z (Å) of each (domain, layer) in order of first appearance."""
        keys = list(dict.fromkeys(zip(self.domains, self.layers, strict=True)))
        pairs = list(zip(self.domains, self.layers, strict=True))
        return [
            float(np.mean([z for z, key in zip(self.z_ang, pairs, strict=True) if key == wanted]))
            for wanted in keys
        ]


@dataclass(frozen=True)
class AlignmentAnalysis:
    """Everything ``janus.electronic`` stores: summary, PDOS groups, layer edges."""

    summary: dict[str, Any]
    groups: dict[str, GroupedDos]
    layer_edges: tuple[BandEdges, ...]
    zero_ev: float
    zero_label: str
    potential: dict[str, np.ndarray]
    total_pdos: np.ndarray


def _route_dict(offsets: OffsetResult, edges: Sequence[BandEdges]) -> dict[str, Any]:
    return offsets.as_dict() | {"edges": [edge.as_dict() for edge in edges]}


def _eigenvalue_route(
    folder: Path, labels: SiteLabels, pair: tuple[str, str], reference: float, n_middle: int
) -> dict[str, Any]:
    """Route 1b: KS eigenvalues weighted by projections on the middle layers of each domain."""
    projections = read_atomic_projections(folder / ATOMIC_PROJ)
    states = read_atomic_states(folder / PROJWFC_STDOUT)
    edges = []
    for domain in pair:
        atoms = middle_layer_mask(labels.domains, labels.layers, domain, n_middle)
        mask = np.array([atoms[state.atom - 1] for state in states])
        min_weight = 0.5 * float(atoms.sum()) / len(labels.domains)
        edges.append(eigenvalue_band_edges(projections, mask, reference, min_weight, group=domain))
    offsets = offsets_from_edges(edges[0], edges[1], "projection-weighted Kohn–Sham eigenvalues")
    return _route_dict(offsets, edges)


LINEUP_NOTE = (
    "route 2 offsets need bulk references strained like the interface: ΔE = (E_edge − V̄)_A − "
    "(E_edge − V̄)_B + ΔV (band_offsets.lineup_offsets); none were given"
)
LINEUP_ROUTE_NOTE = (
    "ΔE = (E_edge − V̄)_A − (E_edge − V̄)_B + ΔV, bulk edges and V̄ from SCFs of each side's "
    "bulk unit strained in plane as in the interface (heterostructures.structure.interface."
    "strained_bulk_units), same pseudopotentials and cutoffs as the interface"
)


def read_bulk_reference(
    cube: Path, eigenvalues_ev: np.ndarray, n_electrons: float
) -> BulkReference:
    """Edges and cell-mean potential (eV) of a bulk reference: its SCF eigenvalues and the
    pp.x plot_num 11 cube of the same calculation (both carry the same G = 0 constant, so
    E_edge − V̄ does not depend on it)."""
    mean_potential_ev = float(read_cube(cube).data.mean()) * RYDBERG_EV
    return bulk_reference(eigenvalues_ev, n_electrons, mean_potential_ev)


def _lineup_route(
    pair: tuple[str, str], references: dict[str, BulkReference], delta_v_ev: float
) -> dict[str, Any]:
    """Route 2 in the same form as the projected routes (edges are bulk, relative to V̄)."""
    offsets = lineup_offsets(references[pair[0]], references[pair[1]], delta_v_ev)
    return offsets.as_dict() | {
        "delta_v_ev": delta_v_ev,
        "bulk_references": {domain: references[domain].as_dict() for domain in pair},
        "note": LINEUP_ROUTE_NOTE,
    }


def analyse_potential(
    cube: Path, labels: SiteLabels, pair: tuple[str, str], settings: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Route 2 step: ΔV = V̄(middle of A) − V̄(middle of B) (eV) of the pp.x plot_num 11 cube.

    Double macroscopic average with each domain's stacking period
    (:func:`heterostructures.electronic.lineup_windows.potential_lineup_step`), or with
    ``settings["lineup_periods_ang"]`` (Å) when given.
    """
    grid = read_cube(cube)
    z = plane_heights_ang(grid)
    planar = planar_average(grid.data)
    sites = AtomSites(labels.z_ang, labels.symbols, labels.domains, labels.layers)
    step = potential_lineup_step(
        z, planar, sites, pair, int(settings.get("n_middle_layers", 1)),
        settings.get("lineup_periods_ang"),
    )  # fmt: skip
    spreads = step.plateau_spread_ev
    summary = {
        "delta_v_ev": step.delta_v_ev,
        "delta_v_uncertainty_ev": step.uncertainty_ev,
        "plateau_spread_ev": spreads,
        "windows_ang": list(step.windows_ang),
        "stacking_periods_ang": step.periods_ang,
        "average": step.average,
        "regions_ang": step.regions_ang,
    }
    if max(spreads.values()) > PLATEAU_TOLERANCE_EV:
        summary["warning"] = (
            "no potential plateau in the middle of "
            + ", ".join(f"{d} (spread {v:.2f} eV)" for d, v in spreads.items())
            + f": the domains are not bulk-like, ΔV and the route 2 offsets are uncertain by "
            f"±{step.uncertainty_ev:.2f} eV; use thicker domains"
        )
    arrays = {"z_ang": z, "planar_ry": planar, "macroscopic_ry": step.macroscopic_ry}
    return summary, arrays


def _with_resolution(routes: dict[str, Any], energies_ev: np.ndarray) -> dict[str, Any]:
    """Each route with ``resolved`` (bool) and, when False, ``unresolved_reason``.

    A route whose |ΔE_V| and |ΔE_C| are both below the PDOS grid step (eV) has offsets
    whose signs, and so its type, are noise. A route without offsets is not judged here
    (``resolved`` True: nothing is claimed that the grid could not resolve).
    """
    step = float(energies_ev[1] - energies_ev[0])
    judged = {}
    for key, route in routes.items():
        below = route["valence_offset_ev"] is not None and (
            max(abs(route["valence_offset_ev"]), abs(route["conduction_offset_ev"])) < step
        )
        judged[key] = route | {"resolved": not below}
        if below:
            judged[key]["unresolved_reason"] = (
                f"|ΔE_V|, |ΔE_C| < {step:.3f} eV (PDOS grid step); the alignment type is not "
                "resolved (domains too thin for bulk-like middle layers?)"
            )
    return judged


def _unresolved_warnings(routes: dict[str, Any]) -> list[str]:
    """The warning of each route judged unresolved, starting with the route's own name."""
    return [
        f"{route['route']}: {route['unresolved_reason']}"
        for route in routes.values()
        if route.get("resolved") is False
    ]


def _grouped(pdos: ProjectedDos, labels: SiteLabels) -> dict[str, GroupedDos]:
    """Projected DOS summed by domain, element and (domain, layer)."""
    layer_keys = [f"{d} layer {n}" for d, n in zip(labels.domains, labels.layers, strict=True)]
    return {
        "domain": group_projected_dos(pdos, labels.domains),
        "element": group_projected_dos(pdos, labels.symbols),
        "layer": group_projected_dos(pdos, layer_keys),
    }


def _fit_window(settings: dict[str, Any]) -> tuple[float, float]:
    """Integrated states per atom fitted for the PDOS edges (same for every group)."""
    low, high = settings.get("edge_fit_states_per_atom") or EDGE_FIT_STATES_PER_ATOM
    return float(low), float(high)


def _determined(
    folder: Path, pdos: ProjectedDos, labels: SiteLabels, pair: tuple[str, str],
    reference: float, settings: dict[str, Any],
) -> tuple[dict[str, Any], BandAlignment]:  # fmt: skip
    """Summary entries of both projected routes for an interface with a gap."""
    n_middle = int(settings.get("n_middle_layers", 1))
    alignment = domain_alignment(
        pdos, labels.domains, labels.layers, pair, reference, n_middle,
        _fit_window(settings),
    )  # fmt: skip
    projected = _route_dict(alignment.projected, [alignment.edges_a, alignment.edges_b])
    routes = _with_resolution(
        {
            "projected_dos": projected,
            "eigenvalues": _eigenvalue_route(folder, labels, pair, reference, n_middle),
        },
        pdos.energies_ev,
    )
    summary = {
        "status": "determined" if projected["alignment_type"] != "undetermined" else "undetermined",
        "alignment_type": projected["alignment_type"],
        "reason": projected["reason"],
        "reference_ev": reference,
        "reference": "midgap between highest occupied and lowest empty KS level (pw.x scale)",
        "domain_gaps_ev": {pair[0]: alignment.edges_a.gap_ev, pair[1]: alignment.edges_b.gap_ev},
        "routes": routes,
        "warnings": _unresolved_warnings(routes),
    }
    return summary, alignment


def analyse_alignment(
    folder: Path,
    labels: SiteLabels,
    settings: dict[str, Any],
    potential_cube: Path | None = None,
    references: dict[str, BulkReference] | None = None,
) -> AlignmentAnalysis:
    """Band alignment of a projwfc.x output folder; metallic → "undetermined", no numbers.

    ``settings``: ``domains`` (A, B) or None, ``edge_fit_states_per_atom``, ``n_middle_layers``,
    ``lineup_periods_ang``. With ``potential_cube`` the line-up step ΔV is added, and with
    strained bulk ``references`` for both domains (keyed by domain) the route 2 offsets.
    Raises ``ProjwfcFileError``/``ElectronicStructureError`` for missing files or labels.
    The energy zero is the VBM of domain A (E_F when metallic), stated in the result.
    """
    pdos = read_projected_dos(folder, PREFIX)
    check_atom_labels(labels.domains, pdos.n_atoms, "domain")
    pair = labels.domain_pair(settings.get("domains"))
    groups = _grouped(pdos, labels)
    summary: dict[str, Any] = {
        "domain_a": pair[0],
        "domain_b": pair[1],
        "sign_convention": SIGN_CONVENTION,
        "level_of_theory": LEVEL_OF_THEORY,
    }
    potential: dict[str, np.ndarray] = {}
    if potential_cube is not None:
        summary["potential_lineup"], potential = analyse_potential(
            potential_cube, labels, pair, settings
        )
    has_references = bool(references) and set(pair) <= set(references or {})
    if "potential_lineup" in summary and not has_references:
        summary["potential_lineup"]["note"] = LINEUP_NOTE
    projections = read_atomic_projections(folder / ATOMIC_PROJ)
    try:
        reference = midgap_reference(projections)
    except ElectronicStructureError as metallic:
        zero = projections.fermi_energy_ev or 0.0
        summary |= {"status": "undetermined", "alignment_type": "undetermined"}
        summary |= {"reason": str(metallic), "energy_zero_ev": zero, "energy_zero": "E_F"}
        return AlignmentAnalysis(summary, groups, (), zero, "E_F", potential, pdos.total_pdos)
    determined, alignment = _determined(folder, pdos, labels, pair, reference, settings)
    if "potential_lineup" in summary and has_references:
        lineup = summary["potential_lineup"]
        determined["routes"]["potential_lineup"] = _lineup_route(
            pair, references or {}, lineup["delta_v_ev"]
        ) | {
            "uncertainty_ev": lineup["delta_v_uncertainty_ev"],
            "reason": lineup.get("warning", ""),
        }
        if "warning" in lineup:
            determined["warnings"].append(f"potential line-up: {lineup['warning']}")
        determined["bulk_gaps_ev"] = {domain: (references or {})[domain].gap_ev for domain in pair}
    vbm = alignment.edges_a.vbm_ev
    zero, zero_label = (reference, "midgap") if vbm is None else (vbm, f"VBM of {pair[0]}")
    summary |= determined | {"energy_zero_ev": zero, "energy_zero": zero_label}
    edges = layer_resolved_edges(
        pdos, labels.domains, labels.layers, reference, _fit_window(settings)
    )
    return AlignmentAnalysis(summary, groups, edges, zero, zero_label, potential, pdos.total_pdos)
