"""``aiida-janus alignment``: the band alignment on a thickness series, on its own."""

from __future__ import annotations

from typing import Any

import click

from workflows.cli.study import PROTOCOLS, launch_study, ranks_options, study_codes


def _thicknesses(values: tuple[tuple[int, int], ...]) -> list[list[int]] | None:
    """``--thickness P C`` pairs checked as the workchain checks them, or None (protocol's)."""
    from workflows.calcfunctions.alignment import plan_models

    if not values:
        return None
    try:
        return [list(pair) for pair in plan_models([list(pair) for pair in values])]
    except ValueError as error:
        raise click.ClickException(f"--thickness: {error}") from error


@click.command("alignment")
@click.option("--perovskite", default="CsPbBr3", show_default=True, help="CsPbX3 formula.")
@click.option("--chalcogenide", default="CdS", show_default=True, help="MX formula.")
@click.option("--protocol", type=PROTOCOLS, default="fast", show_default=True)
@click.option(
    "--thickness",
    "thickness",
    type=(click.IntRange(min=1), click.IntRange(min=1)),
    multiple=True,
    metavar="P C",
    help="Perovskite and chalcogenide planes of one model; repeat for the series "
    "[default: the protocol's, fast 3 2 / 5 4 / 7 6].",
)
@click.option(
    "--relax/--no-relax",
    default=None,
    help="Relax each model before its alignment [default: the protocol's].",
)
@click.option(
    "--hybrid",
    is_flag=True,
    help="Add HSE06 (ACE, q 1x1x1) gaps of the strained bulk references (NC protocols; "
    "about 21 CPU-min for CsPbBr3/CdS, docs/hybrid-gaps.md).",
)
@click.option("--computer", "computer_label", default="localhost", show_default=True)
@click.option("--ranks", type=click.IntRange(min=1), default=None, help="MPI ranks per job.")
@click.option("--daemon", is_flag=True, help="Submit to the daemon instead of running here.")
@click.option("--profile", "profile_name", default=None, help="AiiDA profile [default: janus].")
def alignment(
    perovskite: str,
    chalcogenide: str,
    protocol: str,
    thickness: tuple[tuple[int, int], ...],
    relax: bool | None,
    hybrid: bool,
    computer_label: str,
    ranks: int | None,
    daemon: bool,
    profile_name: str | None,
) -> None:
    """Band offsets and type against model thickness, converged and gap-corrected.

    Experimental lattices; each model built (and relaxed with --relax), then its band
    alignment by both routes; the series states convergence and corrects ΔE_C with PBE,
    experimental (and, stringent, HSE06) gaps.

    \b
    Examples:
      aiida-janus alignment                                 # 3+2, 5+4, 7+6, fast
      aiida-janus alignment --thickness 3 2 --thickness 5 4 --chalcogenide ZnS
      aiida-janus query alignment
    """
    from heterostructures.structure.errors import StructureInputError
    from workflows.workchains.alignment import AlignmentSeriesWorkChain, validate_hybrid
    from workflows.workchains.hybrid_gaps import DEFAULT_HYBRID_SETTINGS

    overrides: dict[str, Any] = {}
    planned = _thicknesses(thickness)
    if planned is not None:
        overrides["thicknesses"] = planned
    if relax is not None:
        overrides["relax_atoms"] = relax
    if hybrid:
        overrides["hybrid"] = dict(DEFAULT_HYBRID_SETTINGS)
    codes = study_codes(profile_name, computer_label)
    try:
        builder = AlignmentSeriesWorkChain.get_builder_from_protocol(
            codes, protocol, overrides, perovskite, chalcogenide, ranks_options(ranks)
        )
    except (StructureInputError, ValueError) as error:
        raise click.ClickException(str(error)) from error
    problem = validate_hybrid(builder._inputs(prune=True), None)
    if problem:
        raise click.ClickException(f"--hybrid with --protocol {protocol}: {problem}")
    if daemon:
        from aiida.engine.daemon.client import get_daemon_client

        if not get_daemon_client().is_daemon_running:
            raise click.ClickException(
                "the AiiDA daemon is not running: `aiida-janus daemon start`, or drop --daemon"
            )
    node = launch_study(builder, daemon=daemon)
    if daemon:
        click.echo(f"submitted janus.alignment <{node.pk}>: `aiida-janus status {node.pk}`")
        return
    if not node.is_finished_ok:
        raise click.ClickException(f"janus.alignment <{node.pk}> failed: {node.exit_message}")
    from workflows.cli.query import print_alignment_records
    from workflows.provenance.alignment_queries import alignment_record

    print_alignment_records([alignment_record(node)])
