"""Planar/macroscopic averages, localisation of states and IS/FS selection.

Conventions (stated in every result):

- The interface normal is the third cell vector (grid axis 2); ``z`` in Å along it.
- *Spatial partition*: a grid plane belongs to the nearest layer centre (periodic), i.e.
  the cell is cut by planes midway between consecutive layers; a layer is a
  ``(domain, layer)`` label pair and its centre the mean ``z`` of its atoms.
- *Projection weights*: the weight of a Kohn–Sham state on a set of atoms is its share of
  Σ|<φ|ψ>|² (``atomic_proj.xml``); used for elements and for the IS/FS choice. Normalised
  over the pseudo-atomic basis, they inflate elements with diffuse projectors (Cs in the
  one-electron NC set): element shares by a real-space partition of |ψ|² are in
  :mod:`heterostructures.electronic.real_space_partition`; report both.
- IS/FS overlap is the normalised spatial overlap ∫|ψ_IS||ψ_FS| dr / √(∫|ψ_IS|²·∫|ψ_FS|²):
  Kohn–Sham states at one k-point are orthogonal, so <IS|FS> = 0 says nothing.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from heterostructures.electronic.bands import occupied_bands
from heterostructures.electronic.projected_dos import ElectronicStructureError, group_state_weights
from heterostructures.io.cube import CubeGrid
from heterostructures.io.projwfc_files import AtomicProjections, AtomicState
from heterostructures.structure.slab_geometry import normal_length_ang
from heterostructures.units import RYDBERG_EV

PARTITION = "spatial: planes midway between consecutive layer centres along the normal"
PROJECTION = (
    "projections: share of Σ|<φ|ψ>|² on the atoms (atomic_proj.xml), normalised over the "
    "pseudo-atomic basis, so diffuse projectors (NC Cs 6s) inflate their element: compare the "
    "real-space element shares of the |ψ|² cubes"
)


@dataclass(frozen=True)
class StateCharacter:
    """Where one Kohn–Sham state lives (1-based k and band, as pp.x ``kpoint``/``kband``)."""

    k_index: int
    band: int
    energy_ev: float
    domain_weights: dict[str, float]
    element_weights: dict[str, float]
    layer_weights: dict[tuple[str, int], float]

    def as_dict(self) -> dict[str, Any]:
        """Fields as stored; layer keys ``(domain, n)`` written ``"<domain> layer <n>"``."""
        layers = {f"{d} layer {n}": w for (d, n), w in self.layer_weights.items()}
        return asdict(self) | {"layer_weights": layers}


@dataclass(frozen=True)
class TransferStates:
    """Initial (donor) and final (acceptor) states of interfacial charge transfer."""

    carrier: str
    donor: str
    acceptor: str
    initial: StateCharacter
    final: StateCharacter
    threshold: float
    explanation: str

    @property
    def energy_gap_ev(self) -> float:
        """E(IS) − E(FS) in eV: the energy released by the transfer (electrons)."""
        return self.initial.energy_ev - self.final.energy_ev

    def as_dict(self) -> dict[str, Any]:
        """Fields and ``energy_gap_ev`` as stored (1-based k-point and band, as pp.x wants)."""
        return {
            "carrier": self.carrier,
            "donor": self.donor,
            "acceptor": self.acceptor,
            "threshold": self.threshold,
            "initial": self.initial.as_dict(),
            "final": self.final.as_dict(),
            "energy_gap_ev": self.energy_gap_ev,
            "explanation": self.explanation,
        }


def planar_average(values: np.ndarray) -> np.ndarray:
    """Mean of a 3D grid over each plane normal to axis 2 (same units as ``values``)."""
    return np.asarray(values.mean(axis=(0, 1)))


def plane_heights_ang(grid: CubeGrid) -> np.ndarray:
    """Height (Å) along the normal of each grid plane (normal = a × b direction)."""
    n_planes = grid.data.shape[2]
    return np.asarray(np.arange(n_planes) * normal_length_ang(grid.cell_ang) / n_planes)


def line_density(grid: CubeGrid) -> tuple[np.ndarray, np.ndarray]:
    """z (Å) and λ(z) = ∫∫ρ dA per Å, with ρ in bohr⁻³: Σ λ Δz = the state's norm."""
    z = plane_heights_ang(grid)
    per_plane = grid.data.sum(axis=(0, 1)) * grid.voxel_volume_bohr3
    return z, per_plane / (z[1] - z[0])


