"""``size_fit.fitted_to_structure``: pw.x parameters made on a preview, fitted to the model
that runs.

Reference, by hand: pslibrary 1.0.0 PAW valences (UPF headers: Cs 9, Pb 14, Br 7, Cd 12,
S 6), counted here from each structure's own composition (not through
``insulator_bands``): occupied bands = Σ valence / 2.
"""

from __future__ import annotations

from collections import Counter
from types import SimpleNamespace
from typing import Any

import pytest

VALENCE = {"Cs": 9.0, "Pb": 14.0, "Br": 7.0, "Cd": 12.0, "S": 6.0}
PSEUDOS = {element: SimpleNamespace(z_valence=z) for element, z in VALENCE.items()}
SPEC = {"model": "demo", "perovskite": "CsPbBr3", "chalcogenide": "CdS"}
PARAMETERS: dict[str, dict[str, Any]] = {
    "CONTROL": {"calculation": "relax", "etot_conv_thr": 2.6e-4},
    "SYSTEM": {"nbnd": 124, "ecutwfc": 48.9},
    "ELECTRONS": {"conv_thr": 2.6e-5},
}
"""Made on the 26-atom demo slab: 116 occupied + 8 empty bands, 1e-6 Ry/atom."""


def _structure(lattices: dict[str, float] | None = None, **planes: int) -> Any:
    from aiida import orm

    from heterostructures.structure.interface_spec import build_from_spec

    return orm.StructureData(ase=build_from_spec(SPEC | planes, lattices or {}).atoms)


def _occupied_by_hand(structure: Any) -> int:
    counts = Counter(site.kind_name for site in structure.sites)
    return round(sum(VALENCE[element] * n for element, n in counts.items())) // 2


def test_a_model_run_as_previewed_keeps_its_parameters(aiida_profile: object) -> None:
    from workflows.inputs.size_fit import fitted_to_structure

    preview = _structure()
    assert fitted_to_structure(PARAMETERS, PSEUDOS, preview, preview) == PARAMETERS


def test_a_thinner_model_gets_its_bands_and_thresholds(aiida_profile: object) -> None:
    from workflows.inputs.size_fit import fitted_to_structure

    thin = _structure(perovskite_planes=3, chalcogenide_planes=2)
    fitted = fitted_to_structure(PARAMETERS, PSEUDOS, _structure(), thin)
    assert len(thin.sites) == 13
    assert fitted["SYSTEM"] == {"nbnd": 58 + 8, "ecutwfc": 48.9}
    assert fitted["ELECTRONS"]["conv_thr"] == pytest.approx(1.3e-5)
    assert fitted["CONTROL"]["etot_conv_thr"] == pytest.approx(1.3e-4)
    assert PARAMETERS["SYSTEM"]["nbnd"] == 124, "the given parameters are not changed"


def test_thresholds_are_scaled_without_nbnd(aiida_profile: object) -> None:
    from workflows.inputs.size_fit import fitted_to_structure

    given = {key: dict(value) for key, value in PARAMETERS.items()}
    del given["SYSTEM"]["nbnd"]
    thin = _structure(perovskite_planes=3, chalcogenide_planes=2)
    fitted = fitted_to_structure(given, PSEUDOS, _structure(), thin)
    assert "nbnd" not in fitted["SYSTEM"]
    assert fitted["ELECTRONS"]["conv_thr"] == pytest.approx(1.3e-5)


def test_lattices_that_change_the_cell_get_enough_bands(aiida_profile: object) -> None:
    """Lattices far from experiment (5.75 and 6.00 Å: 4 % mismatch) put the demo model in a
    coincidence cell of another composition; the fitted nbnd still leaves 8 empty bands."""
    from workflows.inputs.size_fit import fitted_to_structure

    moved = _structure({"perovskite_a": 5.75, "chalcogenide_a": 6.0})
    assert len(moved.sites) != 26
    fitted = fitted_to_structure(PARAMETERS, PSEUDOS, _structure(), moved)
    assert fitted["SYSTEM"]["nbnd"] == _occupied_by_hand(moved) + 8
    ratio = len(moved.sites) / 26
    assert fitted["ELECTRONS"]["conv_thr"] == pytest.approx(2.6e-5 * ratio)
