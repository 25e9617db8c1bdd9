"""The embedded AiiDA profile: SQLite storage and the ZeroMQ broker, no services to run.

Everything lives under the work folder (``AIIDA_PATH``), like ``verdi presto`` but
without touching the user's home directory or creating presto's own computer.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from workflows.setup.paths import ensure_aiida_path

if TYPE_CHECKING:
    from aiida.manage.configuration.profile import Profile

DEFAULT_PROFILE = "janus"
EMBEDDED_STORAGE = "core.sqlite_dos"
EMBEDDED_BROKER = "core.zeromq"


class ProfileConflictError(RuntimeError):
    """A profile of that name exists but is not what was asked for."""


def configure_aiida_dir() -> None:
    """Make AiiDA read its configuration from the project's work folder."""
    from aiida.manage.configuration.settings import AiiDAConfigDir

    path = ensure_aiida_path()
    if not str(AiiDAConfigDir.get()).startswith(str(path)):
        AiiDAConfigDir.set()


def ensure_profile(name: str = DEFAULT_PROFILE, storage: str = EMBEDDED_STORAGE) -> Profile:
    """Create the profile on first use, then load it. Idempotent.

    Raises ``ProfileConflictError`` if a profile ``name`` exists with other storage.
    """
    configure_aiida_dir()
    from aiida.manage.configuration import create_profile, get_config, load_profile
    from aiida.plugins import BrokerFactory

    config = get_config(create=True)
    if name in config.profile_names:
        profile = config.get_profile(name)
        if profile.storage_backend != storage:
            raise ProfileConflictError(
                f"profile {name!r} exists with storage {profile.storage_backend!r}, not "
                f"{storage!r}: choose another name with --profile, or remove it with "
                f"`verdi profile delete {name}`"
            )
        return load_profile(name, allow_switch=True)
    storage_dir = ensure_aiida_path() / "storage" / name
    storage_dir.mkdir(parents=True, exist_ok=True)
    profile = create_profile(
        config,
        name=name,
        email="janus@localhost",
        storage_backend=storage,
        storage_config={"filepath": str(storage_dir)},
        broker_backend=EMBEDDED_BROKER,
        broker_config=BrokerFactory(EMBEDDED_BROKER).get_default_config(),
    )
    config.set_option("runner.poll.interval", 1, scope=profile.name)
    config.set_default_profile(profile.name, overwrite=True)
    config.store()
    return load_profile(profile.name, allow_switch=True)
