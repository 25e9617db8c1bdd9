"""Domain-/layer-/element-/orbital-projected DOS, band edges, band offsets, alignment type.

Inputs are the arrays of :mod:`heterostructures.io.projwfc_files` plus per-atom labels as
plain sequences (domain strings, layer integers counted from the interface); no AiiDA.

Two routes to the band offsets (DESIGN.md, Science):

1. *Projected edges* — VBM/CBM of each domain from its projected DOS (integrated
   number of states extrapolated to zero at the band onset, not a smeared peak) or
   from Kohn–Sham eigenvalues weighted by projections, in the interface calculation.
2. *Potential line-up* — bulk VBM/CBM relative to the bulk mean electrostatic potential,
   lined up by the step ΔV of the macroscopic average across the interface
   (:func:`lineup_offsets`; averages in :mod:`heterostructures.electronic.densities`).

Sign convention (:data:`SIGN_CONVENTION`): for domains A and B,
ΔE_V = E_VBM(A) − E_VBM(B) and ΔE_C = E_CBM(A) − E_CBM(B), in eV. With A the donor
of electrons (e.g. CsPbBr3) and B the acceptor (CdS), ΔE_C > 0 means electrons gain
energy by moving A → B. Level of theory: PBE without spin–orbit; PBE gaps are
underestimated (:data:`LEVEL_OF_THEORY`).
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass

import numpy as np

from heterostructures.electronic.bands import occupied_bands
from heterostructures.io.projwfc_files import AtomicProjections, ProjectedDos

SIGN_CONVENTION = "ΔE_V = E_VBM(A) − E_VBM(B), ΔE_C = E_CBM(A) − E_CBM(B) (eV)"
LEVEL_OF_THEORY = "PBE, no spin–orbit coupling: PBE gaps are underestimated"
EDGE_FIT_STATES_PER_ATOM = (1e-5, 1e-2)
"""Window (integrated projected states per atom of a group, counted from the reference)
whose PDOS grid points are fitted by N(E) = A |E − E_edge|^p to extrapolate the edge.