def macroscopic_average(
    values: np.ndarray, spacing_ang: float, periods_ang: Sequence[float]
) -> np.ndarray:
    """Periodic running average over each window in ``periods_ang`` (Å), applied in turn.

    One window equal to a bulk period removes the bulk oscillation of that domain; two
    windows (the periods of both domains) flatten both sides of an interface. Done in
    Fourier space (box filter = sinc), exact for non-integer windows.
    """
    q = 2 * np.pi * np.fft.rfftfreq(values.size, d=spacing_ang)
    spectrum = np.fft.rfft(values)
    for period in periods_ang:
        if not 0 < period <= values.size * spacing_ang:
            raise ElectronicStructureError(
                f"averaging window {period} Å must be in (0, cell length]"
            )
        spectrum = spectrum * np.sinc(q * period / (2 * np.pi))
    return np.fft.irfft(spectrum, n=values.size)


def periodic_span(heights_ang: Sequence[float] | np.ndarray, length: float) -> tuple[float, float]:
    """Shortest [start, stop] (Å, stop may pass ``length``) holding every height on a ring.

    Why: atoms of one layer can straddle the cell boundary (z = −0.1 and 11.6 Å in a
    11.7 Å cell); a plain min/max of z mod length then spans the whole cell. The span
    starts after the largest empty gap between neighbouring heights around the ring.
    """
    ring = np.sort(np.asarray(heights_ang, dtype=float) % length)
    gaps = np.diff(np.append(ring, ring[0] + length))
    after = int(np.argmax(gaps))
    start = float(ring[(after + 1) % len(ring)])
    stop = float(ring[after]) + (length if after + 1 < len(ring) else 0.0)
    return start, stop


def region_mean(
    z_ang: np.ndarray, values: np.ndarray, region: tuple[float, float], length: float
) -> float:
    """Mean of ``values`` for z in [start, stop] Å (periodic, stop may wrap past the cell)."""
    return float(values[region_mask(z_ang, region, length)].mean())


def region_mask(z_ang: np.ndarray, region: tuple[float, float], length: float) -> np.ndarray:
    """Grid planes with z in [start, stop] Å on the periodic cell (stop may pass length)."""
    start, stop = region
    return np.asarray(((z_ang - start) % length) <= ((stop - start) % length))


PLATEAU_TOLERANCE_EV = 0.1
"""Largest spread (eV) of the macroscopic average inside a domain window still called a
plateau. Wider spreads mean the domain has no bulk-like middle: the step ΔV, and with it
the route 2 offsets, are then uncertain by about half the summed spreads."""


def plateau_spread_ev(
    z_ang: np.ndarray, v_macro_ry: np.ndarray, region: tuple[float, float]
) -> float:
    """max − min (eV) of the macroscopic average inside a window: 0 on a perfect plateau."""
    length = float(z_ang[1] - z_ang[0]) * z_ang.size
    inside = v_macro_ry[region_mask(z_ang, region, length)]
    return float(inside.max() - inside.min()) * RYDBERG_EV


def potential_step_ev(
    z_ang: np.ndarray,
    v_macro_ry: np.ndarray,
    middle_a: tuple[float, float],
    middle_b: tuple[float, float],
) -> float:
    """ΔV = V̄(middle of A) − V̄(middle of B) in eV from a pp.x potential (Ry) average."""
    length = float(z_ang[1] - z_ang[0]) * z_ang.size
    step = region_mean(z_ang, v_macro_ry, middle_a, length) - region_mean(
        z_ang, v_macro_ry, middle_b, length
    )
    return step * RYDBERG_EV


