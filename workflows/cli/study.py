"""``aiida-janus run`` / ``submit`` / ``report``: drive a study locally or through a daemon."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from heterostructures.structure.interface_spec import RELATIONS
from workflows.cli.console import verbose_option
from workflows.cli.lattices import check_lattices, lattice_options, lattice_overrides
from workflows.cli.params import (
    NodeParam,
    computer_option,
    materials_options,
    max_strain_option,
    output_folder_option,
    protocol_option,
    ranks_option,
)
from workflows.cli.profiles import profile_option, use_profile
from workflows.cli.study_inputs import (
    Study,
    check_nc_family,
    chosen_codes,
    chosen_families,
    code_family_options,
    dry_run_lines,
    pipeline_builder,
    structure_option,
)
from workflows.inputs.cutoff_floors import pair_elements
from workflows.inputs.pipeline_steps import STEPS


def study_options(function: Any) -> Any:
    """Options shared by ``run`` and ``submit``."""
    options: list[Callable[[Any], Any]] = [
        materials_options(),
        lattice_options(),
        protocol_option(),
        computer_option(
            "Computer whose pw/projwfc/pp codes run the study (those not given by -X)."
        ),
        code_family_options(),
        structure_option(),
        ranks_option,
        click.option(
            "--skip",
            multiple=True,
            type=click.Choice(STEPS),
            help="Steps to skip (repeat the option for several).",
        ),
        click.option(
            "--relation",
            type=click.Choice(RELATIONS),
            default=None,
            help="Epitaxial relation of the interface: the protocol's facets (default) or "
            "the paper's zone-axis relation (paper; hundreds of atoms, see "
            "`aiida-janus build --relation paper`).",
        ),
        max_strain_option(),
        click.option(
            "--capped",
            is_flag=True,
            help="Every input kind of --protocol, work capped to a few SCF iterations, one "
            "BFGS step, 10 MD steps and 8 NA snapshots on a 13-atom model: checks that QE "
            "accepts the protocol's inputs (see workflows/inputs/capped.py).",
        ),
        click.option(
            "--dry-run",
            is_flag=True,
            help="Build and check every input, print the steps, codes, families and "
            "structure; store nothing.",
        ),
        profile_option,
    ]
    for option in reversed(options):
        function = option(function)
    return function


def study_codes(
    profile_name: str | None, computer_label: str, given: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Load the profile, check its storage, and return the pw/projwfc/pp codes: those
    ``given`` (``-X``), the others of the computer."""
    from aiida.common.exceptions import NotExistent
    from aiida.manage.configuration import get_profile
    from aiida.orm import load_code

    from workflows.engine.storage_checks import StorageProblemError, check_profile_storage

    use_profile(profile_name)
    profile = get_profile()
    assert profile is not None
    try:
        check_profile_storage(profile)
    except StorageProblemError as exception:
        raise click.ClickException(str(exception)) from exception
    codes = dict(given or {})
    try:
        for name in (name for name in ("pw", "projwfc", "pp") if name not in codes):
            codes[name] = load_code(f"{name}@{computer_label}")
    except NotExistent as exception:
        raise click.ClickException(
            f"no codes on computer {computer_label!r}: run `aiida-janus setup` "
            f"(or `aiida-janus setup --computer-config <yaml>`), or give them with -X/--code: "
            f"{exception}"
        ) from exception
    return codes


def ranks_options(ranks: int | None) -> dict[str, Any] | None:
    """Scheduler options for ``--ranks`` (one machine), or None for the computer's default."""
    if ranks is None:
        return None
    return {"resources": {"num_machines": 1, "num_mpiprocs_per_machine": ranks}}


def interface_overrides(relation: str | None, max_strain: float | None) -> dict[str, Any]:
    """Protocol overrides of the pipeline for ``--relation`` and ``--max-strain``.

    The strain bound reaches the interface spec and the alignment series' models (as the
    lattice constants do, :func:`~workflows.cli.lattices.lattice_overrides`): both are
    built on the pair's in-plane cell, which the bound chooses (1:1 or a coincidence cell).
    """
    spec: dict[str, Any] = {}
    if relation is not None:
        spec["relation"] = relation
    if max_strain is not None:
        spec["max_strain_percent"] = max_strain
    overrides: dict[str, Any] = {"interface": {"interface": spec}} if spec else {}
    if max_strain is not None:
        overrides["alignment"] = {"interface": {"max_strain_percent": max_strain}}
    return overrides


