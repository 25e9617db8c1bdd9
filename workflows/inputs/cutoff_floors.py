"""Raise a protocol's explicit plane-wave cutoffs to what the pair's pseudopotentials need.

Why: the ``fast`` protocols fix ``ecutwfc`` at 30 Ry (``ecutrho`` 120 Ry), below the NC
family's recommendations, because on CsPbBr3/CdS that changes gaps by ≤ 0.02 eV and
costs half as much. The same 30 Ry on a pair with Zn gave zinc-blende ZnS a 0.44 eV gap
instead of 1.98 eV (80 Ry; PAW 2.07 eV), and with it a "type III" CsPbBr3/ZnS alignment:
the Zn 3d shell of the Troullier-Martins potential needs 50 Ry. The floors, measured per
element, live in ``profiles/pseudos/nc-cutoff-floors.yaml`` with their criterion and data.

Only cutoffs a *protocol* states are raised: cutoffs taken from a family's recommendation
are already above the floor, and a caller's explicit overrides (a convergence study) are
merged after this and win (an ``ecutwfc`` alone keeps the protocol's dual:
:func:`merge_keeping_dual`). The floors were measured on the project's NC family; they are
also applied to a PAW step with explicit cutoffs, which costs time but never accuracy,
and an element without a measured floor (another family's) gets none.
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


def with_ecutrho(overrides: Mapping[str, Any], dual: float) -> dict[str, Any]:
    """A copy of ``overrides`` in which each ``SYSTEM`` giving ``ecutwfc`` without
    ``ecutrho`` gets ``ecutrho`` = ``dual`` × ``ecutwfc`` (Ry).

    Why: merged onto a protocol or a family's cutoffs, an ``ecutwfc`` alone kept their
    ``ecutrho``: 80 Ry onto ``fast``'s 50/200 gave dual 2.5, and 250 Ry gave
    ``ecutrho`` < ``ecutwfc``, which pw.x rejects.
    """
    completed = copy.deepcopy(dict(overrides))
    for system in _system_namelists(completed):
        _complete_ecutrho(system, dual)
    return completed


def _complete_ecutrho(system: dict[str, Any], dual: float) -> None:
    """``ecutrho`` = ``dual`` × ``ecutwfc`` (Ry) in a ``SYSTEM`` giving ``ecutwfc`` alone."""
    if "ecutwfc" in system and "ecutrho" not in system:
        system["ecutrho"] = dual * float(system["ecutwfc"])


def merge_keeping_dual(
    protocol_inputs: Mapping[str, Any], overrides: Mapping[str, Any] | None
) -> dict[str, Any]:
    """``overrides`` merged onto ``protocol_inputs``; where the overrides give ``ecutwfc``
    alone at a place whose protocol ``SYSTEM`` states both cutoffs, ``ecutrho`` follows
    with the protocol's ratio there (:func:`with_ecutrho`)."""
    from aiida_quantumespresso.workflows.protocols.utils import recursive_merge

    completed = copy.deepcopy(dict(overrides or {}))
    _complete_with_protocol_dual(protocol_inputs, completed)
    merged: dict[str, Any] = recursive_merge(copy.deepcopy(dict(protocol_inputs)), completed)
    return merged


def _complete_with_protocol_dual(protocol: Mapping[str, Any], overrides: dict[str, Any]) -> None:
    for key, value in overrides.items():
        base = protocol.get(key)
        if not isinstance(value, dict) or not isinstance(base, Mapping):
            continue
        if key == "SYSTEM" and {"ecutwfc", "ecutrho"} <= set(base):
            _complete_ecutrho(value, float(base["ecutrho"]) / float(base["ecutwfc"]))
        else:
            _complete_with_protocol_dual(base, value)


def floored_inputs(
    protocol_inputs: Mapping[str, Any],
    overrides: Mapping[str, Any] | None,
    elements: Iterable[str],
) -> dict[str, Any]:
    """A workchain's ``protocol_inputs`` with their cutoffs raised to the floor of
    ``elements``, then the caller's ``overrides`` merged on top (:func:`merge_keeping_dual`:
    explicit cutoffs of the caller win)."""
    return merge_keeping_dual(raise_cutoffs_to_floor(protocol_inputs, elements), overrides)
