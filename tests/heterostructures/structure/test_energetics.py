"""Interface formation energy: decomposition into formula units and the γ formula."""

from __future__ import annotations

from collections import Counter

import pytest

from heterostructures.structure.energetics import (
    EnergeticsError,
    formula_units,
    interface_formation_energy,
)
from heterostructures.units import EV_PER_ANG2_IN_J_PER_M2

FORMULAS = {"CsPbBr3": Counter({"Cs": 1, "Pb": 1, "Br": 3}), "CdS": Counter({"Cd": 1, "S": 1})}


def test_demo_model_is_stoichiometric() -> None:
    composition = Counter({"Cs": 2, "Pb": 2, "Br": 6, "Cd": 8, "S": 8})
    assert formula_units(composition, FORMULAS) == {"CsPbBr3": 2, "CdS": 8}


def test_missing_bromine_is_reported() -> None:
    with pytest.raises(EnergeticsError, match="Br"):
        formula_units(Counter({"Cs": 2, "Pb": 2, "Br": 5, "Cd": 8, "S": 8}), FORMULAS)


def test_gamma_recovers_a_known_excess() -> None:
    composition = Counter({"Cs": 1, "Pb": 1, "Br": 3, "Cd": 4, "S": 4})
    refs = {"CsPbBr3": -100.0, "CdS": -50.0}
    area, gamma = 48.0, 0.01
    energy = -100.0 - 4 * 50.0 + 2 * area * gamma
    result = interface_formation_energy(energy, composition, refs, FORMULAS, area, periodic=True)
    assert result.ev_per_ang2 == pytest.approx(gamma)
    assert result.j_per_m2 == pytest.approx(gamma * EV_PER_ANG2_IN_J_PER_M2)
    assert "two equivalent interfaces" in result.meaning


def test_energy_per_formula_unit() -> None:
    from heterostructures.structure.energetics import energy_per_formula_unit

    cds = Counter({"Cd": 1, "S": 1})
    assert energy_per_formula_unit(-100.0, Counter({"Cd": 4, "S": 4}), cds) == -25.0
    with pytest.raises(EnergeticsError, match="not a multiple"):
        energy_per_formula_unit(-100.0, Counter({"Cd": 4, "S": 3}), cds)
