"""Band offsets between two domains and the alignment type, by both routes (eV).

Two routes to the band offsets (DESIGN.md, Science):

1. *Projected edges* — VBM/CBM of the middle layers of each domain from the interface
   calculation (:func:`domain_alignment`, edges by
   :mod:`heterostructures.electronic.projected_dos`).
2. *Potential line-up* — bulk VBM/CBM relative to the bulk mean electrostatic potential,
   lined up by the step ΔV of the macroscopic average across the interface
   (:func:`lineup_offsets`; averages in :mod:`heterostructures.electronic.densities`).

Sign convention (:data:`SIGN_CONVENTION`): for domains A and B,
ΔE_V = E_VBM(A) − E_VBM(B) and ΔE_C = E_CBM(A) − E_CBM(B), in eV. With A the donor
of electrons (e.g. CsPbBr3) and B the acceptor (CdS), ΔE_C > 0 means electrons gain
energy by moving A → B.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from heterostructures.electronic.projected_dos import (
    DEFAULT_MIN_GAP_EV,
    EDGE_FIT_STATES_PER_ATOM,
    LEVEL_OF_THEORY,
    BandEdges,
    ElectronicStructureError,
    check_atom_labels,
    group_projected_dos,
    middle_layer_mask,
    pdos_band_edges,
)
from heterostructures.io.projwfc_files import ProjectedDos

SIGN_CONVENTION = "ΔE_V = E_VBM(A) − E_VBM(B), ΔE_C = E_CBM(A) − E_CBM(B) (eV)"


@dataclass(frozen=True)
class OffsetResult:
    """Band offsets between two domains by one route, with the alignment type."""

    route: str
    valence_offset_ev: float | None
    conduction_offset_ev: float | None
    alignment_type: str
    reason: str = ""

    def as_dict(self) -> dict[str, Any]:
        """The fields, as stored (JSON-safe)."""
        return asdict(self)


@dataclass(frozen=True)
class BulkReference:
    """Bulk band edges relative to the bulk cell-averaged electrostatic potential (eV)."""

    vbm_ev: float
    cbm_ev: float
    mean_potential_ev: float

    @property
    def gap_ev(self) -> float:
        """Bulk gap CBM − VBM (eV)."""
        return self.cbm_ev - self.vbm_ev

    def as_dict(self) -> dict[str, float]:
        """Fields, the gap and both edges relative to V̄ (E_edge − V̄, eV), as stored."""
        return asdict(self) | {
            "gap_ev": self.gap_ev,
            "vbm_minus_potential_ev": self.vbm_ev - self.mean_potential_ev,
            "cbm_minus_potential_ev": self.cbm_ev - self.mean_potential_ev,
        }


@dataclass(frozen=True)
class BandAlignment:
    """Band alignment of domain A against domain B by both routes (route 2 optional)."""

    domain_a: str
    domain_b: str
    edges_a: BandEdges
    edges_b: BandEdges
    projected: OffsetResult
    lineup: OffsetResult | None = None
    convention: str = SIGN_CONVENTION
    level_of_theory: str = LEVEL_OF_THEORY


def classify_alignment(vbm_a: float, cbm_a: float, vbm_b: float, cbm_b: float) -> str:
    """Alignment type of two gaps (eV): "I" straddling, "II" staggered, "III" broken."""
    if vbm_a >= cbm_b or vbm_b >= cbm_a:
        return "III"
    valence_offset, conduction_offset = vbm_a - vbm_b, cbm_a - cbm_b
    if valence_offset * conduction_offset > 0:
        return "II"
    return "I"


def offsets_from_edges(edges_a: BandEdges, edges_b: BandEdges, route: str) -> OffsetResult:
    """Offsets and type from two domains' edges, or "undetermined" with the reason."""
    for edges in (edges_a, edges_b):
        if edges.gap_ev is None:
            return OffsetResult(
                route, None, None, "undetermined", f"{edges.group}: band edge not found"
            )
        if edges.metallic:
            return OffsetResult(
                route, None, None, "undetermined",
                f"{edges.group}: metallic (gap {edges.gap_ev:.3f} eV < {edges.min_gap_ev} eV)",
            )  # fmt: skip
    vbm_a, cbm_a = edges_a.vbm_ev, edges_a.cbm_ev
    vbm_b, cbm_b = edges_b.vbm_ev, edges_b.cbm_ev
    if vbm_a is None or cbm_a is None or vbm_b is None or cbm_b is None:
        raise AssertionError("unreachable: gaps were checked above")
    return OffsetResult(
        route=route,
        valence_offset_ev=vbm_a - vbm_b,
        conduction_offset_ev=cbm_a - cbm_b,
        alignment_type=classify_alignment(vbm_a, cbm_a, vbm_b, cbm_b),
    )