def study_overrides(
    relation: str | None,
    max_strain: float | None,
    perovskite_a: float | None,
    chalcogenide_a: float | None,
) -> dict[str, Any]:
    """``janus.pipeline`` step overrides of ``--relation``, ``--max-strain`` and the lattice
    constants (Å); ``alignment`` gets its step's share of them (``["alignment"]``)."""
    from aiida_quantumespresso.workflows.protocols.utils import recursive_merge

    return dict(
        recursive_merge(
            interface_overrides(relation, max_strain),
            lattice_overrides(perovskite_a, chalcogenide_a),
        )
    )


def codes_and_families(
    profile_name: str | None, computer_label: str, pair: tuple[str, str], choices: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, str]]:
    """The codes (``-X`` over the computer's) and the chosen families (``-F``) of a study
    of ``pair``, its lattice constants checked; a ClickException naming what to fix.
    ``choices``: ``codes``, ``families``, ``perovskite_a``, ``chalcogenide_a``."""
    codes = study_codes(profile_name, computer_label, chosen_codes(choices.get("codes", ())))
    check_lattices(*pair, choices.get("perovskite_a"), choices.get("chalcogenide_a"))
    return codes, chosen_families(choices.get("families", ()))


def build_study(
    perovskite: str,
    chalcogenide: str,
    protocol: str,
    computer_label: str,
    ranks: int | None,
    skip: tuple[str, ...],
    profile_name: str | None,
    relation: str | None = None,
    max_strain: float | None = None,
    capped: bool = False,
    **choices: Any,
) -> Study:
    """A pipeline builder and what ``--dry-run`` says of it, or a ClickException naming
    what to fix. ``choices``: ``codes`` (-X), ``families`` (-F), ``structure``,
    ``perovskite_a``, ``chalcogenide_a``. ``capped``: the protocol's capped run
    (:func:`~workflows.inputs.capped.capped_overrides`), the other overrides on top."""
    from aiida.orm import List

    from workflows.inputs.pw_builders import families_for_flavours

    codes, families = codes_and_families(
        profile_name, computer_label, (perovskite, chalcogenide), choices
    )
    if "nc" in families and "na" not in skip:
        check_nc_family(families["nc"], pair_elements(perovskite, chalcogenide))
    lattices = (choices.get("perovskite_a"), choices.get("chalcogenide_a"))
    overrides = study_overrides(relation, max_strain, *lattices)
    if capped:
        from workflows.inputs.capped import capped_overrides

        overrides = capped_overrides(protocol, overrides)
    pair = (perovskite, chalcogenide, protocol)
    with families_for_flavours(families):
        builder, structure_line = pipeline_builder(
            codes, pair, choices.get("structure"), overrides or None, ranks_options(ranks)
        )
    if skip:
        builder.skip = List(list(skip))
    return Study(builder, dry_run_lines(codes, families, structure_line))


def launch_study(builder: Any, daemon: bool, verbose: bool = False) -> Any:
    """Run (blocking) or submit a study; storage failures become one clear message.

    ``verbose``: a blocking run shows AiiDA's report lines above the progress view."""
    from aiida.engine import submit as submit_process

    from workflows.cli.progress import run_with_progress
    from workflows.engine.storage_checks import storage_failure

    try:
        if daemon:
            return submit_process(builder)
        return run_with_progress(builder, verbose=verbose)
    except Exception as exception:
        message = storage_failure(exception)
        if message is None:
            raise
        raise click.ClickException(message) from exception


