"""``aiida-janus slurm-up`` / ``slurm-down``: the single-node SLURM of the cluster path."""

from __future__ import annotations

import subprocess
from pathlib import Path

import click

from workflows.cli.params import BoundedFloat, computer_yaml_option
from workflows.cli.profiles import profile_option, use_profile
from workflows.setup.paths import PROFILES_DIR

SLURM_SCHEDULER = "core.slurm"


def check_cluster_yaml(path: Path) -> None:
    """Fail early, before starting anything, on a missing or incomplete computer YAML."""
    from workflows.setup.codes import COMPUTER_FIELDS, SetupSpecError, load_spec

    try:
        spec = load_spec(path, COMPUTER_FIELDS)
    except SetupSpecError as exception:
        raise click.ClickException(str(exception)) from exception
    if spec["scheduler"] != SLURM_SCHEDULER:
        raise click.ClickException(
            f"{path}: scheduler is {spec['scheduler']!r}; the SLURM computer needs "
            f"scheduler: {SLURM_SCHEDULER} (see profiles/computer-slurm.yaml)"
        )


@click.command("slurm-up")
@computer_yaml_option(
    PROFILES_DIR / "computer-slurm.yaml",
    "Computer YAML registered on the started SLURM (scheduler core.slurm).",
)
@click.option(
    "--register/--no-register",
    default=True,
    show_default=True,
    help="Also register the computer and profiles/code-*.yaml in the AiiDA profile.",
)
@click.option(
    "--timeout",
    type=BoundedFloat(0.0, 3600.0, "s", low_open=True),
    default=60.0,
    show_default=True,
    help="Seconds to wait for idle.",
)
@profile_option
def slurm_up(computer_yaml: Path, register: bool, timeout: float, profile_name: str | None) -> None:
    """Start a real single-node SLURM on this machine (idempotent) and register it.

    Installs slurm-wlm and munge when missing (root), writes /etc/slurm/slurm.conf,
    keeps state and logs in <work folder>/slurm, starts munged, slurmctld and slurmd,
    and waits until `sinfo` shows the node idle.

    \b
    Examples:
      aiida-janus slurm-up
      aiida-janus slurm-up --no-register
      aiida-janus submit --computer slurm-local --ranks 2   # a study on it
    """
    from workflows.setup.slurm import SlurmSetupError, start_slurm

    check_cluster_yaml(computer_yaml)
    try:
        status = start_slurm(timeout_s=timeout)
    except (SlurmSetupError, subprocess.CalledProcessError) as exception:
        raise click.ClickException(f"SLURM did not start: {exception}") from exception
    started = ", ".join(status.started) or "nothing (already running)"
    click.echo(
        f"SLURM node {status.node} is {status.state}; started {started} in {status.seconds:.2f} s"
    )
    if register:
        from workflows.setup.codes import SetupSpecError, register_computer_and_codes

        use_profile(profile_name)
        try:
            codes = register_computer_and_codes(computer_yaml)
        except SetupSpecError as exception:
            raise click.ClickException(str(exception)) from exception
        click.echo(f"codes on it: {', '.join(code.full_label for code in codes.values())}")


@click.command("slurm-down")
def slurm_down() -> None:
    """Stop the SLURM daemons started by `aiida-janus slurm-up` (and munged if it did).

    \b
    Examples:
      aiida-janus slurm-down
    """
    from workflows.setup.slurm import stop_slurm

    stopped = stop_slurm()
    click.echo(f"stopped {', '.join(stopped)}" if stopped else "no SLURM daemon of ours running")
