"""Registry scan geometry: contacts do not depend on which lattice image an atom is stored at."""

from __future__ import annotations

import numpy as np
import pytest

from heterostructures.structure.phases import chalcogenide, perovskite
from heterostructures.structure.registry import ContactSide, contact_statistics, required_gap
from heterostructures.structure.terminations import build_slab, oriented_unit


def _sides() -> tuple[ContactSide, ContactSide, np.ndarray]:
    unit_c = oriented_unit(chalcogenide("CdS"), (1, 1, 0))
    unit_p = oriented_unit(perovskite("CsPbBr3"), (1, 1, 0))
    lower = ContactSide.from_atoms(build_slab(unit_c, 2, 0, "stoichiometric"), facing_top=True)
    upper = ContactSide.from_atoms(build_slab(unit_p, 3, 1), facing_top=False)
    return lower, upper, unit_c.cell[:2, :2]


def _translated(side: ContactSide, vector: np.ndarray) -> ContactSide:
    return ContactSide(side.xy + vector, side.height, side.radii, side.charges)


def _closed_form_gap(lower: ContactSide, upper: ContactSide, cell: np.ndarray) -> float:
    """Smallest gap from minimum-image in-plane distances (fractions rounded to the nearest
    integer) and Pythagoras: h ≥ √((1.2 Σr)² − ρ²) − heights, with Σr from
    ``ase.data.covalent_radii``; independent of the scan's image window."""
    delta = upper.xy[None, :, :] - lower.xy[:, None, :]
    fractional = np.linalg.solve(cell.T, delta.reshape(-1, 2).T).T
    rho = np.linalg.norm((fractional - np.rint(fractional)) @ cell, axis=1).reshape(delta.shape[:2])
    reach = 1.2 * (lower.radii[:, None] + upper.radii[None, :])
    heights = lower.height[:, None] + upper.height[None, :]
    needed = np.where(rho < reach, np.sqrt(np.clip(reach**2 - rho**2, 0, None)) - heights, -np.inf)
    return float(max(1.0, needed.max()))


@pytest.mark.parametrize("cells", [(0, 3), (0, -3), (4, 0), (-3, 5)])
def test_gap_and_contacts_ignore_whole_lattice_translations(cells: tuple[int, int]) -> None:
    """An atom stored cells away (a thick slab's far plane drifts by −b/2 per period) is the
    same crystal: the gap and the contacts must match the untranslated side and the
    minimum-image closed form. The old fixed ±2-cell window around the raw difference gave
    1.58 Å (3 cells along b) or the 1.0 Å floor (the others) instead of 2.41 Å."""
    lower, upper, cell = _sides()
    moved = _translated(upper, np.asarray(cells, dtype=float) @ cell)
    shift = np.zeros(2)
    reference = _closed_form_gap(lower, upper, cell)
    assert reference > 1.5
    assert required_gap(lower, upper, cell, shift, 1.2) == pytest.approx(reference, abs=1e-9)
    assert required_gap(lower, moved, cell, shift, 1.2) == pytest.approx(reference, abs=1e-9)
    assert required_gap(
        _translated(lower, -(np.asarray(cells) @ cell)), upper, cell, shift, 1.2
    ) == (pytest.approx(reference, abs=1e-9))
    assert contact_statistics(lower, moved, cell, shift, reference, 1.5) == pytest.approx(
        contact_statistics(lower, upper, cell, shift, reference, 1.5)
    )
