"""The steps of ``aiida-janus setup``, each idempotent and each failing with a fix to apply."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import click

from workflows.setup.paths import work_dir


@dataclass(frozen=True)
class ServicesChoice:
    """Storage and broker asked for on the command line."""

    storage: str = "sqlite"
    broker: str | None = None
    postgres_url: str | None = None
    rabbitmq_url: str | None = None

    def check(self) -> None:
        """Combinations AiiDA supports, or a ``click.UsageError`` saying which to use."""
        broker = self.resolved_broker
        if self.storage == "sqlite" and broker == "rabbitmq":
            raise click.UsageError(
                "--broker rabbitmq needs --storage postgresql (the embedded SQLite profile "
                "uses the ZeroMQ broker bundled in the daemon)"
            )
        if self.storage == "postgresql" and broker == "zeromq":
            raise click.UsageError(
                "--storage postgresql goes with --broker rabbitmq (AiiDA's production set-up)"
            )
        if self.postgres_url and self.storage != "postgresql":
            raise click.UsageError("--postgres-url needs --storage postgresql")
        if self.rabbitmq_url and broker != "rabbitmq":
            raise click.UsageError("--rabbitmq-url needs --broker rabbitmq")

    @property
    def resolved_broker(self) -> str:
        """The broker, defaulting by storage."""
        if self.broker is not None:
            return self.broker
        return "rabbitmq" if self.storage == "postgresql" else "zeromq"


def _step(message: str) -> None:
    click.secho(f"==> {message}", fg="cyan")


def run_setup(
    profile_name: str,
    computer_yaml: Path,
    flavours: tuple[str, ...],
    services: ServicesChoice | None = None,
) -> None:
    """Install QE (and graphviz, optional) if needed, create the profile, register
    computer/codes, install pseudos."""
    services = services or ServicesChoice()
    services.check()
    refuse_changed_computer(profile_name, computer_yaml)
    from workflows.setup.codes import SetupSpecError, register_computer_and_codes
    from workflows.setup.graphviz import ensure_graphviz
    from workflows.setup.profile import ProfileConflictError, ensure_profile
    from workflows.setup.pseudos import install_pseudo_family
    from workflows.setup.quantum_espresso import (
        QuantumEspressoMissingError,
        ensure_quantum_espresso,
    )
    from workflows.setup.services import ServiceError
    from workflows.setup.upf import PseudoGenerationError

    try:
        _step("Quantum ESPRESSO")
        ensure_quantum_espresso()
        _step("graphviz (optional: draws the report's provenance graph)")
        click.echo(f"    {ensure_graphviz()}")
        if services.storage == "postgresql":
            _production_profile(profile_name, services)
        else:
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
        ServiceError,
    ) as exception:
        raise click.ClickException(str(exception)) from exception
    click.secho("setup complete", fg="green")


COMPARED_SETTINGS = {
    "hostname": lambda computer: computer.hostname,
    "transport": lambda computer: computer.transport_type,
    "scheduler": lambda computer: computer.scheduler_type,
    "work_dir": lambda computer: computer.get_workdir(),
    "mpirun_command": lambda computer: " ".join(computer.get_mpirun_command()),
}
"""YAML field → the stored computer's value, for the settings a re-run must not change."""


def refuse_changed_computer(profile_name: str, computer_yaml: Path) -> None:
    """Refuse, before anything runs, a YAML whose label names a stored computer with other
    settings: registration keeps an existing computer as it is, so the YAML would be
    silently ignored. Nothing to check when the profile does not exist yet."""
    from workflows.cli.profiles import profile_exists, use_profile
    from workflows.setup.codes import COMPUTER_FIELDS, load_spec

    if not profile_exists(profile_name):
        return
    use_profile(profile_name)
    from aiida.common.exceptions import NotExistent
    from aiida.orm import load_computer

    spec = load_spec(computer_yaml, COMPUTER_FIELDS)
    try:
        computer = load_computer(spec["label"])
    except NotExistent:
        return
    changed = [
        f"{field} is {stored(computer)!r}, the YAML says {str(spec[field])!r}"
        for field, stored in COMPARED_SETTINGS.items()
        if stored(computer) != str(spec[field])
    ]
    if changed:
        label = spec["label"]
        raise click.UsageError(
            f"--computer-config {computer_yaml}: computer {label!r} exists in profile "
            f"{profile_name!r} with other settings ({'; '.join(changed)}): give the YAML "
            f"another label (e.g. {label}-2), or, if no calculation used it, remove it with "
            f"`verdi computer delete {label}` and run the set-up again"
        )


def _production_profile(profile_name: str, services: ServicesChoice) -> None:
    """PostgreSQL storage and RabbitMQ broker: local servers started, or given URLs."""
    from workflows.setup.profile import ensure_production_profile
    from workflows.setup.services import (
        ensure_local_postgres,
        ensure_local_rabbitmq,
        postgres_from_url,
        rabbitmq_from_url,
    )

    _step("PostgreSQL " + (services.postgres_url or "(local server)"))
    if services.postgres_url:
        postgres = postgres_from_url(services.postgres_url)
    else:
        password_file = work_dir() / "aiida" / f"postgres-{profile_name}.password"
        postgres = ensure_local_postgres(profile_name, password_file)
    _step("RabbitMQ " + (services.rabbitmq_url or "(local server, consumer_timeout off)"))
    if services.rabbitmq_url:
        rabbitmq = rabbitmq_from_url(services.rabbitmq_url)
    else:
        rabbitmq = ensure_local_rabbitmq()
    _step(f"AiiDA profile {profile_name!r} (PostgreSQL {postgres.database}, RabbitMQ)")
    ensure_production_profile(profile_name, postgres, rabbitmq)
