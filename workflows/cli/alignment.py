"""``aiida-janus alignment``: the band alignment on a thickness series, on its own."""

from __future__ import annotations

from typing import Any

import click

from workflows.cli.lattices import lattice_options
from workflows.cli.params import (
    computer_option,
    materials_options,
    max_strain_option,
    protocol_option,
    ranks_option,
)
from workflows.cli.profiles import profile_option
from workflows.cli.study import codes_and_families, launch_study, ranks_options, study_overrides
from workflows.cli.study_inputs import code_family_options


def _thicknesses(values: tuple[tuple[int, int], ...]) -> list[list[int]] | None:
    """``--thickness P C`` pairs checked as the workchain checks them, or None (protocol's)."""
    from workflows.calcfunctions.alignment import plan_models

    if not values:
        return None
    try:
        return [list(pair) for pair in plan_models([list(pair) for pair in values])]
    except ValueError as error:
        raise click.ClickException(f"--thickness: {error}") from error


def _series_builder(
    codes: dict[str, Any],
    families: dict[str, str],
    protocol: str,
    overrides: dict[str, Any],
    hybrid: bool,
    materials: tuple[str, str],
    ranks: int | None,
) -> Any:
    """The janus.alignment builder, or a ClickException naming what to fix; the families
    of ``-F`` resolve the protocol's flavours (as in ``run``)."""
    from heterostructures.structure.errors import StructureInputError
    from workflows.cli.library_words import RUN_OPTIONS, cli_words
    from workflows.inputs.hybrid_scf import DEFAULT_HYBRID_SETTINGS
    from workflows.inputs.pw_builders import families_for_flavours
    from workflows.protocols import namespace_inputs
    from workflows.workchains.alignment import AlignmentSeriesWorkChain, validate_hybrid

    if hybrid:
        overrides = overrides | {"hybrid": dict(DEFAULT_HYBRID_SETTINGS)}
    try:
        with families_for_flavours(families):
            builder = AlignmentSeriesWorkChain.get_builder_from_protocol(
                codes, protocol, overrides, *materials, ranks_options(ranks)
            )
    except (StructureInputError, ValueError) as error:
        raise click.ClickException(cli_words(str(error), RUN_OPTIONS)) from error
    problem = validate_hybrid(namespace_inputs(builder), None)
    if problem:
        raise click.ClickException(f"--hybrid with --protocol {protocol}: {problem}")
    return builder


def _series_overrides(
    thickness: tuple[tuple[int, int], ...], relax: bool | None, choices: dict[str, Any]
) -> dict[str, Any]:
    """janus.alignment overrides: ``--thickness``, ``--relax`` and the alignment step's
    share of the pipeline's overrides for ``--max-strain`` and the lattice constants."""
    shared = study_overrides(
        None, choices["max_strain"], choices["perovskite_a"], choices["chalcogenide_a"]
    )
    overrides: dict[str, Any] = dict(shared.get("alignment", {}))
    planned = _thicknesses(thickness)
    if planned is not None:
        overrides["thicknesses"] = planned
    if relax is not None:
        overrides["relax_atoms"] = relax
    return overrides


@click.command("alignment")
@materials_options()
@lattice_options()
@protocol_option()
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
@max_strain_option()
@computer_option("Computer whose pw/projwfc/pp codes run the jobs (those not given by -X).")
@code_family_options()
@ranks_option
@click.option("--daemon", is_flag=True, help="Submit to the daemon instead of running here.")
@profile_option
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
    **choices: Any,
) -> None:
    """Band offsets and type against model thickness, converged and gap-corrected.

    Experimental lattices; each model built (and relaxed with --relax), then its band
    alignment by both routes; the series states convergence and corrects ΔE_C with PBE,
    experimental (and, stringent, HSE06) gaps.

    \b
    Examples:
      aiida-janus alignment                                 # 3+2, 5+4, 7+6, fast
      aiida-janus alignment --thickness 3 2 --thickness 5 4 --chalcogenide ZnS
      aiida-janus alignment --chalcogenide CdTe --chalcogenide-a 6.48 -F nc=MY/NC/FAMILY
      aiida-janus query alignment
    """
    pair = (perovskite, chalcogenide)
    codes, families = codes_and_families(profile_name, computer_label, pair, choices)
    builder = _series_builder(
        codes,
        families,
        protocol,
        _series_overrides(thickness, relax, choices),
        hybrid,
        pair,
        ranks,
    )
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
