"""Stacking periods of each domain and the double macroscopic average across an interface."""

from __future__ import annotations

import numpy as np
import pytest
from pymatgen.core import Lattice

from heterostructures.electronic.densities import (
    macroscopic_average,
    periodic_span,
    plateau_spread_ev,
    potential_step_ev,
)
from heterostructures.electronic.lineup_windows import (
    AtomSites,
    domain_plane_counts,
    one_plane_domains,
    potential_lineup_step,
    stacking_period,
)
from heterostructures.electronic.projected_dos import ElectronicStructureError, middle_layer_mask
from heterostructures.structure.interface import InterfaceSpec, build_interface
from heterostructures.structure.phases import pseudocubic_lattice_constant

RYDBERG_EV = 13.605693122994
PEROVSKITE_SPACING, CHALCOGENIDE_SPACING = 2.05, 2.9  # Å: periods 4.1 (two planes) and 2.9
STEP_RY = 0.05  # V̄(perovskite) − V̄(chalcogenide), 0.680 eV
PEROVSKITE_PLANES = (("Cs", "Pb", "Br"), ("Br", "Br"))


def synthetic_interface() -> tuple[AtomSites, float]:
    """8 perovskite planes (CsPbBr / Br2, 2.05 Å apart) and 6 CdS planes (2.9 Å apart) in a
    periodic cell; layers counted from the nearer interface, as the builder labels them."""
    z, symbols, domains, layers = [], [], [], []
    for i in range(8):
        for symbol in PEROVSKITE_PLANES[i % 2]:
            z.append(3.0 + PEROVSKITE_SPACING * i)
            symbols.append(symbol)
            domains.append("perovskite")
            layers.append(min(i, 7 - i))
    for j in range(6):
        for symbol in ("Cd", "S"):
            z.append(19.85 + CHALCOGENIDE_SPACING * j)
            symbols.append(symbol)
            domains.append("chalcogenide")
            layers.append(min(j, 5 - j))
    return AtomSites(z, symbols, domains, layers), 37.35


def synthetic_potential(z: np.ndarray, length: float) -> np.ndarray:
    """Planar potential (Ry): a smooth step of STEP_RY between the domains plus large bulk
    oscillations of each domain's own period (4.1 and 2.9 Å, ~ 20 eV peak to peak)."""

    def box(start: float, stop: float, width: float) -> np.ndarray:
        images = np.array([z + n * length for n in (-1, 0, 1)])
        return np.asarray(
            0.5 * (np.tanh((images - start) / width) - np.tanh((images - stop) / width))
        ).sum(axis=0)

    inside = box(1.75, 18.6, 0.4)
    phase_a = 2 * np.pi * (z - 3.0) / (2 * PEROVSKITE_SPACING)
    phase_b = 2 * np.pi * (z - 19.85) / CHALCOGENIDE_SPACING
    oscillation_a = 0.8 * np.sin(phase_a) + 0.3 * np.cos(2 * phase_a)
    oscillation_b = 0.6 * np.cos(phase_b) + 0.2 * np.sin(2 * phase_b)
    masked = box(1.75, 18.6, 0.3)
    return np.asarray(
        -0.4 + STEP_RY * inside + oscillation_a * masked + oscillation_b * (1.0 - masked)
    )


def test_stacking_periods_of_the_built_interface_are_the_bulk_110_periods() -> None:
    """Reference: pymatgen ``Lattice.d_hkl``. CdS (110): every (220) plane is CdS, period
    d(220) = a/√8; CsPbBr3 (110): CsPbBr and Br2 planes alternate, period 2 d(220)."""
    interface = build_interface(InterfaceSpec(perovskite_planes=5, chalcogenide_planes=4))
    atoms = interface.atoms
    length = float(atoms.cell.lengths()[2])
    periods = {}
    for domain in ("perovskite", "chalcogenide"):
        members = atoms.arrays["domain"] == domain
        symbols = [s for s, keep in zip(atoms.get_chemical_symbols(), members, strict=True) if keep]
        periods[domain] = stacking_period(atoms.positions[members, 2], symbols, length, domain)
    cds = Lattice.cubic(5.818).d_hkl((2, 2, 0))
    perovskite = 2 * Lattice.cubic(pseudocubic_lattice_constant("CsPbBr3")).d_hkl((2, 2, 0))
    assert periods["chalcogenide"].planes_per_period == 1
    assert periods["chalcogenide"].period_ang == pytest.approx(cds, abs=2e-3)
    assert periods["perovskite"].planes_per_period == 2
    assert periods["perovskite"].period_ang == pytest.approx(perovskite, abs=2e-3)


