"""Grouping, band edges, offsets and alignment type (synthetic and recorded QE 6.7 data)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from heterostructures.electronic.band_offsets import (
    classify_alignment,
    domain_alignment,
)
from heterostructures.electronic.projected_dos import (
    ElectronicStructureError,
    eigenvalue_band_edges,
    group_projected_dos,
    layer_resolved_edges,
    middle_layer_mask,
    midgap_reference,
    pdos_band_edges,
)
from heterostructures.io.projwfc_files import (
    ProjectedDos,
    read_atomic_projections,
    read_atomic_states,
    read_projected_dos,
)

FIXTURES = Path(__file__).parents[2] / "fixtures"
BULK = FIXTURES / "qe67_projwfc_cds_bulk"
SUPERLATTICE = FIXTURES / "qe67_projwfc_cds_zns_001"
SL_DOMAINS = ["CdS", "CdS", "ZnS", "ZnS"]
SL_LAYERS = [1, 1, 1, 1]


def parabolic_dos(energies: np.ndarray, vbm: float, cbm: float) -> np.ndarray:
    """3D parabolic-band DOS (states/eV) with edges at vbm and cbm."""
    return np.sqrt((vbm - energies).clip(min=0)) + np.sqrt((energies - cbm).clip(min=0))


def two_domain_pdos(
    edges: dict[str, tuple[float, float]], layers_per_domain: int = 3
) -> ProjectedDos:
    """A synthetic interface: one atom per layer, every atom with its domain's DOS."""
    energies = np.arange(-3.0, 5.0, 0.005)
    rows, atoms = [], []
    for domain_index, (vbm, cbm) in enumerate(edges.values()):
        for layer in range(layers_per_domain):
            rows.append(parabolic_dos(energies, vbm, cbm))
            atoms.append(domain_index * layers_per_domain + layer + 1)
    dos = np.array(rows)
    return ProjectedDos(
        energies_ev=energies,
        orbital_dos=dos,
        orbital_atoms=np.array(atoms),
        orbital_elements=tuple("X" for _ in atoms),
        orbital_labels=tuple("s" for _ in atoms),
        total_dos=dos.sum(axis=0),
        total_pdos=dos.sum(axis=0),
    )


def test_layer_and_orbital_groups_sum_back_to_the_total_projected_dos() -> None:
    pdos = read_projected_dos(SUPERLATTICE)
    # projwfc prints 3 significant digits: the sums agree to that rounding (≤ 1 %).
    for keys in (
        SL_DOMAINS,
        list(zip(SL_DOMAINS, [1, 2, 1, 2], strict=True)),
        ["Cd", "S", "Zn", "S"],
    ):
        grouped = group_projected_dos(pdos, keys)
        assert grouped.dos.sum(axis=0) == pytest.approx(pdos.total_pdos, rel=1e-2, abs=1e-4)
    by_orbital = group_projected_dos(pdos, SL_DOMAINS, by_orbital=True)
    assert set(by_orbital.keys) == {(d, o) for d in ("CdS", "ZnS") for o in "spd"}
    assert by_orbital.dos.sum(axis=0) == pytest.approx(
        group_projected_dos(pdos, SL_DOMAINS).dos.sum(axis=0)
    )
    assert list(group_projected_dos(pdos, SL_DOMAINS).n_atoms) == [2, 2]


