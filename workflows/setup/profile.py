"""AiiDA profiles: the embedded default (SQLite + ZeroMQ) and the production one.

The embedded profile needs no services: everything lives under the work folder
(``AIIDA_PATH``), like ``verdi presto`` but without touching the user's home directory or
creating presto's own computer. The production profile (``core.psql_dos`` + RabbitMQ)
is what a group running hundreds of calculations needs; its servers come from
:mod:`workflows.setup.services`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from workflows.setup.paths import ensure_aiida_path

if TYPE_CHECKING:
    from aiida.manage.configuration.profile import Profile

    from workflows.setup.services import PostgresSettings, RabbitmqSettings

DEFAULT_PROFILE = "janus"
EMBEDDED_STORAGE = "core.sqlite_dos"
EMBEDDED_BROKER = "core.zeromq"
PRODUCTION_STORAGE = "core.psql_dos"
PRODUCTION_BROKER = "core.rabbitmq"


class ProfileConflictError(RuntimeError):
    """A profile of that name exists but is not what was asked for."""


def configure_aiida_dir() -> None:
    """Make AiiDA read its configuration from the project's work folder.

    A no-op once a profile is loaded: that process (a test session, ``verdi shell``)
    has chosen its configuration, and switching it underneath would orphan the loaded
    profile's computers and codes.
    """
    from aiida.manage.configuration import get_profile
    from aiida.manage.configuration.settings import AiiDAConfigDir

    if get_profile() is not None:
        return

    path = ensure_aiida_path()
    if not str(AiiDAConfigDir.get()).startswith(str(path)):
        AiiDAConfigDir.set()


def ensure_profile(name: str = DEFAULT_PROFILE, storage: str = EMBEDDED_STORAGE) -> Profile:
    """Create the profile on first use, then load it. Idempotent.

    Raises ``ProfileConflictError`` if a profile ``name`` exists with other storage.
    """
    existing = _load_existing(name, storage)
    if existing is not None:
        return existing
    storage_dir = ensure_aiida_path() / "storage" / name
    storage_dir.mkdir(parents=True, exist_ok=True)
    from aiida.plugins import BrokerFactory

    return _create_profile(
        name,
        storage,
        {"filepath": str(storage_dir)},
        EMBEDDED_BROKER,
        BrokerFactory(EMBEDDED_BROKER).get_default_config(),
    )


def ensure_production_profile(
    name: str, postgres: PostgresSettings, rabbitmq: RabbitmqSettings
) -> Profile:
    """A ``core.psql_dos`` profile with a RabbitMQ broker; created once, then loaded.

    The file repository stays under the work folder. Raises ``ProfileConflictError``
    if ``name`` exists with other storage.
    """
    existing = _load_existing(name, PRODUCTION_STORAGE)
    if existing is not None:
        return existing
    repository = ensure_aiida_path() / "repository" / name
    repository.mkdir(parents=True, exist_ok=True)
    from sqlalchemy.exc import SQLAlchemyError

    try:
        profile = _create_profile(
            name,
            PRODUCTION_STORAGE,
            postgres.storage_config(repository),
            PRODUCTION_BROKER,
            rabbitmq.broker_config(),
            # Off until caching is tested under broker faults: with it on, one RabbitMQ
            # restart test ran 17 CalcJobs for 11 (not reproduced with it off).
            caching=False,
        )
    except SQLAlchemyError as exception:
        raise ProfileConflictError(
            f"could not initialise database {postgres.database!r} on {postgres.host}:"
            f"{postgres.port} for profile {name!r} ({type(exception).__name__}: "
            f"{str(exception).splitlines()[0]}): give an empty database (or drop this one) "
            "and run the set-up again"
        ) from exception
    if rabbitmq.consumer_timeout_disabled:
        # AiiDA warns on RabbitMQ >= 3.8.15 because of consumer_timeout; ours is off.
        from aiida.manage.configuration import get_config

        config = get_config()
        config.set_option("warnings.rabbitmq_version", False, scope=name)
        config.store()
    return profile


def _load_existing(name: str, storage: str) -> Profile | None:
    """Load profile ``name`` if it exists with ``storage``; ``None`` if it does not exist."""
    configure_aiida_dir()
    from aiida.manage.configuration import get_config, load_profile

    config = get_config(create=True)
    if name not in config.profile_names:
        return None
    profile = config.get_profile(name)
    if profile.storage_backend != storage:
        raise ProfileConflictError(
            f"profile {name!r} exists with storage {profile.storage_backend!r}, not "
            f"{storage!r}: choose another name with --profile, or remove it with "
            f"`verdi profile delete {name}`"
        )
    return load_profile(name, allow_switch=True)


def _create_profile(
    name: str,
    storage: str,
    storage_config: dict[str, Any],
    broker: str,
    broker_config: dict[str, Any],
    caching: bool = True,
) -> Profile:
    from aiida.manage.configuration import create_profile, get_config, load_profile

    config = get_config(create=True)
    profile = create_profile(
        config,
        name=name,
        email="janus@localhost",
        storage_backend=storage,
        storage_config=storage_config,
        broker_backend=broker,
        broker_config=broker_config,
    )
    config.set_option("runner.poll.interval", 1, scope=profile.name)
    if caching:
        # Re-running a finished study (same inputs) reuses its calculations instead of
        # re-running QE; a calculation whose remote folder was cleaned is barred from it.
        config.set_option("caching.default_enabled", True, scope=profile.name)
    # The first profile becomes the default; a second one (e.g. production next to the
    # embedded demo profile) does not silently redirect plain `verdi` commands.
    config.set_default_profile(profile.name, overwrite=False)
    config.store()
    return load_profile(profile.name, allow_switch=True)


def load_study_profile(name: str) -> Profile:
    """Load profile ``name`` whatever its storage; create the embedded one if missing.

    ``run``/``submit``/``demo`` work on the production profile too, and never replace it.
    """
    configure_aiida_dir()
    from aiida.manage.configuration import get_config, load_profile

    if name in get_config(create=True).profile_names:
        return load_profile(name, allow_switch=True)
    return ensure_profile(name)
