"""Entry point of ``aiida-janus``: set-up and the commands that drive the study."""

from __future__ import annotations

from pathlib import Path

import click

from workflows.cli.alignment import alignment
from workflows.cli.build import build, epitaxy
from workflows.cli.cluster import slurm_down, slurm_up
from workflows.cli.console import verbose_option
from workflows.cli.daemon import daemon
from workflows.cli.params import (
    computer_option,
    computer_yaml_option,
    new_profile_option,
    output_folder_option,
)
from workflows.cli.plan import plan
from workflows.cli.profiles import root_profile_option
from workflows.cli.query import export, query, status
from workflows.cli.study import report, run, submit
from workflows.setup.paths import PROFILES_DIR


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="aiida-janus")
@root_profile_option
def cli() -> None:
    """aiida-janus: provenance-tracked perovskite/chalcogenide heterostructure studies.

    \b
    Quick start (embedded profile, this machine):
      aiida-janus setup          # QE, pseudopotentials, SQLite profile, codes
      aiida-janus demo           # run the demo study with real pw.x
      aiida-janus -p janus status 1234   # any command on a chosen profile

    Only `setup` and `demo` create a profile; the others use -p/--profile or AiiDA's
    default profile and refuse one that does not exist.
    """


@cli.command()
@new_profile_option
@computer_yaml_option(
    PROFILES_DIR / "computer-localhost.yaml",
    "Computer YAML (e.g. profiles/computer-slurm.yaml); codes from profiles/code-*.yaml.",
)
@click.option(
    "--pseudos",
    "flavours",
    multiple=True,
    default=("paw", "nc"),
    show_default=True,
    type=click.Choice(["paw", "nc"]),
    help="Pseudopotential families to generate and install.",
)
@click.option(
    "--storage",
    type=click.Choice(["sqlite", "postgresql"]),
    default="sqlite",
    show_default=True,
    help="sqlite: embedded, no services. postgresql: AiiDA's production storage.",
)
@click.option(
    "--broker",
    type=click.Choice(["zeromq", "rabbitmq"]),
    default=None,
    help="Process broker [default: zeromq with sqlite, rabbitmq with postgresql].",
)
@click.option(
    "--postgres-url",
    default=None,
    metavar="URL",
    help="Existing server, postgresql://USER:PASSWORD@HOST:PORT/DB (default: local, started).",
)
@click.option(
    "--rabbitmq-url",
    default=None,
    metavar="URL",
    help="Existing broker, amqp://USER:PASSWORD@HOST:PORT/ (default: local, started).",
)
def setup(
    profile_name: str | None,
    computer_yaml: Path,
    flavours: tuple[str, ...],
    storage: str,
    broker: str | None,
    postgres_url: str | None,
    rabbitmq_url: str | None,
) -> None:
    """Set up everything, idempotently: QE, profile, computer, codes, pseudos.

    \b
    Examples:
      aiida-janus setup
      aiida-janus setup --computer-config profiles/computer-slurm.yaml
      aiida-janus setup --profile group --storage postgresql --broker rabbitmq
      aiida-janus setup --profile group --storage postgresql \\
          --postgres-url postgresql://aiida:secret@db.example.org:5432/aiida \\
          --rabbitmq-url amqp://aiida:secret@mq.example.org:5672/
    """
    from workflows.cli.profiles import profile_to_create
    from workflows.cli.setup_steps import ServicesChoice, run_setup

    services = ServicesChoice(storage, broker, postgres_url, rabbitmq_url)
    run_setup(profile_to_create(profile_name), computer_yaml, flavours, services)


@cli.command()
@new_profile_option
@computer_option()
@output_folder_option(Path("janus-demo"), "Folder for the report (summary.md and figures).")
@verbose_option
def demo(profile_name: str | None, computer_label: str, output: Path, verbose: bool) -> None:
    """Run the demo study (CsPbBr3/CdS, fast protocol) with real Quantum ESPRESSO.

    The whole pipeline on the 13-atom superlattice: bulk references, interface build and
    relaxation, band alignment, IS/FS densities, AIMD; then writes the report.
    """
    from workflows.cli.demo import run_demo
    from workflows.cli.profiles import profile_to_create

    run_demo(profile_to_create(profile_name), computer_label, output, verbose)


for command in (
    alignment,
    build,
    epitaxy,
    run,
    submit,
    report,
    status,
    query,
    export,
    plan,
    daemon,
    slurm_up,
    slurm_down,
):
    cli.add_command(command)
