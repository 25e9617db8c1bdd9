"""Route 2 windows: each domain's stacking period and the potential step ΔV across an interface.

The macroscopic average removes a domain's bulk oscillation only when its window is that
domain's period along the normal: the distance between equivalent atomic planes (two
planes, CsPbBr / Br2, for CsPbBr3 (110); one plane for zinc-blende CdS (110)). Across an
interface of two materials with different periods the *double* macroscopic average —
one window of period L_A, then one of L_B (Baldereschi, Baroni & Resta, PRL 61, 734
(1988); Peressi, Binggeli & Baldereschi, J. Phys. D 31, 1273 (1998)) — is flat in both
domains: the L_A window cancels A's oscillation exactly, the L_B window B's, and a
constant stays constant under both. ΔV is read on plateaus in the middle of each domain
that stay inside the domain's atoms (never in vacuum or in the other domain).
Heights z in Å along the third cell vector; potentials in Ry (pp.x), results in eV.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from ase import Atoms

from heterostructures.electronic.densities import (
    macroscopic_average,
    periodic_span,
    plateau_spread_ev,
    potential_step_ev,
)
from heterostructures.electronic.projected_dos import ElectronicStructureError, middle_layer_mask
from heterostructures.structure.layers import assign_layers

AVERAGE = (
    "double macroscopic average (Baldereschi/Peressi): box windows of the stacking period "
    "of each domain (Å) applied in turn; ΔV from plateaus in the middle of each domain"
)
MIN_DOMAIN_PLANES = 2
"""Fewest atomic planes of a domain with a stacking period (and a middle layer)."""
PLANES_TO_REBUILD = {"perovskite": 3, "chalcogenide": MIN_DOMAIN_PLANES}
"""Planes to ask the builder for when a domain is too thin for the line-up: at least
:data:`MIN_DOMAIN_PLANES`, and 3 for the perovskite, whose compensated (110) film has an
odd plane count. One table for every refusal that names the fix."""
PLANE_TOLERANCE_ANG = 0.5
"""Atoms of a domain closer than this along the normal (Å) form one plane (as layers.py)."""


@dataclass(frozen=True)
class StackingPeriod:
    """Period (Å) of one domain along the normal: ``planes_per_period`` planes repeat."""

    domain: str
    period_ang: float
    planes_per_period: int
    n_planes: int


@dataclass(frozen=True)
class AtomSites:
    """Per-atom height z (Å), element, domain and layer label, in the same order."""

    z_ang: Sequence[float]
    symbols: Sequence[str]
    domains: Sequence[str]
    layers: Sequence[int]


@dataclass(frozen=True)
class PotentialStep:
    """ΔV = V̄(middle of A) − V̄(middle of B) (eV) of the double macroscopic average."""

    delta_v_ev: float
    uncertainty_ev: float
    plateau_spread_ev: dict[str, float]
    periods_ang: dict[str, float]
    windows_ang: tuple[float, ...]
    regions_ang: dict[str, tuple[float, float]]
    macroscopic_ry: np.ndarray
    average: str = AVERAGE


def _plane_sequence(
    z_ang: np.ndarray, symbols: Sequence[str], length: float
) -> tuple[np.ndarray, list[tuple]]:
    """Plane heights (Å, unwrapped along the domain) and each plane's reduced composition."""
    planes = assign_layers(z_ang, length, PLANE_TOLERANCE_ANG, periodic=True)
    start, _ = periodic_span(np.asarray(planes.positions), length)
    heights = (np.asarray(planes.positions) - start) % length
    order = np.argsort(heights)
    compositions = []
    for plane in order:
        members = [s for s, index in zip(symbols, planes.indices, strict=True) if index == plane]
        counts = Counter(members)
        smallest = min(counts.values())
        compositions.append(tuple(sorted((e, round(n / smallest, 3)) for e, n in counts.items())))
    return heights[order], compositions


def stacking_period(
    z_ang: Sequence[float] | np.ndarray, symbols: Sequence[str], length: float, domain: str = ""
) -> StackingPeriod:
    """Period (Å) of the planes of one domain: the shortest repeat m of their reduced
    compositions (Br and Br2 planes are equivalent: half-Br terminations repeat Br2), times
    the plane spacing, averaged over the domain (z[i + m] − z[i]). A domain shorter than
    one repeat gets m = its plane count (the period it would have if it repeated)."""
    heights, compositions = _plane_sequence(np.asarray(z_ang, dtype=float), symbols, length)
    n = len(heights)
    if n < MIN_DOMAIN_PLANES:
        raise ElectronicStructureError(
            f"domain {domain!r} has one atomic plane: no stacking period to average over; "
            "give lineup_periods_ang (Å) or build a thicker domain"
        )
    repeat = next(
        (
            m
            for m in range(1, n)
            if all(compositions[i] == compositions[i + m] for i in range(n - m))
        ),
        n,
    )
    if repeat < n:
        period = float(np.mean(heights[repeat:] - heights[:-repeat]))
    else:
        period = float(n * (heights[-1] - heights[0]) / (n - 1))
    return StackingPeriod(domain, period, repeat, n)


