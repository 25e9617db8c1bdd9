"""Rigid in-plane registry scan between two slabs with a contact-distance bound (Å).

For each in-plane shift of the upper slab the scan finds the smallest gap at which every
cross-interface pair is at least ``bound`` × (sum of covalent radii, Cordero 2008 as in
``ase.data.covalent_radii``) apart, then counts cross-interface contacts within
``bond_ratio`` × that sum: opposite formal charges count +1 (a bond such as Cd–Br), like
charges −1 (Cs over Cd). Shifts are ranked by net contacts, then by smaller gap (denser
interface). The bound is enforced by construction, so no candidate has closer atoms.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
from ase import Atoms
from ase.data import covalent_radii

from heterostructures.structure.errors import RegistryError
from heterostructures.structure.phases import FORMAL_CHARGES

MIN_GAP = 1.0
"""Smallest plane-to-plane gap (Å) allowed, so the two domains stay distinct planes."""


@dataclass(frozen=True)
class ContactSide:
    """One side of an interface: in-plane xy (Å), height from the facing plane (Å), radii, charges.

    ``height`` is ≥ 0 and grows away from the interface on both sides.
    """

    xy: np.ndarray
    height: np.ndarray
    radii: np.ndarray
    charges: np.ndarray

    @classmethod
    def from_atoms(cls, atoms: Atoms, facing_top: bool) -> ContactSide:
        """Side made from a slab; ``facing_top`` if its top plane touches the interface."""
        z = atoms.positions[:, 2]
        height = z.max() - z if facing_top else z - z.min()
        numbers = atoms.numbers
        charges = np.array([FORMAL_CHARGES[s] for s in atoms.get_chemical_symbols()], dtype=float)
        return cls(atoms.positions[:, :2].copy(), height, covalent_radii[numbers], charges)


@dataclass(frozen=True)
class RegistryCandidate:
    """A shift (fractions of the in-plane cell), its gap (Å) and contact statistics.

    ``min_contact_ratio`` is taken over the atoms the scan keeps (those within bonding
    reach of the facing planes); any farther pair is above ``bond_ratio`` anyway.
    """

    shift: tuple[float, float]
    gap: float
    min_contact_ratio: float
    net_contacts: int


IMAGE_REACH = 2
"""In-plane images searched on each side of a pair's nearest image (cells)."""


def _pair_images(raw: np.ndarray, cell_2d: np.ndarray) -> np.ndarray:
    """Integer images (pairs × images × 2) centred on each pair's nearest image.

    Why: a slab's in-plane coordinates drift by the stacking vector's in-plane part
    (−b/2 per (110) period), so a thick film's far plane lies cells away from its first
    one; a fixed window of images around the raw difference misses the nearest image.
    """
    nearest = np.rint(np.linalg.solve(cell_2d.T, raw.reshape(-1, 2).T).T)
    window = np.array(
        list(itertools.product(range(-IMAGE_REACH, IMAGE_REACH + 1), repeat=2)), dtype=float
    )
    return nearest.reshape(*raw.shape[:2], 1, 2) + window[None, None, :, :]


def _pair_geometry(
    lower: ContactSide, upper: ContactSide, cell_2d: np.ndarray, shift: np.ndarray
) -> tuple:
    """In-plane distances ρ (Å), height sums and radius sums for all pairs and nearby images.

    Images are ±:data:`IMAGE_REACH` cells around each pair's nearest one (fractional
    coordinates rounded), so any in-plane drift of either slab is covered.
    """
    raw = (upper.xy + shift)[None, :, :] - lower.xy[:, None, :]
    images = _pair_images(raw, cell_2d) @ cell_2d
    delta = raw[:, :, None, :] - images
    rho = np.linalg.norm(delta, axis=-1)
    heights = lower.height[:, None, None] + upper.height[None, :, None]
    radii = (lower.radii[:, None] + upper.radii[None, :])[:, :, None]
    signs = (lower.charges[:, None] * upper.charges[None, :])[:, :, None]
    return rho, heights, radii, signs