def echo_dry_run(builder: Any, settings: dict[str, Any], lines: tuple[str, ...] = ()) -> None:
    """What ``--dry-run`` prints: the steps that would run, the interface spec, ``lines``
    (codes, families, structure: :func:`~workflows.cli.study_inputs.dry_run_lines`), the
    inputs' verdict from the workchain's own validators, and that nothing was stored."""
    from workflows.protocols import namespace_inputs
    from workflows.workchains.pipeline import PipelineWorkChain

    skipped = set(settings.get("skip") or ())
    if "structure" in builder:  # a given interface: no bulk references, no build
        skipped |= {"bulk", "interface"}
    # Validated as AiiDA validates at launch: empty optional namespaces pruned first.
    error = PipelineWorkChain.spec().inputs.validate(namespace_inputs(builder))
    if error is not None:
        raise click.ClickException(f"the study's inputs are not valid: {error}")
    capped = " (capped)" if settings.get("capped") else ""
    click.echo(
        f"dry run: {settings['perovskite']}/{settings['chalcogenide']}, protocol "
        f"{settings['protocol']}{capped}, computer {settings['computer_label']}"
    )
    click.echo("steps: " + ", ".join(s for s in STEPS if s not in skipped))
    interface = builder.interface.get("interface") if "interface" in builder else None
    if interface is not None:
        click.echo(f"interface spec: {interface.get_dict()}")
    for line in lines:
        click.echo(line)
    click.echo("inputs valid; nothing stored (`aiida-janus plan` prices the study)")


@click.command("run")
@study_options
@verbose_option
def run(**kwargs: Any) -> None:
    """Run a study in this process (blocking) with a live progress view.

    \b
    Examples:
      aiida-janus run                                  # CsPbBr3/CdS, fast protocol
      aiida-janus run --chalcogenide ZnS --skip aimd
      aiida-janus run --chalcogenide CdTe --chalcogenide-a 6.48 --dry-run
      aiida-janus run -X pw-7.2@cluster -F SSSP/1.3/PBE/efficiency --skip na -v
      aiida-janus run --structure interface/interface.extxyz
      aiida-janus run --protocol balanced --capped --ranks 2 --dry-run
    """
    from workflows.provenance.report import summary_table

    dry_run, verbose = kwargs.pop("dry_run"), kwargs.pop("verbose")
    study = build_study(**kwargs)
    if dry_run:
        echo_dry_run(study.builder, kwargs, study.lines)
        return
    node = launch_study(study.builder, daemon=False, verbose=verbose)
    if not node.is_finished_ok:
        raise click.ClickException(f"study <{node.pk}> failed: {node.exit_message}")
    click.echo(summary_table(node.outputs.summary.get_dict()))
    click.echo(f"study <{node.pk}> finished: `aiida-janus report {node.pk}` writes its figures")


@click.command("submit")
@study_options
def submit(**kwargs: Any) -> None:
    """Submit a study to the AiiDA daemon and return at once.

    \b
    Examples:
      aiida-janus daemon start && aiida-janus submit --protocol balanced --computer slurm-local
      aiida-janus status <PK>
    """
    from aiida.engine.daemon.client import get_daemon_client

    dry_run = kwargs.pop("dry_run")
    study = build_study(**kwargs)
    if dry_run:
        echo_dry_run(study.builder, kwargs, study.lines)
        return
    if not get_daemon_client().is_daemon_running:
        raise click.ClickException(
            "the AiiDA daemon is not running: start it with `aiida-janus daemon start` "
            "(AIIDA_PATH set as the Makefile does), or use `aiida-janus run`"
        )
    node = launch_study(study.builder, daemon=True)
    click.echo(f"submitted study <{node.pk}>: follow it with `aiida-janus status {node.pk}`")


@click.command("report")
@click.argument("study", metavar="PK", type=NodeParam("workflow"))
@output_folder_option(Path("janus-report"), "Folder for summary.md and the PNG figures.")
@profile_option
def report(study: Any, output: Path, profile_name: str | None) -> None:
    """Write a finished study's summary table and figures.

    \b
    Example:
      aiida-janus report 123 -o report-123
    """
    from workflows.provenance.report import write_report

    use_profile(profile_name)
    try:
        paths = write_report(study, output)
    except ValueError as exception:
        raise click.ClickException(str(exception)) from exception
    click.echo(paths["summary"].read_text())
    for name, path in paths.items():
        click.echo(f"  {name}: {path}")
