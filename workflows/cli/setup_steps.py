"""The steps of ``aiida-janus setup``, each idempotent and each failing with a fix to apply."""

from __future__ import annotations

from pathlib import Path

import click

from workflows.setup.paths import work_dir


def _step(message: str) -> None:
    click.secho(f"==> {message}", fg="cyan")


def run_setup(profile_name: str, computer_yaml: Path, flavours: tuple[str, ...]) -> None:
    """Install QE if needed, create the profile, register computer/codes, install pseudos."""
    from workflows.setup.codes import SetupSpecError, register_computer_and_codes
    from workflows.setup.profile import ProfileConflictError, ensure_profile
    from workflows.setup.pseudos import install_pseudo_family
    from workflows.setup.quantum_espresso import (
        QuantumEspressoMissingError,
        ensure_quantum_espresso,
    )
    from workflows.setup.upf import PseudoGenerationError

    try:
        _step("Quantum ESPRESSO")
        ensure_quantum_espresso()
        _step(f"AiiDA profile {profile_name!r} (SQLite, ZeroMQ broker) in {work_dir()}")
        ensure_profile(profile_name)
        _step(f"computer and codes from {computer_yaml}")
        codes = register_computer_and_codes(computer_yaml)
        click.echo("    codes: " + ", ".join(code.full_label for code in codes.values()))
        for flavour in flavours:
            _step(f"pseudopotential family ({flavour})")
            family = install_pseudo_family(flavour)
            click.echo(f"    {family.label}: {len(family.nodes)} elements")
    except (
        QuantumEspressoMissingError,
        ProfileConflictError,
        SetupSpecError,
        PseudoGenerationError,
    ) as exception:
        raise click.ClickException(str(exception)) from exception
    click.secho("setup complete", fg="green")
