"""Coincidence supercells: the choice, its strain, its films, and every pair on defaults."""

from __future__ import annotations

import itertools
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import yaml
from pymatgen.analysis.interfaces.zsl import ZSLGenerator

from heterostructures.structure.coincidence import (
    DEFAULT_MAX_ATOMS,
    coincidence_candidates,
    resolve_cell,
)
from heterostructures.structure.errors import StrainTooLargeError
from heterostructures.structure.interface import (
    Interface,
    InterfaceSpec,
    build_interface,
    min_contact_ratio,
)
from heterostructures.structure.interface_spec import spec_from_dict
from heterostructures.structure.phases import (
    FORMAL_CHARGES,
    chalcogenide,
    pseudocubic_lattice_constant,
)

PROTOCOLS = Path(__file__).parents[3] / "workflows" / "protocols" / "interface.yaml"
NEW_PAIRS = [("CsPbCl3", "CdS"), ("CsPbI3", "CdS"), ("CsPbBr3", "ZnS")]


def fast_values() -> dict[str, object]:
    """The ``fast`` protocol's interface inputs (what ``aiida-janus run`` builds), from YAML."""
    protocols = yaml.safe_load(PROTOCOLS.read_text())
    return {
        **protocols["default_inputs"]["interface"],
        **protocols["protocols"]["fast"]["interface"],
    }


@pytest.fixture(scope="module")
def fast_models() -> dict[tuple[str, str], Interface]:
    return {
        pair: build_interface(
            spec_from_dict({**fast_values(), "perovskite": pair[0], "chalcogenide": pair[1]})
        )
        for pair in [("CsPbBr3", "CdS"), *NEW_PAIRS]
    }


def test_one_to_one_cell_stays_whenever_it_meets_the_bound() -> None:
    """Reference: the 1:1 demo cell (0.11 % per side); no coincidence search replaces it."""
    spec = InterfaceSpec()
    assert resolve_cell(spec) == (spec, None)
    periodic = spec_from_dict(fast_values())
    assert resolve_cell(periodic) == (periodic, None)


def _square_on_square(a_film: float, a_substrate: float, bound: float) -> float:
    """Smallest area (Å²) of two square superlattices a√(m²+n²) meeting the per-side bound (%)
    with the strain split evenly: a hand enumeration, no ZSL involved. On a square lattice the
    lattice vectors perpendicular to a primitive (m, n) are k(−n, m), so the smallest
    rectangular coincidence is a square."""
    norms = sorted({m * m + n * n for m, n in itertools.product(range(8), repeat=2)} - {0})
    best = np.inf
    for n_film, n_substrate in itertools.product(norms, repeat=2):
        film, substrate = a_film * np.sqrt(n_film), a_substrate * np.sqrt(n_substrate)
        common = 0.5 * (film + substrate)
        if max(abs(common / film - 1), abs(common / substrate - 1)) * 100 <= bound:
            best = min(best, common**2)
    return float(best)


def test_cube_face_choice_matches_a_hand_enumeration_and_pymatgen_zsl() -> None:
    """References: (1) a hand enumeration of square-on-square coincidences (both (100) faces
    are square lattices of side a); (2) pymatgen's ZSLGenerator called directly on the two
    face lattices, its smallest match within the per-side bound."""
    spec = replace(
        spec_from_dict({**fast_values(), "perovskite": "CsPbI3", "chalcogenide": "CdS"}),
        perovskite_hkl=(1, 0, 0), chalcogenide_hkl=(1, 0, 0), coincidence="facets",
    )  # fmt: skip
    best = coincidence_candidates(spec)
    assert best
    a_p, a_c = pseudocubic_lattice_constant("CsPbI3"), chalcogenide("CdS").cell[0, 0]
    smallest = min(c.area for c in best)
    assert smallest == pytest.approx(_square_on_square(a_c, a_p, 1.0), rel=1e-9)
    generator = ZSLGenerator(max_area=400, max_length_tol=0.03, max_angle_tol=0.01)
    areas = []
    for match in generator(np.eye(3)[1:] * a_c, np.eye(3)[1:] * a_p):
        film = np.linalg.norm(match.film_sl_vectors, axis=1)
        substrate = np.linalg.norm(match.substrate_sl_vectors, axis=1)
        rectangular = abs(np.dot(*match.film_sl_vectors)) < 1e-9
        common = 0.5 * (film + substrate)
        strains = np.concatenate([common / film, common / substrate]) - 1
        if rectangular and np.max(np.abs(strains)) <= 0.01:
            areas.append(float(np.prod(common)))
    assert smallest == pytest.approx(min(areas), rel=1e-9)


@pytest.mark.parametrize("pair", NEW_PAIRS)
def test_built_strain_is_the_cell_vectors_over_the_bulk_vectors(
    fast_models: dict[tuple[str, str], Interface], pair: tuple[str, str]
) -> None:
    """Reference: by hand, strain_i = |built cell vector i| / |[uvw]_i · a| − 1 on each side
    (the chosen cells are rectangular), with the common cell halfway between the two."""
    interface = fast_models[pair]
    spec, cell = interface.spec, interface.metadata["coincidence"]
    assert isinstance(cell, dict)
    built = np.linalg.norm(interface.atoms.cell[:2], axis=1)
    assert abs(np.dot(interface.atoms.cell[0], interface.atoms.cell[1])) < 1e-6
    a_p = pseudocubic_lattice_constant(pair[0])
    a_c = float(chalcogenide(pair[1]).cell[0, 0])
    for directions, a, strain in (
        (spec.perovskite_directions, a_p, interface.perovskite_strain_percent),
        (spec.chalcogenide_directions, a_c, interface.chalcogenide_strain_percent),
    ):
        natural = np.linalg.norm(np.asarray(directions, dtype=float), axis=1) * a
        by_hand = 100 * (built / natural - 1)
        assert sorted(by_hand) == pytest.approx(sorted(strain), abs=1e-9)
        assert max(abs(by_hand)) <= 1.0
    natural_p = np.linalg.norm(np.asarray(spec.perovskite_directions, float), axis=1) * a_p
    natural_c = np.linalg.norm(np.asarray(spec.chalcogenide_directions, float), axis=1) * a_c
    assert built == pytest.approx(0.5 * (natural_p + natural_c), rel=1e-12)
    assert float(np.prod(built)) == pytest.approx(cell["area"], rel=1e-9)


