"""``aiida-janus plan``: estimated core-hours of each step of a study, before anything runs.

Prices the study a protocol would run (:func:`workflows.inputs.study_size.study_size`,
models built in memory) with the cost model measured on the project machine
(:mod:`heterostructures.structure.study_cost`). Opens no profile and stores nothing.
"""

from __future__ import annotations

import click

from heterostructures.structure.paper_model import MEASURED_SCF
from heterostructures.structure.study_cost import (
    MACHINE,
    MACHINE_CORES,
    MEASUREMENTS,
    PAW_OVER_NC_ELECTRONIC,
    PAW_OVER_NC_SCF,
    StepEstimate,
    StudySize,
    study_cost,
)
from workflows.cli.lattices import check_lattices, lattice_options
from workflows.cli.library_words import cli_words
from workflows.cli.params import materials_options

PLAN_OPTIONS: frozenset[str] = frozenset()
"""Library arguments ``plan`` has as options: none (it prices the protocol's own model)."""
MAX_CORES = 10_000_000
"""Bound of ``plan --cores``: the largest machines have about 10⁷ cores; a larger number
is a typo, and priced as ideal scaling it printed walls of "0 s"."""
PROTOCOL_CHOICE = click.Choice(["fast", "balanced", "stringent"])
IDEAL_SCALING_NOTE = (
    f"wall = core-h / cores: ideal scaling beyond the {MACHINE_CORES} measured cores "
    "(1 → 2 ranks gave 1.6×, DESIGN.md): on more cores, wall times are lower bounds"
)


def duration(seconds: float) -> str:
    """Seconds as s, min, h or days, whichever reads best."""
    for unit, size in (("days", 86400.0), ("h", 3600.0), ("min", 60.0)):
        if seconds >= 2 * size:
            return f"{seconds / size:.1f} {unit}"
    return f"{seconds:.0f} s"


def size_line(size: StudySize) -> str:
    """One line naming what the estimate prices."""
    series = "/".join(str(n) for n in size.alignment_models)
    relaxed = ", relaxed" if size.alignment_relaxed else ""
    return (
        f"model: {size.interface_atoms}-atom interface ({size.interface_pseudo.upper()}), "
        f"thickness series {series} atoms ({size.alignment_pseudo.upper()}{relaxed}), "
        f"{size.md_steps} MD steps ({size.md_pseudo.upper()}), {size.snapshots} NA snapshots"
    )


def plan_lines(size: StudySize, cores: int) -> list[str]:
    """The table of :func:`study_cost` estimates, the total and the measurements used."""
    estimates = study_cost(size)
    lines = [size_line(size), f"{'step':<17} {'core-h':>10}  {'wall':>10}  scaled from"]
    for estimate in estimates:
        lines.append(_row(estimate, cores))
    total = sum(e.core_seconds for e in estimates)
    bound = "≥" if any(e.lower_bound for e in estimates) else ""
    lines.append(
        f"{'total':<17} {bound + f'{total / 3600:.3f}':>10}  {bound + duration(total / cores):>10}"
    )
    lines.append(f"measured on the {MACHINE}:")
    lines.extend(f"  [{step}] {m.name}: {m.source}" for step, m in MEASUREMENTS.items())
    points = ", ".join(f"{n} ({t / i:.3g} s/it)" for n, i, t in MEASURED_SCF)
    lines.append(
        f"  [atoms] t per SCF iteration piecewise ∝ N^p through NC 30/120 Ry Γ SCFs of {points}"
        " atoms: DESIGN.md, docs/epitaxy.md"
    )
    lines.append(
        f"  [PAW/NC] ×{PAW_OVER_NC_SCF:.0f} SCF, ×{PAW_OVER_NC_ELECTRONIC:.1f} electronic:"
    )
    lines.append("    docs/measurements.md, the 13-atom model with each set (loaded)")
    lines.append(f"  {IDEAL_SCALING_NOTE}")
    if bound:
        lines.append(
            "  ≥: lower bound — the k-points, cutoffs and vacuum of this protocol are in no "
            "measurement (all are `fast` runs); only atoms, work and PAW/NC are scaled"
        )
    return lines


def _row(estimate: StepEstimate, cores: int) -> str:
    bound = "≥" if estimate.lower_bound else ""
    source = "alignment_*" if estimate.step == "alignment" else estimate.step
    return (
        f"{estimate.step:<17} {bound + f'{estimate.core_hours:.3f}':>10}  "
        f"{bound + duration(estimate.wall_seconds(cores)):>10}  [{source}] {estimate.scaling}"
    )


@click.command("plan")
@click.option("--protocol", type=PROTOCOL_CHOICE, default="fast", show_default=True)
@click.option(
    "--cores",
    type=click.IntRange(1, MAX_CORES),
    default=MACHINE_CORES,
    show_default=True,
    help="Cores the study gets (wall time = core-hours / cores).",
)
@materials_options()
@lattice_options()
def plan(
    protocol: str,
    cores: int,
    perovskite: str,
    chalcogenide: str,
    perovskite_a: float | None,
    chalcogenide_a: float | None,
) -> None:
    """Estimate the core-hours of each step of a study before running it.

    Each estimate names the wall time measured on the project machine it is scaled from.

    \b
    Examples:
      aiida-janus plan                                   # fast, 2 cores
      aiida-janus plan --protocol balanced --cores 64
      aiida-janus plan --chalcogenide CdTe --chalcogenide-a 6.48
    """
    from workflows.inputs.study_size import study_size

    given = {"perovskite_a": perovskite_a, "chalcogenide_a": chalcogenide_a}
    try:
        check_lattices(perovskite, chalcogenide, perovskite_a, chalcogenide_a)
    except click.ClickException as exception:
        raise click.UsageError(
            f"--perovskite/--chalcogenide {perovskite}/{chalcogenide}: {exception.message}"
        ) from exception
    try:
        size = study_size(
            protocol, perovskite, chalcogenide, {k: v for k, v in given.items() if v is not None}
        )
    except ValueError as exception:
        pair = f"{perovskite}/{chalcogenide}"
        message = cli_words(str(exception), PLAN_OPTIONS).removeprefix(f"{pair}: ")
        raise click.UsageError(f"--perovskite/--chalcogenide {pair}: {message}") from exception
    click.echo(f"plan: {perovskite}/{chalcogenide}, protocol {protocol}, {cores} cores")
    for line in plan_lines(size, cores):
        click.echo(line)