Why not a threshold: the edge found where N reaches a threshold lies inside the band.
Measured on bulk ZB CdS and cubic CsPbBr3 (6×6×6 k, tetrahedra, ``qe67_projwfc_*_bulk``)
at 1e-3 states per atom, (VBM, CBM) sit (0.086, 0.50) eV and (0.28, 0.095) eV inside
the bands — the dispersive CdS conduction band holds few states near Γ, so a threshold
biases the two materials differently. The fit extrapolates to N = 0 instead (within
0.01 eV of the Kohn–Sham edges of the same runs)."""
EDGE_ONSET_POWERS = (1.5, 3.0)
"""Range of the onset power p in N(E) ∝ |E − E_edge|^p. A parabolic band in 3D has a √
DOS onset, p = 3/2 (the dense-mesh limit). The linear tetrahedron method interpolates a
band linearly from the extremum's k-point, a cone, so up to the next mesh eigenvalue its
DOS rises as (E − E_edge)², p = 3 (measured: p ≈ 3.0 on the fixtures above)."""
DEFAULT_MIN_GAP_EV = 0.05
"""A group whose edges are closer than this (eV) is reported as metallic (no gap)."""


class ElectronicStructureError(ValueError):
    """The electronic-structure input cannot give a trustworthy answer; says what to fix."""


@dataclass(frozen=True)
class GroupedDos:
    """Projected DOS summed over groups of atoms (and optionally orbitals), states/eV/cell."""

    energies_ev: np.ndarray
    keys: tuple[Hashable, ...]
    dos: np.ndarray
    n_atoms: np.ndarray

    def of(self, key: Hashable) -> np.ndarray:
        """The projected DOS of one group."""
        try:
            return np.asarray(self.dos[self.keys.index(key)])
        except ValueError:
            raise ElectronicStructureError(f"no group {key!r}; groups are {self.keys}") from None


@dataclass(frozen=True)
class BandEdges:
    """VBM and CBM (eV) of one group of atoms; None when not found in the data."""

    group: str
    method: str
    valence_band_max_ev: float | None
    conduction_band_min_ev: float | None
    reference_ev: float
    threshold: float
    min_gap_ev: float = DEFAULT_MIN_GAP_EV

    @property
    def gap_ev(self) -> float | None:
        """CBM − VBM in eV, None if an edge is missing."""
        if self.valence_band_max_ev is None or self.conduction_band_min_ev is None:
            return None
        return self.conduction_band_min_ev - self.valence_band_max_ev

    @property
    def metallic(self) -> bool:
        """True when the group has states at the reference (gap below ``min_gap_ev``)."""
        gap = self.gap_ev
        return gap is not None and gap < self.min_gap_ev


@dataclass(frozen=True)
class OffsetResult:
    """Band offsets between two domains by one route, with the alignment type."""

    route: str
    valence_offset_ev: float | None
    conduction_offset_ev: float | None
    alignment_type: str
    reason: str = ""


@dataclass(frozen=True)
class BulkReference:
    """Bulk band edges relative to the bulk cell-averaged electrostatic potential (eV)."""

    valence_band_max_ev: float
    conduction_band_min_ev: float
    mean_potential_ev: float


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


def check_atom_labels(labels: Sequence[object], n_atoms: int, what: str) -> None:
    """Raise a clear error if per-atom labels do not match the atoms of the calculation."""
    if len(labels) != n_atoms:
        raise ElectronicStructureError(
            f"{len(labels)} {what} labels for {n_atoms} atoms in the projwfc output: label every "
            "atom of the interface (structure.layers) in the order of the pw.x input"
        )


def group_projected_dos(
    pdos: ProjectedDos, atom_keys: Sequence[Hashable], by_orbital: bool = False
) -> GroupedDos:
    """Sum the per-(atom, wfc) projected DOS by a key per atom (domain, layer, element…).

    With ``by_orbital`` the keys become ``(atom key, orbital letter)``. The groups always
    sum back to ``pdos.total_pdos`` (up to the 3 digits projwfc prints).
    """
    check_atom_labels(atom_keys, pdos.n_atoms, "group")
    orbital_keys: list[Hashable] = [atom_keys[atom - 1] for atom in pdos.orbital_atoms]
    if by_orbital:
        orbital_keys = [
            (key, label) for key, label in zip(orbital_keys, pdos.orbital_labels, strict=True)
        ]
    keys = tuple(dict.fromkeys(orbital_keys))
    index = np.array([keys.index(key) for key in orbital_keys])
    dos = np.zeros((len(keys), pdos.energies_ev.size))
    np.add.at(dos, index, pdos.orbital_dos)
    atoms_of_group: dict[Hashable, set[int]] = {key: set() for key in keys}
    for atom, key in zip(pdos.orbital_atoms, orbital_keys, strict=True):
        atoms_of_group[key].add(int(atom))
    n_atoms = np.array([len(atoms_of_group[key]) for key in keys])
    return GroupedDos(pdos.energies_ev, keys, dos, n_atoms)


def _cumulative_states(energies_ev: np.ndarray, dos: np.ndarray) -> np.ndarray:
    """∫ g dE from the bottom of the window (trapezoid), negative noise clipped."""
    steps = 0.5 * (dos[1:] + dos[:-1]).clip(min=0.0) * np.diff(energies_ev)
    return np.concatenate([[0.0], np.cumsum(steps)])


def _onset_distance(
    distance_ev: np.ndarray, states: np.ndarray, window: tuple[float, float]
) -> float | None:
    """Distance (eV) from the reference to the edge: N = A (x − x₀)^p fitted to the points
    (x, N) with N in ``window`` (states, counted outward), p in :data:`EDGE_ONSET_POWERS`.

    For each p, N^(1/p) is linear in x and its zero is x₀; the p with the smallest rms
    residual (in eV) wins. Fewer than three points in the window (coarse grid): the three
    nearest the edge above its lower end. x₀ is kept between the reference and the first
    fitted point. None when the states never reach the window (no band on that side).
    """
    inside = np.flatnonzero((states >= window[0]) & (states <= window[1]))
    if inside.size < 3:
        inside = np.flatnonzero(states >= window[0])[:3]
    if inside.size < 3:
        return None
    x, n = distance_ev[inside], states[inside]
    best: tuple[float, float] | None = None
    for power in np.linspace(*EDGE_ONSET_POWERS, 31):
        slope, intercept = np.polyfit(x, n ** (1.0 / power), 1)
        if slope <= 0:
            continue
        residual = float(np.sqrt(np.mean((n ** (1.0 / power) - slope * x - intercept) ** 2)))
        if best is None or residual / slope < best[0]:
            best = (residual / slope, -intercept / slope)
    if best is None:
        return None
    return float(np.clip(best[1], 0.0, x[0]))


def pdos_band_edges(
    energies_ev: np.ndarray,
    dos: np.ndarray,
    reference_ev: float,
    n_atoms: int,
    fit_states_per_atom: tuple[float, float] = EDGE_FIT_STATES_PER_ATOM,
    group: str = "",
) -> BandEdges:
    """VBM below and CBM above ``reference_ev`` (eV, in the gap, e.g. midgap) where the
    projected states integrated away from the reference extrapolate to zero.

    N(E), the states between the reference and E, rises from a band edge as a power
    |E − E_edge|^p (:data:`EDGE_ONSET_POWERS`); the grid points whose N lies between the
    two bounds of ``fit_states_per_atom`` × ``n_atoms`` are fitted and N = 0 is solved
    for (:func:`_onset_distance`). Same rule for every group and material. Needs a
    tetrahedron PDOS: Gaussian broadening σ moves the edges out into the gap by ~2σ.
    """
    if not energies_ev[0] < reference_ev < energies_ev[-1]:
        raise ElectronicStructureError(
            f"reference {reference_ev:.3f} eV lies outside the PDOS window "
            f"[{energies_ev[0]:.3f}, {energies_ev[-1]:.3f}] eV: widen Emin/Emax of projwfc.x"
        )
    counts = _cumulative_states(energies_ev, np.asarray(dos, dtype=float))
    at_reference = float(np.interp(reference_ev, energies_ev, counts))
    window = (fit_states_per_atom[0] * n_atoms, fit_states_per_atom[1] * n_atoms)
    above, below = energies_ev > reference_ev, energies_ev < reference_ev
    to_cbm = _onset_distance(
        energies_ev[above] - reference_ev, counts[above] - at_reference, window
    )
    to_vbm = _onset_distance(
        (reference_ev - energies_ev[below])[::-1], (at_reference - counts[below])[::-1], window
    )
    return BandEdges(
        group=group,
        method=(
            f"projected DOS: N(E) ∝ |E − E_edge|^p fitted between {fit_states_per_atom[0]:g} "
            f"and {fit_states_per_atom[1]:g} integrated states per atom, extrapolated to N = 0"
        ),
        valence_band_max_ev=None if to_vbm is None else reference_ev - to_vbm,
        conduction_band_min_ev=None if to_cbm is None else reference_ev + to_cbm,
        reference_ev=reference_ev,
        threshold=window[1],
    )


def group_state_weights(projections: AtomicProjections, state_in_group: np.ndarray) -> np.ndarray:
    """Share (0…1) of each Kohn–Sham state (k, band) on a group of atomic states.

    Normalised by the state's total projection, so states the atomic basis describes
    incompletely (Σ|<φ|ψ>|² < 1, typically high conduction bands) still sum to 1.
    """
    mask = np.asarray(state_in_group, dtype=bool)
    if mask.shape != (projections.weights.shape[2],):
        raise ElectronicStructureError(
            f"mask over {mask.size} atomic states, projections have {projections.weights.shape[2]}"
        )
    total = projections.weights.sum(axis=2)
    return np.asarray(projections.weights[:, :, mask].sum(axis=2) / np.where(total > 0, total, 1.0))


def eigenvalue_band_edges(
    projections: AtomicProjections,
    state_in_group: np.ndarray,
    reference_ev: float,
    min_weight: float,
    group: str = "",
) -> BandEdges:
    """VBM/CBM (eV) as the highest/lowest Kohn–Sham eigenvalue below/above the reference
    whose weight on the group (:func:`group_state_weights`) is at least ``min_weight``.

    A fair ``min_weight`` is about half the group's share of the atoms: a state spread
    evenly over the cell then counts for every group.
    """
    weights = group_state_weights(projections, state_in_group)
    energies = projections.eigenvalues_ev
    on_group = weights >= min_weight
    below = energies[on_group & (energies <= reference_ev)]
    above = energies[on_group & (energies > reference_ev)]
    return BandEdges(
        group=group,
        method=f"Kohn–Sham eigenvalues with weight ≥ {min_weight:.3f} on the group",
        valence_band_max_ev=float(below.max()) if below.size else None,
        conduction_band_min_ev=float(above.min()) if above.size else None,
        reference_ev=reference_ev,
        threshold=min_weight,
    )


def midgap_reference(projections: AtomicProjections) -> float:
    """Midpoint (eV) between the highest occupied and lowest empty Kohn–Sham level.

    Counts n_electrons/2 occupied bands (spin-unpolarised). Raises if the system has no
    gap, so that no band edge is silently measured from a Fermi level inside a band.
    """
    try:
        n_occupied = occupied_bands(projections.n_electrons)
    except ValueError:
        n_occupied = projections.n_bands
    if n_occupied >= projections.n_bands:
        raise ElectronicStructureError(
            f"{projections.n_electrons} electrons in {projections.n_bands} bands: need an even "
            "count and at least one empty band (raise nbnd) to place a midgap reference"
        )
    homo = float(projections.eigenvalues_ev[:, n_occupied - 1].max())
    lumo = float(projections.eigenvalues_ev[:, n_occupied].min())
    if lumo - homo < DEFAULT_MIN_GAP_EV:
        raise ElectronicStructureError(
            f"metallic: highest occupied {homo:.3f} eV ≥ lowest empty {lumo:.3f} eV − "
            f"{DEFAULT_MIN_GAP_EV} eV; band offsets are undefined for a metallic interface"
        )
    return 0.5 * (homo + lumo)


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
    vbm_a, cbm_a = edges_a.valence_band_max_ev, edges_a.conduction_band_min_ev
    vbm_b, cbm_b = edges_b.valence_band_max_ev, edges_b.conduction_band_min_ev
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
    vbm_a = bulk_a.valence_band_max_ev - bulk_a.mean_potential_ev + delta_v_ev
    cbm_a = bulk_a.conduction_band_min_ev - bulk_a.mean_potential_ev + delta_v_ev
    vbm_b = bulk_b.valence_band_max_ev - bulk_b.mean_potential_ev
    cbm_b = bulk_b.conduction_band_min_ev - bulk_b.mean_potential_ev
    return OffsetResult(
        route="potential line-up with bulk references",
        valence_offset_ev=vbm_a - vbm_b,
        conduction_offset_ev=cbm_a - cbm_b,
        alignment_type=classify_alignment(vbm_a, cbm_a, vbm_b, cbm_b),
    )


def middle_layer_mask(
    domains: Sequence[str], layers: Sequence[int], domain: str, n_layers: int = 1
) -> np.ndarray:
    """Atoms of ``domain`` in its ``n_layers`` layers farthest from the interface."""
    if domain not in domains:
        raise ElectronicStructureError(
            f"no atom labelled {domain!r} (labels: {sorted(set(domains))}); is this an interface?"
        )
    in_domain = np.asarray(domains) == domain
    depth = np.abs(np.asarray(layers))
    deepest = np.unique(depth[in_domain])[-n_layers:]
    return np.asarray(in_domain & np.isin(depth, deepest))


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


def layer_resolved_edges(
    pdos: ProjectedDos,
    domains: Sequence[str],
    layers: Sequence[int],
    reference_ev: float,
    fit_states_per_atom: tuple[float, float] = EDGE_FIT_STATES_PER_ATOM,
) -> tuple[BandEdges, ...]:
    """Projected-DOS band edges of every (domain, layer) group, for the edge profile."""
    check_atom_labels(domains, pdos.n_atoms, "domain")
    keys = list(zip(domains, layers, strict=True))
    grouped = group_projected_dos(pdos, keys)
    return tuple(
        pdos_band_edges(
            pdos.energies_ev,
            dos,
            reference_ev,
            int(count),
            fit_states_per_atom,
            f"{key[0]} layer {key[1]}",
        )
        for key, dos, count in zip(grouped.keys, grouped.dos, grouped.n_atoms, strict=True)
        if isinstance(key, tuple)
    )
