"""Cube I/O, planar/macroscopic averages, localisation and IS/FS selection."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from heterostructures.electronic.densities import (
    domain_fractions,
    layer_partition,
    line_density,
    macroscopic_average,
    planar_average,
    potential_step_ev,
    select_transfer_states,
    spatial_overlap,
    state_character,
)
from heterostructures.electronic.projected_dos import ElectronicStructureError
from heterostructures.io.cube import CubeFileError, CubeGrid, read_cube, write_cube
from heterostructures.io.projwfc_files import read_atomic_projections, read_atomic_states
from heterostructures.units import BOHR_ANGSTROM
from tests.heterostructures.electronic.test_projected_dos import (
    FIXTURES,
    SL_DOMAINS,
    SL_LAYERS,
    SUPERLATTICE,
)

PP = FIXTURES / "qe67_pp_cds_zns_001"


def gaussian_grid(centre_ang: float, width_ang: float = 0.8, length_ang: float = 24.0) -> CubeGrid:
    """A normalised Gaussian density (bohr⁻³) in a 6 × 6 × length Å cell with six layers."""
    shape = (12, 12, 96)
    voxel = np.diag([6.0 / shape[0], 6.0 / shape[1], length_ang / shape[2]]) / BOHR_ANGSTROM
    z = np.arange(shape[2]) * length_ang / shape[2]
    distance = (z - centre_ang + length_ang / 2) % length_ang - length_ang / 2
    profile = np.exp(-0.5 * (distance / width_ang) ** 2)
    data = np.broadcast_to(profile, shape).copy()
    data /= data.sum() * abs(np.linalg.det(voxel))
    positions = np.array([[0.0, 0.0, 2.0 + 4.0 * i] for i in range(6)]) / BOHR_ANGSTROM
    return CubeGrid(data, np.zeros(3), voxel, np.array([55, 82, 35, 48, 16, 48]), positions)


SYNTHETIC_DOMAINS = ["perovskite"] * 3 + ["chalcogenide"] * 3
SYNTHETIC_LAYERS = [3, 2, 1, 1, 2, 3]


def test_planar_average_of_recorded_states_integrates_to_their_norm() -> None:
    for band in (19, 21):
        grid = read_cube(PP / f"sl_psi2_K001_B0{band}.cube")
        z, density = line_density(grid)
        assert z[-1] + (z[1] - z[0]) == pytest.approx(5.615, abs=1e-4)
        assert density.sum() * (z[1] - z[0]) == pytest.approx(1.0, abs=1e-5)
        assert grid.integral() == pytest.approx(1.0, abs=1e-5)


@pytest.mark.parametrize(("centre", "domain"), [(6.0, "perovskite"), (18.0, "chalcogenide")])
def test_gaussian_in_one_domain_has_fraction_one_there(centre: float, domain: str) -> None:
    grid = gaussian_grid(centre)
    layers = layer_partition(grid, grid.positions_ang[:, 2], SYNTHETIC_DOMAINS, SYNTHETIC_LAYERS)
    assert sum(layers.values()) == pytest.approx(1.0)
    assert domain_fractions(layers)[domain] == pytest.approx(1.0, abs=1e-3)
    # Centred on the middle layer, it stays inside the ±2 Å slab of that layer.
    assert layers[(domain, 2)] == pytest.approx(0.987, abs=0.01)


def scaled(grid: CubeGrid, factor: float) -> CubeGrid:
    """The same state with its cube multiplied by ``factor`` (other units or norm)."""
    return CubeGrid(
        grid.data * factor, grid.origin_bohr, grid.voxel_bohr, grid.atomic_numbers,
        grid.positions_bohr,
    )  # fmt: skip


def test_spatial_overlap_is_one_for_a_state_with_itself_and_small_for_distant_states() -> None:
    near, far = gaussian_grid(6.0), gaussian_grid(18.0)
    assert spatial_overlap(near, near) == pytest.approx(1.0)
    assert spatial_overlap(near, far) < 1e-6
    recorded = [read_cube(PP / f"sl_psi2_K001_B0{band}.cube") for band in (19, 21)]
    assert 0.0 < spatial_overlap(*recorded) < 1.0
    assert spatial_overlap(recorded[0], recorded[0]) == pytest.approx(1.0, abs=1e-12)


def test_spatial_overlap_is_normalised_by_both_norms() -> None:
    """Reference: closed form. For normalised Gaussians of width σ whose centres are d apart,
    ∫ sqrt(ρ₁ρ₂) = exp(−d²/(8σ²)); ∫|ψ₁||ψ₂| / √(∫|ψ₁|²∫|ψ₂|²) keeps that value whatever
    the cubes' scale. The unnormalised ∫ sqrt(ρ₁ρ₂) dr moved with it (old: √3 × 0.1724 and
    2 for a state with itself ×4)."""
    width, distance = 0.8, 3.0
    first, second = gaussian_grid(6.0, width), gaussian_grid(6.0 + distance, width)
    expected = np.exp(-(distance**2) / (8 * width**2))
    assert spatial_overlap(first, second) == pytest.approx(expected, rel=1e-6)
    assert spatial_overlap(scaled(first, 3.0), second) == pytest.approx(expected, rel=1e-6)
    assert spatial_overlap(first, scaled(second, 0.148)) == pytest.approx(expected, rel=1e-6)
    assert spatial_overlap(scaled(first, 4.0), first) == pytest.approx(1.0)
    with pytest.raises(ElectronicStructureError, match="no positive value"):
        spatial_overlap(first, scaled(second, 0.0))


def test_macroscopic_average_removes_the_bulk_period_and_keeps_the_step() -> None:
    z = np.arange(400) * 0.05  # 20 Å
    period = 2.5
    step = np.where(z < 10.0, 0.0, 0.2)  # Ry
    potential = step + np.cos(2 * np.pi * z / period)
    averaged = macroscopic_average(potential, 0.05, [period])
    assert potential_step_ev(z, averaged, (12.5, 17.5), (2.5, 7.5)) == pytest.approx(
        0.2 * 13.6057, abs=1e-3
    )
    full_cell = macroscopic_average(potential, 0.05, [20.0])
    assert full_cell == pytest.approx(np.full_like(z, potential.mean()))
    with pytest.raises(ElectronicStructureError, match="window"):
        macroscopic_average(potential, 0.05, [25.0])


def test_recorded_potential_averages_consistently() -> None:
    grid = read_cube(PP / "sl_potential.cube")
    profile = planar_average(grid.data)
    assert profile.mean() == pytest.approx(grid.data.mean())
    spacing = grid.cell_ang[2, 2] / profile.size
    assert macroscopic_average(profile, spacing, [grid.cell_ang[2, 2]]) == pytest.approx(
        profile.mean()
    )


def test_cube_round_trip(tmp_path: Path) -> None:
    grid = gaussian_grid(6.0)
    again = read_cube(write_cube(tmp_path / "g.cube.gz", grid))
    assert again.data == pytest.approx(grid.data, rel=1e-4, abs=1e-12)
    assert again.cell_ang == pytest.approx(grid.cell_ang, abs=1e-4)  # 6 printed decimals
    (tmp_path / "cut.cube").write_text("\n".join((tmp_path / "g.cube.gz").name for _ in range(2)))
    with pytest.raises(CubeFileError):
        read_cube(tmp_path / "cut.cube")


@pytest.fixture(scope="module")
def recorded() -> tuple:
    return (
        read_atomic_projections(SUPERLATTICE / "atomic_proj.xml"),
        read_atomic_states(SUPERLATTICE / "projwfc.out"),
    )


def test_is_fs_selection_on_the_recorded_superlattice(recorded: tuple) -> None:
    projections, states = recorded
    transfer = select_transfer_states(
        projections, states, SL_DOMAINS, SL_LAYERS, "ZnS", "CdS", k_index=1
    )
    # Γ, the states pp.x plotted: CBM (band 19) leans to ZnS, band 21 to CdS.
    assert (transfer.initial.band, transfer.final.band) == (19, 21)
    assert transfer.initial.domain_weights["ZnS"] == pytest.approx(0.555, abs=0.005)
    assert transfer.final.domain_weights["CdS"] == pytest.approx(0.552, abs=0.005)
    assert transfer.energy_gap_ev == pytest.approx(7.756 - 10.550, abs=1e-3)
    assert sum(transfer.initial.element_weights.values()) == pytest.approx(1.0)
    assert "band 19 at k 1" in transfer.explanation
    # The spatial partition of the recorded |ψ|² agrees with the projections for band 19.
    grid = read_cube(PP / "sl_psi2_K001_B019.cube")
    spatial = domain_fractions(
        layer_partition(grid, grid.positions_ang[:, 2], SL_DOMAINS, SL_LAYERS)
    )
    assert spatial["ZnS"] == pytest.approx(transfer.initial.domain_weights["ZnS"], abs=0.02)
    holes = select_transfer_states(
        projections, states, SL_DOMAINS, SL_LAYERS, "CdS", "ZnS", carrier="hole"
    )
    assert holes.initial.energy_ev == pytest.approx(6.467, abs=1e-3)  # the VBM, on CdS
    assert holes.final.energy_ev < holes.initial.energy_ev


def test_is_fs_errors_say_what_to_fix(recorded: tuple) -> None:
    projections, states = recorded
    with pytest.raises(
        ElectronicStructureError, match=r"weight ≥ 0.6 on 'ZnS'; the best is 0\.564 \(k 1, band 23"
    ):
        select_transfer_states(
            projections, states, SL_DOMAINS, SL_LAYERS, "ZnS", "CdS", threshold=0.6, k_index=1
        )
    with pytest.raises(ElectronicStructureError, match="out of range: k 1…8, bands 1…24"):
        state_character(projections, states, SL_DOMAINS, SL_LAYERS, 1, 30)
    with pytest.raises(ElectronicStructureError, match="interface structure"):
        select_transfer_states(projections, states, ["CdS"] * 4, SL_LAYERS, "ZnS", "CdS")
    with pytest.raises(ElectronicStructureError, match="3 domain labels for 4 atoms"):
        select_transfer_states(projections, states, SL_DOMAINS[:3], SL_LAYERS, "ZnS", "CdS")


@pytest.mark.parametrize(
    ("heights", "expected"),
    [
        ([1.0, 2.0, 3.0], (1.0, 3.0)),
        # A layer straddling the boundary of a 10 Å cell: −0.2 ≡ 9.8.
        ([0.3, -0.2, 1.5], (9.8, 11.5)),
        ([9.9, 0.1], (9.9, 10.1)),
        ([4.0], (4.0, 4.0)),
    ],
)
def test_periodic_span_is_the_shortest_arc(
    heights: list[float], expected: tuple[float, float]
) -> None:
    from heterostructures.electronic.densities import periodic_span

    assert periodic_span(heights, 10.0) == pytest.approx(expected)


def test_plateau_spread_is_zero_on_a_plateau_and_the_rise_on_a_ramp() -> None:
    from heterostructures.electronic.densities import plateau_spread_ev

    z = np.linspace(0.0, 10.0, 100, endpoint=False)
    assert plateau_spread_ev(z, np.full_like(z, 0.3), (2.0, 4.0)) == pytest.approx(0.0)
    ramp = 0.01 * z  # Ry per Å
    spread = plateau_spread_ev(z, ramp, (2.0, 4.0))
    assert spread == pytest.approx(0.01 * 2.0 * 13.605693122994, rel=0.06)
    # A window across the cell boundary sees both ends of the ramp.
    assert plateau_spread_ev(z, ramp, (9.0, 11.0)) > 0.9 * 0.01 * 9.0 * 13.6
