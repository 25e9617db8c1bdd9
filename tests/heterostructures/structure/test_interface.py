"""Interface builder: demo model invariants, strain split, terminations, registry, errors."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from pymatgen.analysis.interfaces.coherent_interfaces import CoherentInterfaceBuilder
from pymatgen.analysis.interfaces.zsl import ZSLGenerator
from pymatgen.io.ase import AseAtomsAdaptor

from heterostructures.structure.errors import (
    InvalidMillerIndexError,
    RegistryError,
    StrainTooLargeError,
    StructureInputError,
    TooFewLayersError,
)
from heterostructures.structure.interface import (
    MODELS,
    Interface,
    InterfaceSpec,
    build_interface,
    default_interface,
    min_contact_ratio,
    strained_bulk_units,
)
from heterostructures.structure.layers import layers_of_atoms
from heterostructures.structure.phases import FORMAL_CHARGES, chalcogenide, perovskite
from heterostructures.structure.registry import ContactSide, scan_registry
from heterostructures.structure.terminations import (
    build_slab,
    describe,
    enumerate_terminations,
    oriented_unit,
)


@pytest.fixture(scope="module")
def demo() -> Interface:
    return default_interface()


def test_demo_model_is_the_26_atom_compensated_stack(demo: Interface) -> None:
    atoms = demo.atoms
    assert len(atoms) == 26
    assert atoms.get_chemical_formula() == "Br6Cd8Cs2Pb2S8"
    assert demo.perovskite_termination.name == "Br/CsPbBr/Br2/CsPbBr/Br"
    assert sorted(atoms.cell.lengths()[:2]) == pytest.approx([5.825, 8.237], abs=0.01)
    for strains in (demo.perovskite_strain_percent, demo.chalcogenide_strain_percent):
        assert max(abs(v) for v in strains) < 1.0


def test_demo_contacts_respect_the_bound_and_br_faces_cd(demo: Interface) -> None:
    atoms = demo.atoms
    _, ratio = min_contact_ratio(atoms)
    assert ratio >= 1.2 - 1e-9
    domain, layer = atoms.arrays["domain"], atoms.arrays["layer"]
    interface_br = np.flatnonzero((domain == "perovskite") & (layer == 0))
    assert set(atoms.symbols[interface_br]) == {"Br"}
    chalcogenide_atoms = np.flatnonzero(domain == "chalcogenide")
    for index in interface_br:
        distances = atoms.get_distances(index, chalcogenide_atoms, mic=True)
        assert atoms.symbols[chalcogenide_atoms[np.argmin(distances)]] == "Cd"


def test_labels_have_the_names_and_types_the_workflows_read(demo: Interface) -> None:
    arrays = demo.atoms.arrays
    assert set(arrays["domain"]) == {"perovskite", "chalcogenide"}
    assert arrays["layer"].dtype.kind == "i"
    assert arrays["fixed"].dtype == bool
    z = demo.atoms.positions[:, 2]
    top_cds = z[arrays["domain"] == "chalcogenide"].max()
    assert np.all(
        z[(arrays["domain"] == "chalcogenide") & (arrays["layer"] == 0)] == pytest.approx(top_cds)
    )
    assert not arrays["fixed"][arrays["layer"] == 0].any()
    assert arrays["fixed"].sum() == 8


def test_layers_stack_n_plus_m_with_the_right_composition() -> None:
    for n_perovskite, n_chalcogenide in [(3, 2), (5, 4), (7, 3)]:
        interface = build_interface(
            InterfaceSpec(perovskite_planes=n_perovskite, chalcogenide_planes=n_chalcogenide)
        )
        atoms = interface.atoms
        assert layers_of_atoms(atoms, tolerance=0.3).count == n_perovskite + n_chalcogenide
        symbols = list(atoms.symbols)
        assert symbols.count("Cd") == symbols.count("S") == 2 * n_chalcogenide
        cells = (n_perovskite - 1) // 2
        assert [symbols.count(s) for s in ("Cs", "Pb", "Br")] == [cells, cells, 3 * cells]


@pytest.mark.parametrize("weight", [0.0, 0.5, 1.0])
def test_strain_split_puts_the_lattice_where_it_should(weight: float) -> None:
    interface = build_interface(InterfaceSpec(strain_weight=weight))
    a_p, a_c = perovskite("CsPbBr3").cell[0, 0], chalcogenide("CdS").cell[0, 0]
    expected = weight * a_c + (1 - weight) * a_p
    assert interface.atoms.cell[0, 0] == pytest.approx(expected)
    assert interface.atoms.cell[1, 1] == pytest.approx(np.sqrt(2) * expected)
    perovskite_strain = 100 * (expected - a_p) / a_p
    assert interface.perovskite_strain_percent == pytest.approx(
        (perovskite_strain, perovskite_strain)
    )
    if weight == 0.0:
        assert interface.perovskite_strain_percent == pytest.approx((0.0, 0.0), abs=1e-12)
    if weight == 1.0:
        assert interface.chalcogenide_strain_percent == pytest.approx((0.0, 0.0), abs=1e-12)


@pytest.mark.parametrize("hkl", [(1, 0, 0), (1, 1, 0), (1, 1, 1)])
def test_every_termination_is_charge_accounted(hkl: tuple[int, int, int]) -> None:
    for bulk in (perovskite("CsPbBr3"), chalcogenide("CdS")):
        unit = oriented_unit(bulk, hkl)
        for termination in enumerate_terminations(unit):
            assert sum(termination.plane_charges) == pytest.approx(termination.total_charge)
            assert termination.total_charge == pytest.approx(0.0)
            assert len(termination.plane_charges) == len(termination.plane_formulas)


def test_perovskite_110_is_polar_and_the_compensated_film_is_not() -> None:
    unit = oriented_unit(perovskite("CsPbBr3"), (1, 1, 0))
    terminations = enumerate_terminations(unit)
    assert sorted(t.plane_formulas[0] for t in terminations) == ["Br2", "CsPbBr"]
    assert sorted(abs(q) for t in terminations for q in t.plane_charges) == [2, 2, 2, 2]
    polar = describe(build_slab(unit, 4, 0, "stoichiometric"), "stoichiometric")
    assert abs(polar.dipole) > 1.0
    for planes in (3, 5, 9):
        film = build_slab(unit, planes, 1, "compensated")
        accounting = describe(film, "compensated")
        assert accounting.total_charge == pytest.approx(0.0)
        assert accounting.dipole == pytest.approx(0.0, abs=1e-9)
        assert sum(FORMAL_CHARGES[s] for s in film.get_chemical_symbols()) == 0


def test_chalcogenide_110_planes_are_neutral() -> None:
    unit = oriented_unit(chalcogenide("CdS"), (1, 1, 0))
    (termination,) = enumerate_terminations(unit)
    assert termination.plane_charges == (0.0, 0.0)


def test_registry_scan_never_returns_atoms_closer_than_the_bound() -> None:
    unit_c = oriented_unit(chalcogenide("CdS"), (1, 1, 0))
    unit_p = oriented_unit(perovskite("CsPbBr3"), (1, 1, 0))
    lower_slab, upper_slab = build_slab(unit_c, 4, 0, "stoichiometric"), build_slab(unit_p, 5, 1)
    lower = ContactSide.from_atoms(lower_slab, facing_top=True)
    upper = ContactSide.from_atoms(upper_slab, facing_top=False)
    cell = unit_c.cell[:2, :2]
    for bound in (1.0, 1.2, 1.4):
        for candidate in scan_registry(lower, upper, cell, (6, 6), bound=bound):
            shift = np.asarray(candidate.shift) @ cell
            delta = (upper.xy + shift)[None, :, :] - lower.xy[:, None, :]
            fractional = np.linalg.solve(cell.T, delta.reshape(-1, 2).T).T
            rho = np.linalg.norm((fractional - np.rint(fractional)) @ cell, axis=1).reshape(
                delta.shape[:2]
            )
            height = lower.height[:, None] + upper.height[None, :] + candidate.gap
            ratio = np.sqrt(rho**2 + height**2) / (lower.radii[:, None] + upper.radii[None, :])
            assert ratio.min() >= bound - 1e-9
    with pytest.raises(RegistryError, match="increase the gap"):
        scan_registry(lower, upper, cell, (4, 4), gap=0.5, bound=1.2)


def test_periodic_superlattice_has_no_vacuum_and_both_interfaces_are_sane() -> None:
    slab, superlattice = default_interface(), default_interface(periodic=True)
    assert len(superlattice.atoms) == len(slab.atoms) == 26
    assert superlattice.atoms.cell[2, 2] < slab.atoms.cell[2, 2] - 5.0
    _, ratio = min_contact_ratio(superlattice.atoms)
    assert ratio >= 1.2 - 1e-9
    assert set(
        superlattice.atoms.arrays["layer"][superlattice.atoms.arrays["domain"] == "perovskite"]
    ) == {0, 1, 2}


def test_production_model_is_larger_and_documented() -> None:
    production = default_interface(model="production")
    assert len(production.atoms) == 104
    assert max(abs(v) for v in production.perovskite_strain_percent) < 1.0


@pytest.mark.parametrize(
    ("formula_p", "formula_c"), [("CsPbCl3", "CdS"), ("CsPbI3", "CdS"), ("CsPbBr3", "ZnS")]
)
def test_other_pairs_refuse_the_1to1_cell_without_coincidence_then_build_with_a_looser_bound(
    formula_p: str, formula_c: str
) -> None:
    """Reference: the 1:1 mismatch of these pairs (1.96-3.9 % per side) against the 1 %
    bound; with the search on they get a coincidence cell (tests/heterostructures/
    test_coincidence.py)."""
    with pytest.raises(StrainTooLargeError, match="max_strain_percent"):
        default_interface(formula_p, formula_c, coincidence="off")
    interface = default_interface(formula_p, formula_c, max_strain_percent=4.0)
    assert min_contact_ratio(interface.atoms)[1] >= 1.2 - 1e-9
    assert interface.perovskite_termination.dipole == pytest.approx(0.0, abs=1e-9)


def test_matches_pymatgen_coherent_interface_builder_on_the_same_facets() -> None:
    adaptor = AseAtomsAdaptor()
    builder = CoherentInterfaceBuilder(
        substrate_structure=adaptor.get_structure(chalcogenide("CdS")),
        film_structure=adaptor.get_structure(perovskite("CsPbBr3")),
        film_miller=(1, 1, 0),
        substrate_miller=(1, 1, 0),
        zslgen=ZSLGenerator(max_area=60),
    )
    reference = next(builder.get_interfaces(builder.terminations[0], gap=3.0, vacuum_over_film=10))
    ours = build_interface(InterfaceSpec(strain_weight=1.0))
    assert sorted(reference.lattice.abc[:2]) == pytest.approx(
        sorted(ours.atoms.cell.lengths()[:2]), abs=1e-3
    )
    assert len(builder.terminations) == 1
    perovskite_unit = oriented_unit(perovskite("CsPbBr3"), (1, 1, 0))
    assert len(enumerate_terminations(perovskite_unit)) == 2


def test_bad_input() -> None:
    with pytest.raises(TooFewLayersError):
        build_interface(InterfaceSpec(perovskite_planes=2))
    with pytest.raises(TooFewLayersError, match="k\\*2 \\+ 1"):
        build_interface(InterfaceSpec(perovskite_planes=4))
    with pytest.raises(InvalidMillerIndexError):
        build_interface(InterfaceSpec(perovskite_hkl=(0, 0, 0)))
    with pytest.raises(StructureInputError, match="strain_weight"):
        build_interface(InterfaceSpec(strain_weight=1.5))
    with pytest.raises(StructureInputError, match="max_atoms"):
        build_interface(InterfaceSpec(max_atoms=20))
    with pytest.raises(StructureInputError, match="unknown model"):
        default_interface(model="huge")
    with pytest.raises(RegistryError):
        build_interface(replace(InterfaceSpec(), gap=0.5))


@pytest.mark.parametrize("model", ["demo", "production"])
def test_strained_bulk_units_carry_the_interface_strain(model: str) -> None:
    """Route 2 references: the interface's in-plane cell and strain, the bulk period along z."""
    spec = MODELS[model]
    interface = build_interface(spec)
    units = strained_bulk_units(spec)
    supercell = np.diag(spec.supercell).astype(float)
    for side, strain, bulk in (
        ("perovskite", interface.perovskite_strain_percent, perovskite(spec.perovskite)),
        ("chalcogenide", interface.chalcogenide_strain_percent, chalcogenide(spec.chalcogenide)),
    ):
        unit = units[side]
        np.testing.assert_allclose(supercell @ unit.cell[:2, :2], interface.atoms.cell[:2, :2])
        assert (
            unit.get_chemical_formula() == (bulk * (len(unit) // len(bulk))).get_chemical_formula()
        )
        # Bulk period along the normal and bulk density changed only by the in-plane strain.
        natural = len(unit) / len(bulk) * bulk.get_volume()
        in_plane = (1 + strain[0] / 100) * (1 + strain[1] / 100)
        assert unit.get_volume() == pytest.approx(natural * in_plane, rel=1e-9)
        # Still a perfect crystal: every atom keeps its bulk coordination distance.
        distances = unit.get_all_distances(mic=True)
        np.fill_diagonal(distances, np.inf)
        assert distances.min() > 0.97 * min(
            d for d in bulk.get_all_distances(mic=True).ravel() if d > 0
        )