def required_gap(
    lower: ContactSide, upper: ContactSide, cell_2d: np.ndarray, shift: np.ndarray, bound: float
) -> float:
    """Smallest gap (Å, ≥ :data:`MIN_GAP`) keeping every pair ≥ bound × radius sum."""
    rho, heights, radii, _ = _pair_geometry(lower, upper, cell_2d, shift)
    reach = bound * radii
    needed = np.where(rho < reach, np.sqrt(np.clip(reach**2 - rho**2, 0, None)) - heights, -np.inf)
    return float(max(MIN_GAP, needed.max()))


def contact_statistics(
    lower: ContactSide,
    upper: ContactSide,
    cell_2d: np.ndarray,
    shift: np.ndarray,
    gap: float,
    bond_ratio: float,
) -> tuple[float, int]:
    """(min distance / radius sum, net cross-interface contacts) at a given gap (Å)."""
    rho, heights, radii, signs = _pair_geometry(lower, upper, cell_2d, shift)
    ratio = np.sqrt(rho**2 + (heights + gap) ** 2) / radii
    close = ratio <= bond_ratio
    net = int(np.sum(close & (signs < 0)) - np.sum(close & (signs > 0)))
    return float(ratio.min()), net


def _near_facing_planes(
    lower: ContactSide, upper: ContactSide, bond_ratio: float
) -> tuple[ContactSide, ContactSide]:
    """Both sides without atoms deeper than ``bond_ratio`` × the largest radius sum (Å).

    Why: such an atom is farther than that from every atom across the interface at any
    gap, so it can neither bind nor violate the bound (≤ ``bond_ratio``); dropping it
    leaves every gap and contact count unchanged and makes thick slabs cheap to scan.
    """
    depth = bond_ratio * (lower.radii.max() + upper.radii.max())
    kept = []
    for side in (lower, upper):
        near = side.height <= depth
        kept.append(
            ContactSide(side.xy[near], side.height[near], side.radii[near], side.charges[near])
        )
    return kept[0], kept[1]


def scan_registry(
    lower: ContactSide,
    upper: ContactSide,
    cell_2d: np.ndarray,
    grid: tuple[int, int] = (12, 12),
    gap: float | None = None,
    bound: float = 1.2,
    bond_ratio: float = 1.5,
    second: tuple[ContactSide, ContactSide] | None = None,
) -> tuple[RegistryCandidate, ...]:
    """Rank in-plane shifts of ``upper`` on ``lower``, best first.

    ``gap=None`` sets the smallest gap meeting the bound per shift; a given gap (Å) drops
    shifts that violate the bound there. ``second`` is the periodic superlattice's other
    interface (upper-domain top over lower-domain bottom), scored at its own smallest gap
    with the same shift and added to the contact count.
    """
    if bound <= 0 or bond_ratio < bound:
        raise RegistryError("need 0 < bound ≤ bond_ratio (ratios of the covalent radius sum)")
    lower, upper = _near_facing_planes(lower, upper, bond_ratio)
    if second is not None:
        second = _near_facing_planes(*second, bond_ratio)
    candidates = []
    for i, j in itertools.product(range(grid[0]), range(grid[1])):
        fraction = (i / grid[0], j / grid[1])
        shift = np.asarray(fraction) @ cell_2d
        this_gap = required_gap(lower, upper, cell_2d, shift, bound) if gap is None else gap
        ratio, net = contact_statistics(lower, upper, cell_2d, shift, this_gap, bond_ratio)
        if second is not None:
            top_of_upper, bottom_of_lower = second
            other_gap = required_gap(top_of_upper, bottom_of_lower, cell_2d, -shift, bound)
            other_ratio, other_net = contact_statistics(
                top_of_upper, bottom_of_lower, cell_2d, -shift, other_gap, bond_ratio
            )
            ratio, net = min(ratio, other_ratio), net + other_net
        if ratio >= bound - 1e-9:
            candidates.append(RegistryCandidate(fraction, this_gap, ratio, net))
    if not candidates:
        raise RegistryError(
            f"no shift keeps contacts ≥ {bound} × covalent radius sum at gap {gap} Å: "
            "increase the gap or pass gap=None to choose it per shift"
        )
    return tuple(sorted(candidates, key=lambda c: (-c.net_contacts, round(c.gap, 3), c.shift)))