def layer_partition(
    grid: CubeGrid,
    atom_z_ang: Sequence[float] | np.ndarray,
    domains: Sequence[str],
    layers: Sequence[int],
) -> dict[tuple[str, int], float]:
    """Fraction of a density on each (domain, layer) by the :data:`PARTITION` rule."""
    if len(set(domains)) < 2:
        raise ElectronicStructureError(
            f"domain labels {sorted(set(domains))}: a partition needs an interface with two domains"
        )
    z, density = line_density(grid)
    length = float(z[1] - z[0]) * z.size
    keys = list(dict.fromkeys(zip(domains, layers, strict=True)))
    atom_z = np.asarray(atom_z_ang) % length
    centres = []
    for key in keys:
        members = [i for i, label in enumerate(zip(domains, layers, strict=True)) if label == key]
        angles = 2 * np.pi * atom_z[members] / length
        centres.append(length * (np.angle(np.exp(1j * angles).mean()) / (2 * np.pi) % 1.0))
    distance = np.abs(z[:, None] - np.array(centres)[None, :])
    nearest = np.minimum(distance, length - distance).argmin(axis=1)
    total = density.sum()
    return {key: float(density[nearest == i].sum() / total) for i, key in enumerate(keys)}


def domain_fractions(layer_fractions: dict[tuple[str, int], float]) -> dict[str, float]:
    """Sum (domain, layer) fractions by domain."""
    result: dict[str, float] = {}
    for (domain, _), fraction in layer_fractions.items():
        result[domain] = result.get(domain, 0.0) + fraction
    return result


def spatial_overlap(initial: CubeGrid, final: CubeGrid) -> float:
    """∫|ψ_IS||ψ_FS| dr / √(∫|ψ_IS|² dr · ∫|ψ_FS|² dr), from ρ = |ψ|² cubes (0…1).

    Normalised by the two norms, so it is 1 for identical states and does not depend on
    the units or normalisation of the cubes (pp.x norms differ from 1 by the grid error).
    """
    if initial.data.shape != final.data.shape:
        raise ElectronicStructureError(f"grids differ: {initial.data.shape} vs {final.data.shape}")
    rho_initial, rho_final = initial.data.clip(min=0), final.data.clip(min=0)
    norms = rho_initial.sum() * rho_final.sum()
    if norms <= 0:
        raise ElectronicStructureError("a |ψ|² cube has no positive value: no overlap defined")
    return float(np.sqrt(rho_initial * rho_final).sum() / np.sqrt(norms))


def _weights_by(
    projections: AtomicProjections, states: Sequence[AtomicState], atom_keys: Sequence[Hashable]
) -> dict:
    """Projection weights (n_k, n_bands) on each distinct per-atom key."""
    state_keys = [atom_keys[state.atom - 1] for state in states]
    return {
        key: group_state_weights(projections, np.array([k == key for k in state_keys]))
        for key in dict.fromkeys(state_keys)
    }


def _check_labels(
    projections: AtomicProjections, states: Sequence[AtomicState], domains: Sequence[str]
) -> None:
    n_atoms = max(state.atom for state in states)
    if len(states) != projections.weights.shape[2]:
        raise ElectronicStructureError(
            f"{len(states)} atomic states in projwfc.out but {projections.weights.shape[2]} in "
            "atomic_proj.xml: read both from the same projwfc.x run"
        )
    if len(domains) != n_atoms:
        raise ElectronicStructureError(
            f"{len(domains)} domain labels for {n_atoms} atoms: label every atom in pw.x order "
            "(heterostructures.structure.layers)"
        )


def state_character(
    projections: AtomicProjections,
    states: Sequence[AtomicState],
    domains: Sequence[str],
    layers: Sequence[int],
    k_index: int,
    band: int,
) -> StateCharacter:
    """Domain, element and layer weights of state (k_index, band), both 1-based."""
    _check_labels(projections, states, domains)
    n_k, n_bands = projections.eigenvalues_ev.shape
    if not (1 <= band <= n_bands and 1 <= k_index <= n_k):
        raise ElectronicStructureError(
            f"state (k {k_index}, band {band}) out of range: k 1…{n_k}, bands 1…{n_bands}"
        )
    elements = [""] * len(domains)
    for state in states:
        elements[state.atom - 1] = state.element
    k, b = k_index - 1, band - 1

    def pick(weights: dict) -> dict:
        return {key: float(value[k, b]) for key, value in weights.items()}

    return StateCharacter(
        k_index=k_index,
        band=band,
        energy_ev=float(projections.eigenvalues_ev[k, b]),
        domain_weights=pick(_weights_by(projections, states, domains)),
        element_weights=pick(_weights_by(projections, states, elements)),
        layer_weights=pick(
            _weights_by(projections, states, list(zip(domains, layers, strict=True)))
        ),
    )


