"""``aiida-janus build`` and ``aiida-janus epitaxy``: structure science without AiiDA."""

from __future__ import annotations

from pathlib import Path

import click

from heterostructures.structure_errors import StructureInputError


@click.command("build")
@click.option("--perovskite", default="CsPbBr3", show_default=True, help="CsPbX3 formula.")
@click.option("--chalcogenide", default="CdS", show_default=True, help="MX formula (ZB/WZ).")
@click.option(
    "--model",
    type=click.Choice(["demo", "production"]),
    default="demo",
    show_default=True,
    help="Preset size (demo: 26 atoms; production: 104 atoms).",
)
@click.option(
    "--periodic/--vacuum",
    default=False,
    show_default=True,
    help="Superlattice without vacuum, or a slab in vacuum.",
)
@click.option(
    "--perovskite-planes",
    type=click.IntRange(min=1),
    default=None,
    help="Planes of the perovskite film.",
)
@click.option(
    "--chalcogenide-planes",
    type=click.IntRange(min=1),
    default=None,
    help="Planes of the chalcogenide.",
)
@click.option(
    "--strain-weight",
    type=click.FloatRange(0.0, 1.0),
    default=None,
    help="Share of the mismatch taken by the perovskite (0..1).",
)
@click.option(
    "--max-strain",
    type=click.FloatRange(min=0.0, min_open=True),
    default=None,
    help="Strain bound (%).",
)
@click.option(
    "--output",
    "-o",
    type=click.Path(path_type=Path),
    default=Path("interface"),
    show_default=True,
    help="Folder for the files.",
)
def build(
    perovskite: str,
    chalcogenide: str,
    model: str,
    periodic: bool,
    perovskite_planes: int | None,
    chalcogenide_planes: int | None,
    strain_weight: float | None,
    max_strain: float | None,
    output: Path,
) -> None:
    """Build an interface and write extxyz (with labels), CIF, a summary and a side view.

    \b
    Examples:
      aiida-janus build                                  # the 26-atom demo slab
      aiida-janus build --periodic --perovskite-planes 3 --chalcogenide-planes 2
      aiida-janus build --chalcogenide ZnS --max-strain 8
    """
    from heterostructures.interface_spec import build_from_spec
    from heterostructures.structure_report import format_summary, write_interface_files

    options = {
        "perovskite_planes": perovskite_planes,
        "chalcogenide_planes": chalcogenide_planes,
        "strain_weight": strain_weight,
        "max_strain_percent": max_strain,
    }
    spec: dict[str, object] = {k: v for k, v in options.items() if v is not None}
    spec.update(model=model, perovskite=perovskite, chalcogenide=chalcogenide, periodic=periodic)
    try:
        interface = build_from_spec(spec, {})
    except StructureInputError as exception:
        raise click.ClickException(str(exception)) from exception
    paths = write_interface_files(interface, output)
    click.echo(format_summary(interface))
    for kind, path in paths.items():
        click.echo(f"  {kind:8s} {path}")


@click.command("epitaxy")
@click.option("--perovskite", default="CsPbBr3", show_default=True)
@click.option("--chalcogenide", default="CdS", show_default=True)
@click.option(
    "--perovskite-a",
    type=click.FloatRange(min=0.0, min_open=True),
    default=None,
    help="Lattice constant (Å), e.g. PBE.",
)
@click.option(
    "--chalcogenide-a",
    type=click.FloatRange(min=0.0, min_open=True),
    default=None,
    help="Lattice constant (Å).",
)
@click.option(
    "--quoted-mismatch",
    type=click.FloatRange(min=0.0, min_open=True),
    default=None,
    help="A |mismatch| (%) quoted without planes: test it against {220} and a blind scan"
    " (on --perovskite-a/--chalcogenide-a when given).",
)
def epitaxy(
    perovskite: str,
    chalcogenide: str,
    perovskite_a: float | None,
    chalcogenide_a: float | None,
    quoted_mismatch: float | None,
) -> None:
    """Print d-spacings, the paper's orientation relation and the best facet matches.

    \b
    Examples:
      aiida-janus epitaxy
      aiida-janus epitaxy --chalcogenide ZnS --quoted-mismatch 4.2
    """
    from heterostructures.epitaxy import epitaxy_report, format_epitaxy_report
    from heterostructures.reflections import check_quoted_mismatch, format_quoted_mismatch

    try:
        report = epitaxy_report(perovskite, chalcogenide, perovskite_a, chalcogenide_a)
    except StructureInputError as exception:
        raise click.ClickException(str(exception)) from exception
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
