"""``aiida-janus run`` / ``submit`` / ``report``: drive a study locally or through a daemon."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from heterostructures.structure.interface_spec import RELATIONS
from workflows.cli.params import (
    STRAIN_PERCENT,
    NodeParam,
    computer_option,
    materials_options,
    output_folder_option,
    protocol_option,
    ranks_option,
)
from workflows.cli.profiles import profile_option, use_profile
from workflows.inputs.pipeline_steps import STEPS


def study_options(function: Any) -> Any:
    """Options shared by ``run`` and ``submit``."""
    options = [
        materials_options(),
        protocol_option(),
        computer_option("Computer whose pw/projwfc/pp codes run the study."),
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
        click.option(
            "--max-strain",
            type=STRAIN_PERCENT,
            default=None,
            help="Largest in-plane strain of either side (%) the interface may take.",
        ),
        click.option(
            "--dry-run",
            is_flag=True,
            help="Build and check every input, print the steps and the plan; store nothing.",
        ),
        profile_option,
    ]
    for option in reversed(options):
        function = option(function)
    return function


def study_codes(profile_name: str | None, computer_label: str) -> dict[str, Any]:
    """Load the profile, check its storage, and return the pw/projwfc/pp codes of a computer."""
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
    try:
        return {name: load_code(f"{name}@{computer_label}") for name in ("pw", "projwfc", "pp")}
    except NotExistent as exception:
        raise click.ClickException(
            f"no codes on computer {computer_label!r}: run `aiida-janus setup` "
            f"(or `aiida-janus setup --computer <yaml>`): {exception}"
        ) from exception


def ranks_options(ranks: int | None) -> dict[str, Any] | None:
    """Scheduler options for ``--ranks`` (one machine), or None for the computer's default."""
    if ranks is None:
        return None
    return {"resources": {"num_machines": 1, "num_mpiprocs_per_machine": ranks}}


def interface_overrides(relation: str | None, max_strain: float | None) -> dict[str, Any]:
    """Protocol overrides of the pipeline for ``--relation`` and ``--max-strain``."""
    spec: dict[str, Any] = {}
    if relation is not None:
        spec["relation"] = relation
    if max_strain is not None:
        spec["max_strain_percent"] = max_strain
    return {"interface": {"interface": spec}} if spec else {}


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
) -> Any:
    """A pipeline builder, or a ClickException naming what to fix."""
    from aiida.orm import List

    from heterostructures.structure.errors import StructureInputError
    from workflows.workchains.pipeline import PipelineWorkChain

    codes = study_codes(profile_name, computer_label)
    options = ranks_options(ranks)
    try:
        builder = PipelineWorkChain.get_builder_from_protocol(
            codes,
            perovskite,
            chalcogenide,
            protocol,
            overrides=interface_overrides(relation, max_strain) or None,
            options=options,
        )
    except (StructureInputError, ValueError) as exception:
        raise click.ClickException(str(exception)) from exception
    if skip:
        builder.skip = List(list(skip))
    return builder


def launch_study(builder: Any, daemon: bool) -> Any:
    """Run (blocking) or submit a study; storage failures become one clear message."""
    from aiida.engine import submit as submit_process

    from workflows.cli.progress import run_with_progress
    from workflows.engine.storage_checks import storage_failure

    try:
        if daemon:
            return submit_process(builder)
        return run_with_progress(builder)
    except Exception as exception:
        message = storage_failure(exception)
        if message is None:
            raise
        raise click.ClickException(message) from exception


def echo_dry_run(builder: Any, settings: dict[str, Any]) -> None:
    """What ``--dry-run`` prints: the steps that would run, the interface spec, the inputs'
    verdict from the workchain's own validators, and that nothing was stored."""
    from workflows.protocols import namespace_inputs
    from workflows.workchains.pipeline import PipelineWorkChain

    skipped = set(settings.get("skip") or ())
    # Validated as AiiDA validates at launch: empty optional namespaces pruned first.
    error = PipelineWorkChain.spec().inputs.validate(namespace_inputs(builder))
    if error is not None:
        raise click.ClickException(f"the study's inputs are not valid: {error}")
    click.echo(
        f"dry run: {settings['perovskite']}/{settings['chalcogenide']}, protocol "
        f"{settings['protocol']}, computer {settings['computer_label']}"
    )
    click.echo("steps: " + ", ".join(s for s in STEPS if s not in skipped))
    interface = builder.interface.get("interface") if "interface" in builder else None
    if interface is not None:
        click.echo(f"interface spec: {interface.get_dict()}")
    click.echo("inputs valid; nothing stored (`aiida-janus plan` prices the study)")


@click.command("run")
@study_options
def run(**kwargs: Any) -> None:
    """Run a study in this process (blocking), reporting each step as it starts.

    \b
    Examples:
      aiida-janus run                                  # CsPbBr3/CdS, fast protocol
      aiida-janus run --chalcogenide ZnS --skip aimd
    """
    from workflows.provenance.report import summary_table

    dry_run = kwargs.pop("dry_run")
    builder = build_study(**kwargs)
    if dry_run:
        echo_dry_run(builder, kwargs)
        return
    node = launch_study(builder, daemon=False)
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
    builder = build_study(**kwargs)
    if dry_run:
        echo_dry_run(builder, kwargs)
        return
    if not get_daemon_client().is_daemon_running:
        raise click.ClickException(
            "the AiiDA daemon is not running: start it with `aiida-janus daemon start` "
            "(AIIDA_PATH set as the Makefile does), or use `aiida-janus run`"
        )
    node = launch_study(builder, daemon=True)
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
