"""Voronoi and on-grid Bader shares of a density on the atoms of a cube.

References: Voronoi cell volumes from scipy's Qhull (``scipy.spatial.Voronoi`` +
``ConvexHull``) on the periodically repeated atoms; Gaussian densities whose share in a
half-space is the closed form ½ erfc(d / (√2 σ)); Bader basins of two Gaussians bounded
by the density minimum between them (a 1D root of the analytic density).
"""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest
from scipy.optimize import brentq
from scipy.spatial import ConvexHull, Voronoi
from scipy.special import erf

from heterostructures.electronic.real_space_partition import (
    PartitionError,
    element_ranking,
    real_space_shares,
)
from heterostructures.io.cube import CubeGrid, read_cube

PP = Path(__file__).parents[2] / "fixtures" / "qe67_pp_cds_zns_001"


def box_grid(
    lengths_bohr: tuple[float, float, float],
    shape: tuple[int, int, int],
    positions_bohr: np.ndarray,
    numbers: list[int],
    density: np.ndarray | None = None,
) -> CubeGrid:
    """Orthorhombic cube; ``density`` defaults to uniform (unnormalised on purpose)."""
    voxel = np.diag(np.array(lengths_bohr) / np.array(shape))
    data = np.full(shape, 0.37) if density is None else density
    return CubeGrid(data, np.zeros(3), voxel, np.array(numbers), np.asarray(positions_bohr))


def qhull_volume_fractions(cell: np.ndarray, fractions: np.ndarray) -> np.ndarray:
    """Voronoi cell volume of each atom / cell volume, by Qhull on 3×3×3 repeated atoms."""
    shifts = np.array(list(itertools.product((-1, 0, 1), repeat=3)))
    points = ((fractions[None, :, :] + shifts[:, None, :]) @ cell).reshape(-1, 3)
    voronoi = Voronoi(points)
    centre = next(i for i, s in enumerate(shifts) if not s.any()) * len(fractions)
    volumes = []
    for atom in range(len(fractions)):
        region = voronoi.regions[voronoi.point_region[centre + atom]]
        volumes.append(ConvexHull(voronoi.vertices[region]).volume)
    return np.array(volumes) / abs(np.linalg.det(cell))


def test_voronoi_shares_of_a_uniform_density_are_the_qhull_cell_volumes() -> None:
    lengths = (9.0, 10.0, 11.0)
    fractions = np.array([[0.0, 0.0, 0.0], [0.31, 0.22, 0.13], [0.62, 0.57, 0.71]])
    cell = np.diag(lengths)
    grid = box_grid(lengths, (45, 50, 55), fractions @ cell, [55, 82, 35])
    shares = real_space_shares(grid, "voronoi")
    expected = qhull_volume_fractions(cell, fractions)
    assert expected.sum() == pytest.approx(1.0)
    assert np.array(shares.atom_shares) == pytest.approx(expected, abs=5e-4)
    by_element = dict(zip(["Cs", "Pb", "Br"], expected, strict=True))
    assert shares.element_shares == pytest.approx(by_element, abs=5e-4)


def slab_density(
    x: np.ndarray, centres: list[float], weights: list[float], sigma: float
) -> np.ndarray:
    """Periodic sum (period = 10 bohr) of normalised 1D Gaussians at ``centres`` (bohr)."""
    total = np.zeros_like(x)
    for centre, weight in zip(centres, weights, strict=True):
        for image in range(-3, 4):
            offset = x - centre - 10.0 * image
            total += weight * np.exp(-0.5 * (offset / sigma) ** 2) / (sigma * np.sqrt(2 * np.pi))
    return total


def gaussian_mass(
    a: float, b: float, centres: list[float], weights: list[float], sigma: float
) -> float:
    """∫_a^b of :func:`slab_density` in closed form (error functions)."""
    mass = 0.0
    for centre, weight in zip(centres, weights, strict=True):
        for image in range(-3, 4):
            low, high = (np.array([a, b]) - centre - 10.0 * image) / (sigma * np.sqrt(2))
            mass += weight * 0.5 * (erf(high) - erf(low))
    return mass


def two_gaussian_slab(sigma: float, weights: list[float]) -> tuple[CubeGrid, list[float]]:
    """Atoms at x = 2.5 and 7.5 bohr (+ half a voxel) of a 10 bohr cell, ρ uniform in y, z."""
    n_x = 200
    half_voxel = 10.0 / n_x / 2
    centres = [2.5 + half_voxel, 7.5 + half_voxel]
    x = np.arange(n_x) * 10.0 / n_x
    profile = slab_density(x, centres, weights, sigma)
    density = np.broadcast_to(profile[:, None, None], (n_x, 6, 6)).copy()
    positions = np.array([[c, 3.0, 3.0] for c in centres])
    return box_grid((10.0, 6.0, 6.0), density.shape, positions, [82, 35], density), centres


def test_voronoi_shares_of_two_gaussians_match_the_error_function() -> None:
    sigma, weights = 1.5, [0.7, 0.3]
    grid, centres = two_gaussian_slab(sigma, weights)
    # Atom 1 owns the slab between the two bisector planes at x = 0 and 5 bohr (+ ½ voxel).
    low, high = centres[0] - 2.5, centres[0] + 2.5
    expected = gaussian_mass(low, high, centres, weights, sigma)
    assert 0.6 < expected < 0.67  # ≈ 5 % of each Gaussian leaks across each plane
    shares = real_space_shares(grid, "voronoi")
    assert shares.atom_shares[0] == pytest.approx(expected, abs=2e-5)
    assert sum(shares.atom_shares) == pytest.approx(1.0)