def test_synthetic_two_material_step_is_recovered_with_flat_plateaus() -> None:
    """Reference: the closed-form profile of :func:`synthetic_potential`, step 0.680 eV.

    The double average with the two stacking periods (4.1 and 2.9 Å, derived from the
    planes) recovers ΔV within 1 meV on flat plateaus. The former default window
    (cell length ÷ number of layer labels = 5.34 Å, one pass) matches neither period.
    """
    sites, length = synthetic_interface()
    z = np.arange(800) * length / 800
    planar = synthetic_potential(z, length)
    result = potential_lineup_step(z, planar, sites, ("perovskite", "chalcogenide"))
    assert result.periods_ang == pytest.approx({"perovskite": 4.1, "chalcogenide": 2.9})
    assert result.delta_v_ev == pytest.approx(STEP_RY * RYDBERG_EV, abs=1e-3)
    assert max(result.plateau_spread_ev.values()) < 1e-3
    assert result.uncertainty_ev < 1e-3
    for domain, (start, stop) in result.regions_ang.items():
        in_domain = np.asarray(sites.domains) == domain
        first, last = periodic_span(np.asarray(sites.z_ang)[in_domain], length)
        assert first <= start < stop <= last
    n_labels = len(set(zip(sites.domains, sites.layers, strict=True)))
    old_window = length / n_labels
    old = macroscopic_average(planar, z[1] - z[0], [old_window])
    old_regions = []
    for domain in ("perovskite", "chalcogenide"):
        middle = middle_layer_mask(sites.domains, sites.layers, domain)
        start, stop = periodic_span(np.asarray(sites.z_ang)[middle], length)
        old_regions.append((start - 0.25 * old_window, stop + 0.25 * old_window))
    old_step = potential_step_ev(z, old, old_regions[0], old_regions[1])
    old_spread = max(plateau_spread_ev(z, old, region) for region in old_regions)
    assert abs(old_step - STEP_RY * RYDBERG_EV) > 0.01 or old_spread > 0.1


def test_one_plane_domain_has_no_period_and_says_what_to_do() -> None:
    with pytest.raises(ElectronicStructureError, match="lineup_periods_ang"):
        stacking_period([1.0, 1.1], ["Cd", "S"], 10.0, "chalcogenide")


@pytest.mark.parametrize("periodic", [True, False], ids=["superlattice", "slab"])
@pytest.mark.parametrize(
    ("perovskite_planes", "chalcogenide_planes", "thin"),
    [(3, 1, ["chalcogenide"]), (5, 1, ["chalcogenide"]), (3, 2, []), (5, 4, [])],
)
def test_one_plane_domains_are_those_built_with_one_plane(
    perovskite_planes: int, chalcogenide_planes: int, thin: list[str], periodic: bool
) -> None:
    """Reference: the plane counts the builder was asked for."""
    spec = InterfaceSpec(
        perovskite_planes=perovskite_planes,
        chalcogenide_planes=chalcogenide_planes,
        periodic=periodic,
    )
    assert one_plane_domains(build_interface(spec).atoms) == thin


def test_a_plane_straddling_the_cell_boundary_is_one_plane() -> None:
    """The 3 + 2 superlattice shifted so that its lowest CdS plane sits on z = 0, half its
    atoms 0.1 Å below (wrapped to L − 0.1) and half 0.1 Å above: still one plane
    (reference: the builder's 2 CdS planes and 3 perovskite planes)."""
    atoms = build_interface(
        InterfaceSpec(perovskite_planes=3, chalcogenide_planes=2, periodic=True)
    ).atoms
    chalcogenide = atoms.arrays["domain"] == "chalcogenide"
    atoms.positions[:, 2] -= atoms.positions[chalcogenide, 2].min()
    plane = np.flatnonzero(chalcogenide & (atoms.positions[:, 2] < 0.5))
    assert plane.size >= 2
    atoms.positions[plane[::2], 2] -= 0.1
    atoms.positions[plane[1::2], 2] += 0.1
    length = float(atoms.cell[2, 2])
    sites = AtomSites(
        atoms.positions[:, 2] % length,
        atoms.get_chemical_symbols(),
        list(atoms.arrays["domain"]),
        list(atoms.arrays["layer"]),
    )
    assert domain_plane_counts(sites, length) == {"perovskite": 3, "chalcogenide": 2}