def _candidate_states(
    projections: AtomicProjections, carrier: str, k_index: int | None, count: int
) -> list:
    """(k, band) 0-based of the ``count`` bands nearest the gap, ordered from the edge."""
    n_k, n_bands = projections.eigenvalues_ev.shape
    try:
        n_occupied = occupied_bands(projections.n_electrons)
    except ValueError as error:
        raise ElectronicStructureError(f"{error}: no gap to select from") from error
    if carrier == "electron":
        if n_occupied >= n_bands:
            raise ElectronicStructureError(
                f"no empty band among {n_bands}: raise nbnd to select electron states"
            )
        bands = range(n_occupied, min(n_occupied + count, n_bands))
    elif carrier == "hole":
        bands = range(max(0, n_occupied - count), n_occupied)
    else:
        raise ElectronicStructureError(f"carrier {carrier!r}: use 'electron' or 'hole'")
    if k_index is not None and not 1 <= k_index <= n_k:
        raise ElectronicStructureError(f"k-point {k_index} out of range 1…{n_k}")
    kpoints = range(n_k) if k_index is None else [k_index - 1]
    pairs = [(k, b) for k in kpoints for b in bands]
    sign = 1.0 if carrier == "electron" else -1.0
    return sorted(pairs, key=lambda kb: sign * projections.eigenvalues_ev[kb])


def select_transfer_states(
    projections: AtomicProjections,
    states: Sequence[AtomicState],
    domains: Sequence[str],
    layers: Sequence[int],
    donor: str,
    acceptor: str,
    carrier: str = "electron",
    threshold: float = 0.5,
    k_index: int | None = None,
    n_candidates: int = 20,
) -> TransferStates:
    """IS = the conduction state nearest the edge with ≥ ``threshold`` of its projection on
    the donor domain, FS = the same on the acceptor; for ``carrier="hole"`` the valence
    states from the top down. ``k_index`` (1-based) restricts the search to one k-point.
    """
    _check_labels(projections, states, domains)
    for domain in (donor, acceptor):
        if domain not in domains:
            raise ElectronicStructureError(
                f"no atom labelled {domain!r} (labels: {sorted(set(domains))}): IS/FS need an "
                "interface structure with domain labels"
            )
    if donor == acceptor:
        raise ElectronicStructureError(f"donor and acceptor are both {donor!r}")
    candidates = _candidate_states(projections, carrier, k_index, n_candidates)
    weights = _weights_by(projections, states, domains)

    def first_on(domain: str) -> StateCharacter:
        for k, b in candidates:
            if weights[domain][k, b] >= threshold:
                return state_character(projections, states, domains, layers, k + 1, b + 1)
        k, b = max(candidates, key=lambda kb: weights[domain][kb])
        raise ElectronicStructureError(
            f"no {carrier} state among the {len(candidates)} nearest the gap has weight ≥ "
            f"{threshold} on {domain!r}; the best is {weights[domain][k, b]:.3f} (k {k + 1}, "
            f"band {b + 1}, {projections.eigenvalues_ev[k, b]:.3f} eV): lower the threshold or "
            "thicken the domain"
        )

    initial, final = first_on(donor), first_on(acceptor)
    edge = "lowest conduction" if carrier == "electron" else "highest valence"

    def describe(role: str, state: StateCharacter, domain: str) -> str:
        return (
            f"{role} = {edge} state with ≥ {threshold:.0%} on {domain}: band {state.band} at k "
            f"{state.k_index}, {state.energy_ev:.3f} eV, weight {state.domain_weights[domain]:.2f}"
        )

    explanation = "; ".join(
        [describe("IS", initial, donor), describe("FS", final, acceptor), PROJECTION]
    )
    return TransferStates(carrier, donor, acceptor, initial, final, threshold, explanation)