def test_bader_basins_of_two_gaussians_end_at_the_density_minima() -> None:
    sigma, weights = 1.5, [0.7, 0.3]
    grid, centres = two_gaussian_slab(sigma, weights)

    def slope(x: float) -> float:
        step = 1e-6
        return float(
            (slab_density(np.array([x + step]), centres, weights, sigma)
             - slab_density(np.array([x - step]), centres, weights, sigma))[0] / (2 * step)
        )  # fmt: skip

    # The minima between the Gaussians lie off the bisectors, towards the lighter one.
    upper = brentq(slope, centres[0] + 0.5, centres[1] - 0.5)
    lower = brentq(slope, centres[1] - 10.0 + 0.5, centres[0] - 0.5)
    assert upper > centres[0] + 2.5
    expected = gaussian_mass(lower, upper, centres, weights, sigma)
    bader = real_space_shares(grid, "bader")
    voronoi = real_space_shares(grid, "voronoi")
    assert bader.atom_shares[0] == pytest.approx(expected, abs=1e-3)
    assert bader.atom_shares[0] > voronoi.atom_shares[0] + 0.01


def test_bader_gives_a_neighbour_nothing_of_a_density_that_voronoi_shares() -> None:
    """One 3D Gaussian on atom B, atom A 2 bohr away: Voronoi gives A the half-space tail
    ½ erfc(1 bohr / (√2 σ)) of B's density, Bader gives it nothing (one maximum, on B)."""
    sigma, n = 1.0, 48
    lengths = (12.0, 12.0, 12.0)
    h = 12.0 / n
    b_site = np.array([6.0, 6.0, 6.0]) + h / 2
    a_site = b_site + np.array([2.0, 0.0, 0.0])
    points = np.indices((n, n, n)).transpose(1, 2, 3, 0) * h
    density = np.exp(-0.5 * np.sum((points - b_site) ** 2, axis=-1) / sigma**2)
    grid = box_grid(lengths, (n, n, n), np.array([a_site, b_site]), [55, 35], density)
    voronoi = real_space_shares(grid, "voronoi")
    bader = real_space_shares(grid, "bader")
    tail = 0.5 * (1 - erf(1.0 / (np.sqrt(2) * sigma)))
    assert voronoi.element_shares["Cs"] == pytest.approx(tail, abs=2e-3)
    assert bader.element_shares == {"Cs": 0.0, "Br": pytest.approx(1.0)}
    assert element_ranking(voronoi.element_shares) == ["Br", "Cs"]


def test_bader_shares_of_separated_spheres_are_their_weights() -> None:
    """Two narrow 3D Gaussians of weights 0.8/0.2 on atoms 6 bohr apart (tails < 1e-6)."""
    n, h, sigma = 40, 0.3, 0.6
    points = np.indices((n, n, n)).transpose(1, 2, 3, 0) * h
    sites = np.array([[3.0, 3.0, 3.0], [9.0, 9.0, 6.0]]) + h / 2
    density = sum(
        weight * np.exp(-0.5 * np.sum((points - site) ** 2, axis=-1) / sigma**2)
        for weight, site in zip([0.8, 0.2], sites, strict=True)
    )
    grid = box_grid((12.0, 12.0, 12.0), (n, n, n), sites, [82, 82], np.asarray(density))
    shares = real_space_shares(grid, "bader")
    assert shares.atom_shares == pytest.approx((0.8, 0.2), abs=1e-6)
    assert shares.element_shares == {"Pb": pytest.approx(1.0)}


@pytest.mark.parametrize("method", ["voronoi", "bader"])
def test_shares_of_a_recorded_state_do_not_depend_on_where_the_grid_starts(method: str) -> None:
    """pp.x |ψ|² of the CdS/ZnS superlattice; the same field on a grid rolled by (5, 7, 11)
    voxels with the origin moved to match is the same partition (periodicity)."""
    grid = read_cube(PP / "sl_psi2_K001_B019.cube")
    shift = np.array([5, 7, 11])
    rolled = CubeGrid(
        np.roll(grid.data, tuple(-shift), axis=(0, 1, 2)),
        grid.origin_bohr + shift @ grid.voxel_bohr,
        grid.voxel_bohr,
        grid.atomic_numbers,
        grid.positions_bohr,
    )
    shares = real_space_shares(grid, method)
    assert sum(shares.atom_shares) == pytest.approx(1.0)
    assert set(shares.element_shares) == {"Cd", "Zn", "S"}
    assert real_space_shares(rolled, method).atom_shares == pytest.approx(shares.atom_shares)


def test_bad_input_says_what_to_fix() -> None:
    grid = box_grid((5.0, 5.0, 5.0), (8, 8, 8), np.zeros((1, 3)), [16])
    with pytest.raises(PartitionError, match="use one of"):
        real_space_shares(grid, "hirshfeld")
    with pytest.raises(PartitionError, match="2 element symbols for 1 atoms"):
        real_space_shares(grid, "voronoi", ["S", "Cd"])
    empty = box_grid((5.0, 5.0, 5.0), (8, 8, 8), np.zeros((1, 3)), [16], np.zeros((8, 8, 8)))
    with pytest.raises(PartitionError, match="no positive value"):
        real_space_shares(empty, "bader")