@pytest.mark.parametrize(
    ("fixture", "n_atoms"), [(BULK, 2), (FIXTURES / "qe67_projwfc_cspbbr3_bulk", 5)]
)
def test_bulk_pdos_edges_equal_the_kohn_sham_vbm_and_cbm(fixture: Path, n_atoms: int) -> None:
    """Reference: the Kohn–Sham VBM/CBM (max of band n_e/2, min of the next, over the 6×6×6
    mesh) that pw.x wrote to ``atomic_proj.xml`` in the same run as the tetrahedron PDOS.

    Bulk ZB CdS and cubic CsPbBr3 through the same edge code, within 0.05 eV. The former
    1e-3 states-per-atom threshold put (VBM, CBM) (0.086, 0.50) eV inside the CdS bands
    and (0.28, 0.095) eV inside the CsPbBr3 bands; the extrapolation is within 0.005 eV.
    """
    pdos = read_projected_dos(fixture)
    projections = read_atomic_projections(fixture / "atomic_proj.xml")
    n_occupied = round(projections.n_electrons) // 2
    vbm = projections.eigenvalues_ev[:, n_occupied - 1].max()
    cbm = projections.eigenvalues_ev[:, n_occupied].min()
    reference = midgap_reference(projections)
    assert reference == pytest.approx(0.5 * (vbm + cbm))
    edges = pdos_band_edges(pdos.energies_ev, pdos.total_pdos, reference, n_atoms)
    assert edges.vbm_ev == pytest.approx(vbm, abs=0.05)
    assert edges.cbm_ev == pytest.approx(cbm, abs=0.05)
    assert not edges.metallic
    states = read_atomic_states(fixture / "projwfc.out")
    everything = np.ones(len(states), dtype=bool)
    ks = eigenvalue_band_edges(projections, everything, reference, min_weight=0.5)
    assert (ks.vbm_ev, ks.cbm_ev) == pytest.approx((vbm, cbm))


def test_edge_extrapolation_recovers_a_tetrahedron_cone_and_a_parabolic_onset() -> None:
    """Reference: closed forms. A linear-tetrahedron cone has DOS ∝ (E − E_c)², a 3D
    parabolic band DOS ∝ √(E − E_c); both edges are recovered to a fraction of the grid."""
    energies = np.arange(-2.0, 3.0, 0.02)
    vbm, cbm = -0.513, 1.237
    dos = 0.4 * (vbm - energies).clip(min=0) ** 2 + 0.05 * np.sqrt((energies - cbm).clip(min=0))
    edges = pdos_band_edges(energies, dos, 0.5 * (vbm + cbm), 1)
    assert edges.vbm_ev == pytest.approx(vbm, abs=0.005)
    assert edges.cbm_ev == pytest.approx(cbm, abs=0.005)
    empty_above = np.where(energies < vbm, dos, 0.0)
    assert pdos_band_edges(energies, empty_above, 0.3, 1).cbm_ev is None


@pytest.mark.parametrize(
    ("edges", "expected_type"),
    [
        ({"perovskite": (0.0, 2.0), "chalcogenide": (-0.3, 1.9)}, "II"),
        ({"perovskite": (0.0, 2.0), "chalcogenide": (0.3, 1.5)}, "I"),
    ],
)
def test_synthetic_two_domain_offsets_are_recovered(
    edges: dict[str, tuple[float, float]], expected_type: str
) -> None:
    pdos = two_domain_pdos(edges)
    domains = [d for d in edges for _ in range(3)]
    layers = [layer for _ in edges for layer in (3, 2, 1)]
    (vbm_a, cbm_a), (vbm_b, cbm_b) = edges.values()
    reference = 0.5 * (max(vbm_a, vbm_b) + min(cbm_a, cbm_b))
    alignment = domain_alignment(pdos, domains, layers, ("perovskite", "chalcogenide"), reference)
    # Parabolic bands: the √ onset is extrapolated to the edges themselves.
    assert alignment.projected.valence_offset_ev == pytest.approx(vbm_a - vbm_b, abs=0.006)
    assert alignment.projected.conduction_offset_ev == pytest.approx(cbm_a - cbm_b, abs=0.006)
    assert alignment.edges_a.gap_ev == pytest.approx(cbm_a - vbm_a, abs=0.01)
    assert alignment.projected.alignment_type == expected_type
    assert "E_CBM(A) − E_CBM(B)" in alignment.convention
    assert "PBE" in alignment.level_of_theory


def test_broken_gap_or_metal_is_reported_never_a_silent_offset() -> None:
    edges = {"perovskite": (0.0, 1.0), "chalcogenide": (1.2, 2.5)}
    assert classify_alignment(0.0, 1.0, 1.2, 2.5) == "III"
    domains = [d for d in edges for _ in range(3)]
    layers = [3, 2, 1] * 2
    alignment = domain_alignment(
        two_domain_pdos(edges), domains, layers, ("perovskite", "chalcogenide"), 1.1
    )
    assert alignment.projected.alignment_type == "undetermined"
    assert alignment.projected.valence_offset_ev is None
    assert "metallic" in alignment.projected.reason


