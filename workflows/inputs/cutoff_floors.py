"""Raise a protocol's explicit plane-wave cutoffs to what the pair's pseudopotentials need.

Why: the ``fast`` protocols fix ``ecutwfc`` at 30 Ry (``ecutrho`` 120 Ry), below the NC
family's recommendations, because on CsPbBr3/CdS that changes gaps by ≤ 0.02 eV and
costs half as much. The same 30 Ry on a pair with Zn gave zinc-blende ZnS a 0.44 eV gap
instead of 1.98 eV (80 Ry; PAW 2.07 eV), and with it a "type III" CsPbBr3/ZnS alignment:
the Zn 3d shell of the Troullier-Martins potential needs 50 Ry. The floors, measured per
element, live in ``profiles/pseudos/nc-cutoff-floors.yaml`` with their criterion and data.

Only cutoffs a *protocol* states are raised: cutoffs taken from a family's recommendation
are already above the floor, and a caller's explicit overrides (a convergence study) are
merged after this and win. The floors were measured on the NC family; they are also
applied to a PAW step with explicit cutoffs, which costs time but never accuracy.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from functools import cache
from typing import Any

import yaml

from workflows.setup.paths import PROFILES_DIR

FLOORS_FILE = PROFILES_DIR / "pseudos" / "nc-cutoff-floors.yaml"


@cache
def cutoff_floors() -> dict[str, float]:
    """Lowest ``ecutwfc`` (Ry) per element, from :data:`FLOORS_FILE`."""
    table = yaml.safe_load(FLOORS_FILE.read_text(encoding="utf-8"))
    return {element: float(value) for element, value in table.items()}


def cutoff_floor(elements: Iterable[str]) -> float:
    """The largest floor (Ry) among ``elements``; 0 for elements without a measured one."""
    floors = cutoff_floors()
    return max((floors.get(element, 0.0) for element in elements), default=0.0)


def pair_elements(perovskite: str, chalcogenide: str) -> set[str]:
    """Chemical elements of the materials pair (formulas such as ``CsPbBr3``, ``ZnS``)."""
    from pymatgen.core import Composition

    return {str(e) for formula in (perovskite, chalcogenide) for e in Composition(formula)}


def raise_cutoffs_to_floor(overrides: Mapping[str, Any], elements: Iterable[str]) -> dict[str, Any]:
    """A copy of ``overrides`` (any nesting of protocol inputs) in which every ``SYSTEM``
    namelist whose ``ecutwfc`` lies below the floor of ``elements`` gets the floor, and its
    ``ecutrho`` (when given) the same factor, so the protocol's dual is kept."""
    floor = cutoff_floor(elements)
    raised = copy.deepcopy(dict(overrides))
    for system in _system_namelists(raised):
        ecutwfc = system.get("ecutwfc")
        if ecutwfc is None or float(ecutwfc) >= floor:
            continue
        factor = floor / float(ecutwfc)
        system["ecutwfc"] = floor
        if "ecutrho" in system:
            system["ecutrho"] = float(system["ecutrho"]) * factor
    return raised


def _system_namelists(node: Any) -> Iterable[dict[str, Any]]:
    """Every dict found under a ``SYSTEM`` key, at any depth."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "SYSTEM" and isinstance(value, dict):
                yield value
            else:
                yield from _system_namelists(value)
    elif isinstance(node, list):
        for item in node:
            yield from _system_namelists(item)


def floored_inputs(
    protocol_inputs: Mapping[str, Any],
    overrides: Mapping[str, Any] | None,
    perovskite: str,
    chalcogenide: str,
) -> dict[str, Any]:
    """A workchain's ``protocol_inputs`` with their cutoffs raised to the pair's floor, then
    the caller's ``overrides`` merged on top (so explicit cutoffs of the caller win)."""
    from aiida_quantumespresso.workflows.protocols.utils import recursive_merge

    raised = raise_cutoffs_to_floor(protocol_inputs, pair_elements(perovskite, chalcogenide))
    merged: dict[str, Any] = recursive_merge(raised, copy.deepcopy(dict(overrides or {})))
    return merged