def _domain_charge_and_dipole(atoms: object, domain: str) -> tuple[float, float]:
    """Σq and Σq(z − z_mid) (e, e·Å) of one domain, counted from the atoms (slab model)."""
    members = atoms.arrays["domain"] == domain  # type: ignore[attr-defined]
    symbols = np.asarray(atoms.get_chemical_symbols())[members]  # type: ignore[attr-defined]
    z = atoms.positions[members, 2]  # type: ignore[attr-defined]
    charges = np.array([FORMAL_CHARGES[s] for s in symbols], dtype=float)
    return float(charges.sum()), float(np.sum(charges * (z - 0.5 * (z.min() + z.max()))))


@pytest.mark.parametrize("pair", NEW_PAIRS)
def test_both_films_are_neutral_nonpolar_and_stoichiometric_by_count(
    pair: tuple[str, str],
) -> None:
    """Reference: atom counting in the built slab (formal charges Cs +1, Pb/Cd/Zn +2, X −1,
    S −2): each domain neutral, zero formal dipole about its middle, the chalcogenide M:X
    = 1:1, and every perovskite plane a whole number of AX or BX2 units."""
    values = {**fast_values(), "periodic": False, "perovskite": pair[0], "chalcogenide": pair[1]}
    interface = build_interface(spec_from_dict(values))
    atoms = interface.atoms
    for domain in ("perovskite", "chalcogenide"):
        charge, dipole = _domain_charge_and_dipole(atoms, domain)
        assert charge == pytest.approx(0.0, abs=1e-9)
        assert dipole == pytest.approx(0.0, abs=1e-6)
    counts = dict.fromkeys(set(atoms.get_chemical_symbols()), 0)
    for symbol, domain in zip(atoms.get_chemical_symbols(), atoms.arrays["domain"], strict=True):
        if domain == "chalcogenide":
            counts[symbol] += 1
    metal, anion = pair[1][:2], pair[1][2:]
    assert counts[metal] == counts[anion] > 0
    assert (
        interface.perovskite_termination.plane_formulas[0]
        == (interface.perovskite_termination.plane_formulas[-1])
    )
    assert min_contact_ratio(atoms)[1] >= interface.spec.contact_bound - 1e-9


def test_all_four_pairs_build_on_the_fast_defaults(
    fast_models: dict[tuple[str, str], Interface],
) -> None:
    """Reference: the strain bound (1 % per side), the atom cap and the contact bound on
    every cross-domain pair of the periodic cell (both interfaces, minimum image)."""
    counts = {pair: len(model.atoms) for pair, model in fast_models.items()}
    assert counts[("CsPbBr3", "CdS")] == 13
    for pair, model in fast_models.items():
        assert counts[pair] <= 120 < DEFAULT_MAX_ATOMS
        worst = max(
            abs(v) for v in (*model.perovskite_strain_percent, *model.chalcogenide_strain_percent)
        )
        assert worst <= model.spec.max_strain_percent
        assert min_contact_ratio(model.atoms)[1] >= model.spec.contact_bound - 1e-9
        assert model.spec.periodic
    for pair in NEW_PAIRS:
        cell = fast_models[pair].metadata["coincidence"]
        assert isinstance(cell, dict)
        assert cell["n_atoms"] == counts[pair]


def test_refusal_names_the_smallest_model_that_would_work() -> None:
    """Reference: the candidate list itself: the refusal's atom count is its first entry's,
    and raising max_atoms to that count builds exactly that many atoms."""
    spec = InterfaceSpec(perovskite="CsPbBr3", chalcogenide="ZnS", max_atoms=150)
    smallest = coincidence_candidates(spec)[0]
    assert smallest.n_atoms > 150
    with pytest.raises(StrainTooLargeError, match=f"has {smallest.n_atoms} atoms > max_atoms="):
        build_interface(spec)
    with pytest.raises(StrainTooLargeError, match="max_strain_percent"):
        build_interface(replace(spec, coincidence="off"))
    assert len(build_interface(replace(spec, max_atoms=smallest.n_atoms)).atoms) == smallest.n_atoms


@pytest.mark.parametrize("pair", NEW_PAIRS)
def test_the_fast_thickness_series_shares_one_in_plane_cell(pair: tuple[str, str]) -> None:
    """Reference: the alignment series' premise (same in-plane cell and strain for every
    thickness, README): the resolved directions of 3+2, 5+4 and 7+6 are identical; the
    polar zinc-blende (100) film gets one plane more (odd, compensated)."""
    cells = []
    for planes in ((3, 2), (5, 4), (7, 6)):
        values = {**fast_values(), "perovskite": pair[0], "chalcogenide": pair[1]}
        values.update(perovskite_planes=planes[0], chalcogenide_planes=planes[1])
        resolved, cell = resolve_cell(spec_from_dict(values))
        assert cell is not None
        assert cell.n_atoms <= DEFAULT_MAX_ATOMS
        assert resolved.chalcogenide_planes in (planes[1], planes[1] + 1)
        cells.append((resolved.perovskite_directions, resolved.chalcogenide_directions))
    assert len(set(cells)) == 1