def test_metallic_system_has_no_midgap_reference() -> None:
    projections = read_atomic_projections(BULK / "atomic_proj.xml")
    metal = replace(projections, n_electrons=17.0)
    with pytest.raises(ElectronicStructureError, match="even"):
        midgap_reference(metal)
    overlapping = projections.eigenvalues_ev.copy()
    overlapping[:, 9] = overlapping[:, 8].max() - 0.1
    with pytest.raises(ElectronicStructureError, match="metallic"):
        midgap_reference(replace(projections, eigenvalues_ev=overlapping))


def test_labels_that_do_not_fit_the_calculation_are_refused() -> None:
    pdos = read_projected_dos(SUPERLATTICE)
    with pytest.raises(ElectronicStructureError, match="3 group labels for 4 atoms"):
        group_projected_dos(pdos, ["CdS", "CdS", "ZnS"])
    with pytest.raises(ElectronicStructureError, match="is this an interface"):
        middle_layer_mask(["CdS"] * 4, [1, 2, 2, 1], "perovskite")


def test_middle_layers_are_the_deepest_of_the_domain() -> None:
    domains = ["A"] * 4 + ["B"] * 4
    layers = [1, 2, 2, 1, 1, 2, 3, 1]
    assert middle_layer_mask(domains, layers, "A").tolist() == [False, True, True] + [False] * 5
    assert middle_layer_mask(domains, layers, "B", n_layers=2).tolist() == [False] * 5 + [
        True,
        True,
        False,
    ]


def test_pdos_edge_profile_and_is_fs_pictures_are_written(tmp_path: Path) -> None:
    from heterostructures.electronic.densities import line_density
    from heterostructures.io.cube import read_cube
    from heterostructures.plots.electronic import (
        plot_band_edge_profile,
        plot_projected_dos,
        plot_transfer_densities,
    )

    pdos = read_projected_dos(SUPERLATTICE)
    by_domain = group_projected_dos(pdos, SL_DOMAINS)
    by_element = group_projected_dos(pdos, ["Cd", "S", "Zn", "S"])
    picture = plot_projected_dos(by_domain, by_element, 6.467, "E_F", tmp_path / "pdos.png")
    edges = [
        pdos_band_edges(pdos.energies_ev, by_domain.of(d), 7.1, 2, group=d) for d in ("CdS", "ZnS")
    ]
    profile = plot_band_edge_profile(edges, [1.0, 4.0], 6.467, "E_F", tmp_path / "edges.png")
    pp = FIXTURES / "qe67_pp_cds_zns_001"
    grid = read_cube(pp / "sl_psi2_K001_B019.cube")
    z, initial = line_density(grid)
    _, final = line_density(read_cube(pp / "sl_psi2_K001_B021.cube"))
    side = plot_transfer_densities(
        z,
        initial,
        final,
        grid.positions_ang[:, 2],
        ["Cd", "S", "Zn", "S"],
        SL_DOMAINS,
        tmp_path / "isfs.png",
    )
    for path in (picture, profile, side):
        assert path.read_bytes()[:4] == b"\x89PNG"


def test_layer_resolved_edges_follow_each_layer() -> None:
    edges = {"perovskite": (0.0, 2.0), "chalcogenide": (-0.3, 1.9)}
    domains = [d for d in edges for _ in range(3)]
    layers = [3, 2, 1, 1, 2, 3]
    profile = layer_resolved_edges(two_domain_pdos(edges), domains, layers, 0.95)
    assert [edge.group for edge in profile][:2] == ["perovskite layer 3", "perovskite layer 2"]
    vbms = [edge.vbm_ev or float("nan") for edge in profile]
    assert vbms[:3] == pytest.approx([vbms[0]] * 3)
    assert vbms[0] - vbms[5] == pytest.approx(0.3, abs=0.006)
