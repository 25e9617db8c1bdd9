"""Interface formation energy against bulk references (eV, Å², J/m²).

γ = [E_model − Σ_i n_i ε_i] / (N_faces · A), with ε_i the energy per formula unit of
bulk phase i and n_i how many of its formula units the model holds. For a periodic
superlattice N_faces = 2 interfaces and γ is the interface energy; for a slab in vacuum
the two free surfaces are included and γ is the mean of (interface + surfaces), so it is
reported as such. Every energy must come from the same cutoffs and pseudopotentials.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from heterostructures.units import EV_PER_ANG2_IN_J_PER_M2


class EnergeticsError(ValueError):
    """The model's composition is not a sum of the bulk formula units given."""


@dataclass(frozen=True)
class FormationEnergy:
    """Formation energy of the model per face: eV/Å² and J/m², with its meaning."""

    ev_per_ang2: float
    j_per_m2: float
    formula_units: dict[str, int]
    meaning: str


def formula_units(
    composition: Counter[str], bulk_formulas: dict[str, Counter[str]]
) -> dict[str, int]:
    """Decompose a composition into whole formula units of bulk phases sharing no element.

    Raises ``EnergeticsError`` naming the leftover atoms when the model is not
    stoichiometric in the bulk phases (e.g. a Br-deficient film).
    """
    counts: dict[str, int] = {}
    remaining = Counter(composition)
    for name, formula in bulk_formulas.items():
        element, per_unit = next(iter(formula.items()))
        units = remaining[element] // per_unit
        counts[name] = units
        for el, n in formula.items():
            remaining[el] -= units * n
    leftover = {el: n for el, n in remaining.items() if n != 0}
    if leftover:
        raise EnergeticsError(
            f"composition leaves {leftover} after removing bulk formula units {counts}: "
            "the model is not stoichiometric, so γ needs chemical potentials"
        )
    return counts


def interface_formation_energy(
    model_energy_ev: float,
    composition: Counter[str],
    bulk_energy_per_unit_ev: dict[str, float],
    bulk_formulas: dict[str, Counter[str]],
    area_ang2: float,
    periodic: bool,
) -> FormationEnergy:
    """γ per face (see module docstring); ``area_ang2`` is the in-plane cell area."""
    if area_ang2 <= 0:
        raise EnergeticsError(f"interface area must be positive, got {area_ang2} Å²")
    units = formula_units(composition, bulk_formulas)
    reference = sum(units[name] * bulk_energy_per_unit_ev[name] for name in units)
    gamma = (model_energy_ev - reference) / (2 * area_ang2)
    meaning = (
        "interface energy (two equivalent interfaces per superlattice cell)"
        if periodic
        else "mean of interface and two free-surface energies (slab in vacuum)"
    )
    return FormationEnergy(gamma, gamma * EV_PER_ANG2_IN_J_PER_M2, units, meaning)


def energy_per_formula_unit(
    energy_ev: float, composition: Counter[str], formula: Counter[str]
) -> float:
    """Total energy (eV) of a bulk cell divided by its number of formula units."""
    units = {composition[el] / n for el, n in formula.items()}
    if len(units) != 1 or set(composition) != set(formula):
        raise EnergeticsError(
            f"cell composition {dict(composition)} is not a multiple of {dict(formula)}"
        )
    return energy_ev / units.pop()
