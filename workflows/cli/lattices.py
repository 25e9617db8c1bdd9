"""``--perovskite-a`` / ``--chalcogenide-a``: lattice constants of materials without a table entry.

The structure library knows experimental lattices of a few pairs (CsPbX3; CdS, ZnS, CdSe,
ZnSe); any other CsPbX3 or zinc-blende MX (CdTe, ZnTe, whose pseudopotentials ship with
the project) needs its lattice constant from the user. One definition of both options
serves every command that builds a model (``epitaxy``, ``build``, ``run``, ``submit``,
``plan``, ``alignment``), and :func:`check_lattices` refuses a missing one by naming the
option, before the library would ask for a Python ``a=``.
"""

from __future__ import annotations

from typing import Any

import click

from workflows.cli.params import PSEUDO_CUBIC_A, ZINC_BLENDE_A, Decorator, stacked

CHALCOGENIDE_PHASE = "zincblende"
"""The chalcogenide phase of the interface models and of the bulk reference (janus.pipeline)."""


def lattice_options() -> Decorator:
    """``--perovskite-a A`` / ``--chalcogenide-a A`` (Å), checked to be physical."""
    return stacked(
        click.option(
            "--perovskite-a",
            type=PSEUDO_CUBIC_A,
            default=None,
            metavar="Å",
            help="Pseudo-cubic lattice constant of the perovskite instead of the tabulated "
            f"experimental one (needed for pairs without one; {PSEUDO_CUBIC_A.describe()}); "
            "`run`/`submit` relax the bulk from it, `alignment` builds its models on it.",
        ),
        click.option(
            "--chalcogenide-a",
            type=ZINC_BLENDE_A,
            default=None,
            metavar="Å",
            help="Zinc-blende lattice constant of the chalcogenide instead of the tabulated "
            f"experimental one (needed e.g. for CdTe, ZnTe; {ZINC_BLENDE_A.describe()}); "
            "`run`/`submit` relax the bulk from it, `alignment` builds its models on it.",
        ),
    )


def check_lattices(
    perovskite: str, chalcogenide: str, perovskite_a: float | None, chalcogenide_a: float | None
) -> None:
    """A ``click.ClickException`` naming the option when a side has no lattice constant.

    The formulas are checked first (their own messages name the bad element or charge).
    """
    from heterostructures.structure.errors import StructureInputError
    from heterostructures.structure.phases import (
        LATTICE_DEFAULTS,
        chalcogenide_ions,
        perovskite_ions,
        pseudocubic_lattice_constant,
    )

    try:
        perovskite_ions(perovskite)
        chalcogenide_ions(chalcogenide)
    except StructureInputError as exception:
        raise click.ClickException(str(exception)) from exception
    if perovskite_a is None:
        try:
            pseudocubic_lattice_constant(perovskite)
        except StructureInputError as exception:
            raise click.ClickException(
                f"no experimental lattice constant for {perovskite}: give its pseudo-cubic "
                "one with --perovskite-a Å (e.g. from a PBE relaxation or the literature)"
            ) from exception
    if chalcogenide_a is None and (chalcogenide, CHALCOGENIDE_PHASE) not in LATTICE_DEFAULTS:
        raise click.ClickException(
            f"no experimental lattice constant for zinc-blende {chalcogenide}: give it with "
            "--chalcogenide-a Å (e.g. 6.48 for CdTe, 6.10 for ZnTe at room temperature)"
        )


def lattice_overrides(perovskite_a: float | None, chalcogenide_a: float | None) -> dict[str, Any]:
    """``janus.pipeline`` step overrides carrying the given lattice constants (Å).

    Each reaches the three places that build from it: the bulk reference's starting cell
    (``<side>_bulk.lattice``), the interface spec and the alignment series' models (both
    ``interface.<side>_a``; at run time the relaxed bulk lattices replace them).
    """
    overrides: dict[str, Any] = {}
    for side, value in (("perovskite", perovskite_a), ("chalcogenide", chalcogenide_a)):
        if value is None:
            continue
        overrides[f"{side}_bulk"] = {"lattice": {"a": value}}
        for step, path in (("interface", "interface"), ("alignment", "interface")):
            spec = overrides.setdefault(step, {}).setdefault(path, {})
            spec[f"{side}_a"] = value
    return overrides
