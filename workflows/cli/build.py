"""``aiida-janus build`` and ``aiida-janus epitaxy``: structure science without AiiDA."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from heterostructures.structure.errors import StructureInputError
from workflows.cli.build_limits import MAX_PLANES, bound_hint, default_atom_bound
from workflows.cli.lattices import check_lattices, lattice_options
from workflows.cli.library_words import BUILD_OPTIONS, cli_words
from workflows.cli.params import (
    PROTOCOLS,
    SHARE,
    STRAIN_PERCENT,
    materials_options,
    max_strain_option,
    output_folder_option,
    protocol_option,
)

BUILD_DEFAULTS = {"model": "demo", "periodic": False, "coincidence": "auto", "relation": "default"}
"""What ``build`` builds without ``--protocol`` for the options not given."""


def build_spec(
    protocol: str | None, pair: tuple[str, str], given: dict[str, Any]
) -> dict[str, Any]:
    """The build spec: the interface janus.pipeline builds for ``pair`` under ``protocol``
    (:func:`~workflows.inputs.pipeline_protocol.pipeline_interface_spec`), or
    :data:`BUILD_DEFAULTS`, with the options ``given`` (not None) on top."""
    if protocol is not None and given.get("model") is not None:
        raise click.UsageError("--protocol and --model both choose the model: give one")
    if protocol is None:
        base: dict[str, Any] = dict(BUILD_DEFAULTS)
    else:
        from workflows.inputs.pipeline_protocol import pipeline_interface_spec

        base = pipeline_interface_spec(protocol, *pair)
    chosen = {key: value for key, value in given.items() if value is not None}
    return {**base, **chosen, "perovskite": pair[0], "chalcogenide": pair[1]}


@click.command("build")
@materials_options(chalcogenide_help="MX formula (ZB/WZ).")
@lattice_options()
@click.option(
    "--protocol",
    type=PROTOCOLS,
    default=None,
    help="The interface `aiida-janus run --protocol` builds for the pair, on experimental "
    "lattices (CsPbBr3/CdS: fast the 13-atom 3+2 periodic superlattice, balanced the "
    "26-atom demo slab, stringent the 104-atom production slab); the options below go on "
    "top. Not with --model.",
)
@click.option(
    "--model",
    type=click.Choice(["demo", "production"]),
    default=None,
    help="Preset size without --protocol (CsPbBr3/CdS: demo a 26-atom slab, production a "
    "104-atom slab) [default: demo].",
)
@click.option(
    "--periodic/--vacuum",
    default=None,
    help="Superlattice without vacuum, or a slab in vacuum [default: vacuum, or the protocol's].",
)
@click.option(
    "--perovskite-planes",
    type=click.IntRange(1, MAX_PLANES),
    default=None,
    help="Planes of the perovskite film.",
)
@click.option(
    "--chalcogenide-planes",
    type=click.IntRange(1, MAX_PLANES),
    default=None,
    help="Planes of the chalcogenide.",
)
@click.option(
    "--strain-weight",
    type=SHARE,
    default=None,
    help="Share of the mismatch taken by the perovskite (0..1).",
)
@max_strain_option("Largest in-plane strain of either side (%) [default: 1].")
@click.option(
    "--max-atoms",
    type=click.IntRange(min=1),
    default=None,
    help="Atom bound; caps an automatic coincidence cell (default 300 there) and any model"
    " (default 1000 with --perovskite-planes/--chalcogenide-planes).",
)
@click.option(
    "--coincidence",
    type=click.Choice(["auto", "facets", "off"]),
    default=None,
    help="Over the strain bound: smallest coincidence cell over low-index facet pairs"
    " (auto), over the model's own facets only (facets), or refuse (off) [default: auto].",
)
@click.option(
    "--relation",
    type=click.Choice(["default", "paper"]),
    default=None,
    help="paper: [001] CsPbBr3 || [111] CdS in the interface plane (hundreds of atoms;"
    " prints a cost estimate) [default: default].",
)
@output_folder_option(Path("interface"), "Folder for the files.")
def build(
    perovskite: str,
    chalcogenide: str,
    protocol: str | None,
    output: Path,
    **options: Any,
) -> None:
    """Build an interface and write extxyz (with labels), CIF, a summary and a side view.

    \b
    Examples:
      aiida-janus build                                  # the 26-atom demo slab
      aiida-janus build --protocol fast                  # the model `run` builds (13 atoms)
      aiida-janus build --periodic --perovskite-planes 3 --chalcogenide-planes 2
      aiida-janus build --chalcogenide ZnS --periodic \\
          --perovskite-planes 3 --chalcogenide-planes 2   # a coincidence cell
      aiida-janus build --relation paper --periodic      # the paper's relation
      aiida-janus build --chalcogenide CdTe --chalcogenide-a 6.48
    """
    from heterostructures.electronic.lineup_windows import one_plane_domains
    from heterostructures.structure.interface_spec import build_from_spec
    from heterostructures.structure.paper_model import cost_estimate
    from heterostructures.structure.report import format_summary, write_interface_files

    options["max_strain_percent"] = options.pop("max_strain")
    spec = build_spec(protocol, (perovskite, chalcogenide), options)
    bound: int | None = None
    check_lattices(perovskite, chalcogenide, options["perovskite_a"], options["chalcogenide_a"])
    try:
        planes = options["perovskite_planes"] or options["chalcogenide_planes"]
        if options["max_atoms"] is None and planes:
            bound = spec["max_atoms"] = default_atom_bound(spec)
        interface = build_from_spec(spec, {})
    except StructureInputError as exception:
        message = cli_words(str(exception), BUILD_OPTIONS)
        raise click.ClickException(f"{message}{bound_hint(bound)}") from exception
    paths = write_interface_files(interface, output)
    # the summary names the library's `strain_weight`; on the command line it is the option
    click.echo(format_summary(interface).replace("strain_weight ", "--strain-weight "))
    for domain in one_plane_domains(interface.atoms):
        click.echo(
            f"  note: domain {domain!r} has one atomic plane: `run --structure` refuses it"
            " (the potential line-up needs two planes per domain)"
        )
    if protocol is not None:
        click.echo(f"  model of `run --protocol {protocol}` (run relaxes the bulk lattices first)")
    for kind, path in paths.items():
        click.echo(f"  {kind:8s} {path}")
    if spec.get("relation") == "paper" or interface.metadata.get("coincidence") is not None:
        click.echo("\n".join(cost_estimate(len(interface.atoms)).lines()))


@click.command("epitaxy")
@materials_options(chalcogenide_help="MX formula (ZB/WZ).")
@lattice_options()
@click.option(
    "--quoted-mismatch",
    type=STRAIN_PERCENT,
    default=None,
    help="A |mismatch| (%) quoted without planes: test it against {220} and a blind scan"
    " (on --perovskite-a/--chalcogenide-a when given).",
)
@click.option(
    "--all",
    "all_pairs",
    is_flag=True,
    help="Table of the paper's four pairs: its quoted mismatch, ours (experimental and PBE"
    " lattices) and the interface model each pair gets.",
)
@protocol_option("With --all: whose interface model to show (fast is the `run` default).")
def epitaxy(
    perovskite: str,
    chalcogenide: str,
    perovskite_a: float | None,
    chalcogenide_a: float | None,
    quoted_mismatch: float | None,
    all_pairs: bool,
    protocol: str,
) -> None:
    """Print d-spacings, the paper's orientation relation and the best facet matches.

    \b
    Examples:
      aiida-janus epitaxy
      aiida-janus epitaxy --chalcogenide ZnS --quoted-mismatch 4.2
      aiida-janus epitaxy --all
    """
    from heterostructures.structure.epitaxy import epitaxy_report, format_epitaxy_report
    from heterostructures.structure.reflections import check_quoted_mismatch, format_quoted_mismatch

    if all_pairs:
        click.echo(_all_pairs_table(protocol))
        return
    check_lattices(perovskite, chalcogenide, perovskite_a, chalcogenide_a)
    try:
        report = epitaxy_report(perovskite, chalcogenide, perovskite_a, chalcogenide_a)
    except StructureInputError as exception:
        raise click.ClickException(cli_words(str(exception), ())) from exception
    click.echo(format_epitaxy_report(report))
    if quoted_mismatch is None:
        return
    try:
        check = check_quoted_mismatch(
            perovskite,
            chalcogenide,
            quoted_mismatch,
            perovskite_a=perovskite_a,
            chalcogenide_a=chalcogenide_a,
        )
    except StructureInputError as exception:
        raise click.ClickException(str(exception)) from exception
    click.echo(format_quoted_mismatch(check))


def _all_pairs_table(protocol: str) -> str:
    """The four pairs' table with the interface model of ``protocol``'s janus.interface inputs."""
    from heterostructures.structure.epitaxy_table import epitaxy_rows, format_epitaxy_table
    from heterostructures.structure.interface_spec import spec_from_dict
    from workflows.workchains.interface import InterfaceWorkChain

    values = InterfaceWorkChain.checked_protocol_inputs(protocol, None)["interface"]
    planes = f"{protocol}: {'periodic' if values.get('periodic') else 'slab'}"
    return cli_words(format_epitaxy_table(epitaxy_rows(spec_from_dict(values)), planes), ())