def bulk_reference(
    eigenvalues_ev: np.ndarray, n_electrons: float, mean_potential_ev: float
) -> BulkReference:
    """Bulk VBM/CBM (eV) from the Kohn–Sham eigenvalues (k, band) of a spin-unpolarised
    insulator with ``n_electrons``, and its cell-averaged potential (eV, same calculation).

    The edges are the extrema over the k-points of the calculation: sample the zone
    boundary (even Γ-centred meshes) when the edges lie there, as in cubic CsPbBr3 (R).
    """
    bands = np.atleast_2d(np.asarray(eigenvalues_ev, dtype=float))
    occupied = round(float(n_electrons)) // 2
    if abs(n_electrons - 2 * occupied) > 1e-6:
        raise ElectronicStructureError(
            f"{n_electrons} electrons: an odd count has a half-filled band; a bulk reference "
            "must be a closed-shell insulator (check the cell's stoichiometry)"
        )
    if bands.shape[1] <= occupied:
        raise ElectronicStructureError(
            f"{bands.shape[1]} bands for {occupied} occupied: the bulk reference SCF needs "
            "empty bands for its CBM (set SYSTEM.nbnd above n_electrons / 2)"
        )
    vbm, cbm = float(bands[:, occupied - 1].max()), float(bands[:, occupied].min())
    if cbm - vbm < DEFAULT_MIN_GAP_EV:
        raise ElectronicStructureError(
            f"bulk reference gap {cbm - vbm:.3f} eV: metallic, so it has no band edges to "
            "line up (check the strain and the pseudopotentials)"
        )
    return BulkReference(vbm, cbm, float(mean_potential_ev))


def lineup_offsets(bulk_a: BulkReference, bulk_b: BulkReference, delta_v_ev: float) -> OffsetResult:
    """Route 2: ΔE_V = (E_VBM^A − V̄^A_bulk) − (E_VBM^B − V̄^B_bulk) + ΔV, same for CBM.

    ``delta_v_ev`` = V̄^A − V̄^B, the macroscopic-average potential energy (eV) in the
    middle of domain A minus that in the middle of domain B, in the interface cell.
    The bulk references must be strained like the interface.
    """
    vbm_a = bulk_a.vbm_ev - bulk_a.mean_potential_ev + delta_v_ev
    cbm_a = bulk_a.cbm_ev - bulk_a.mean_potential_ev + delta_v_ev
    vbm_b = bulk_b.vbm_ev - bulk_b.mean_potential_ev
    cbm_b = bulk_b.cbm_ev - bulk_b.mean_potential_ev
    return OffsetResult(
        route="potential line-up with bulk references",
        valence_offset_ev=vbm_a - vbm_b,
        conduction_offset_ev=cbm_a - cbm_b,
        alignment_type=classify_alignment(vbm_a, cbm_a, vbm_b, cbm_b),
    )


def domain_alignment(
    pdos: ProjectedDos,
    domains: Sequence[str],
    layers: Sequence[int],
    pair: tuple[str, str],
    reference_ev: float,
    n_middle_layers: int = 1,
    fit_states_per_atom: tuple[float, float] = EDGE_FIT_STATES_PER_ATOM,
    lineup: OffsetResult | None = None,
) -> BandAlignment:
    """Route 1 on the middle layers of each domain of ``pair`` = (A, B), plus route 2 if given."""
    check_atom_labels(domains, pdos.n_atoms, "domain")
    check_atom_labels(layers, pdos.n_atoms, "layer")
    edges = []
    for domain in pair:
        mask = middle_layer_mask(domains, layers, domain, n_middle_layers)
        keys = ["middle" if flag else "other" for flag in mask]
        grouped = group_projected_dos(pdos, keys)
        edges.append(
            pdos_band_edges(
                pdos.energies_ev, grouped.of("middle"), reference_ev, int(mask.sum()),
                fit_states_per_atom, group=f"{domain} (middle {n_middle_layers} layer(s))",
            )
        )  # fmt: skip
    projected = offsets_from_edges(edges[0], edges[1], "layer-projected DOS edges")
    return BandAlignment(pair[0], pair[1], edges[0], edges[1], projected, lineup)