def domain_plane_counts(sites: AtomSites, length: float) -> dict[str, int]:
    """Atomic planes (:data:`PLANE_TOLERANCE_ANG`) of each domain in a cell ``length`` Å long.

    Why: a domain of one plane has no stacking period, so the route 2 line-up
    (:func:`potential_lineup_step`) refuses it after the whole electronic step has run;
    callers check this before anything runs.
    """
    z = np.asarray(sites.z_ang, dtype=float)
    domains = np.asarray(sites.domains)
    counts = {}
    for domain in dict.fromkeys(sites.domains):
        members = domains == domain
        planes = assign_layers(z[members], length, PLANE_TOLERANCE_ANG, periodic=True)
        counts[domain] = len(planes.positions)
    return counts


def one_plane_domains(atoms: Atoms) -> list[str]:
    """Domains of a labelled interface (``domain``/``layer`` arrays; the builder's cell,
    whose first two vectors lie in the interface plane, so heights repeat every
    ``cell[2, 2]`` Å) that have a single atomic plane: the line-up cannot use them."""
    sites = AtomSites(
        atoms.positions[:, 2],
        atoms.get_chemical_symbols(),
        [str(domain) for domain in atoms.arrays["domain"]],
        [int(layer) for layer in atoms.arrays["layer"]],
    )
    counts = domain_plane_counts(sites, float(atoms.cell[2, 2]))
    return [domain for domain, n in counts.items() if n < MIN_DOMAIN_PLANES]


def domain_periods(sites: AtomSites, pair: Sequence[str], length: float) -> dict[str, float]:
    """:func:`stacking_period` (Å) of each domain of ``pair`` in a cell ``length`` Å long."""
    z = np.asarray(sites.z_ang, dtype=float)
    periods = {}
    for domain in pair:
        members = np.asarray(sites.domains) == domain
        symbols = [s for s, keep in zip(sites.symbols, members, strict=True) if keep]
        periods[domain] = stacking_period(z[members], symbols, length, domain).period_ang
    return periods


def _plateau_region(
    sites: AtomSites, domain: str, n_middle: int, margin_ang: float, length: float
) -> tuple[float, float]:
    """Middle-layer span ± ``margin_ang`` (Å), clipped to the span of the domain's atoms."""
    z = np.asarray(sites.z_ang, dtype=float)
    middle = middle_layer_mask(sites.domains, sites.layers, domain, n_middle)
    in_domain = np.asarray(sites.domains) == domain
    domain_start, domain_stop = periodic_span(z[in_domain], length)
    start, stop = periodic_span(z[middle], length)
    offset = (start - domain_start) % length
    low = max(offset - margin_ang, 0.0)
    high = min(offset + (stop - start) + margin_ang, domain_stop - domain_start)
    return domain_start + low, domain_start + high


def potential_lineup_step(
    z_grid_ang: np.ndarray,
    planar_ry: np.ndarray,
    sites: AtomSites,
    pair: tuple[str, str],
    n_middle_layers: int = 1,
    windows_ang: Sequence[float] | None = None,
) -> PotentialStep:
    """ΔV (eV) of a planar-averaged potential (Ry on the grid ``z_grid_ang``, Å).

    Windows: the stacking period of each domain of ``pair`` (:func:`stacking_period`), or
    ``windows_ang`` when given (``periods_ang`` then holds the smallest window). Plateau of
    a domain: its middle layers ± a quarter of its period, inside its atoms. Uncertainty:
    half the summed plateau spreads.
    """
    spacing = float(z_grid_ang[1] - z_grid_ang[0])
    length = spacing * z_grid_ang.size
    if windows_ang:
        periods = {domain: min(windows_ang) for domain in pair}
        windows = tuple(float(window) for window in windows_ang)
    else:
        periods = domain_periods(sites, pair, length)
        windows = tuple(dict.fromkeys(periods.values()))
    macroscopic = macroscopic_average(planar_ry, spacing, windows)
    regions = {
        domain: _plateau_region(sites, domain, n_middle_layers, 0.25 * periods[domain], length)
        for domain in pair
    }
    step = potential_step_ev(z_grid_ang, macroscopic, regions[pair[0]], regions[pair[1]])
    spreads = {d: plateau_spread_ev(z_grid_ang, macroscopic, regions[d]) for d in pair}
    return PotentialStep(
        delta_v_ev=step,
        uncertainty_ev=0.5 * sum(spreads.values()),
        plateau_spread_ev=spreads,
        periods_ang=periods,
        windows_ang=windows,
        regions_ang=regions,
        macroscopic_ry=macroscopic,
    )
