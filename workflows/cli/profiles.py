"""Which AiiDA profile a command works on, chosen like ``verdi`` does, never created by surprise.

``aiida-janus -p NAME <command>`` (or the command's own ``--profile NAME``) picks a profile;
without one, a command uses the profile already loaded in this process (tests, ``verdi
shell``), else AiiDA's default profile of the configuration ``AIIDA_PATH`` points to. A
name that is not configured is refused with the list of existing profiles. Only ``setup``
and ``demo`` create profiles (:func:`profile_to_create`); every other command opens an
existing one with :func:`use_profile`, which checks that the configuration file exists
*before* importing AiiDA, because importing it creates ``$AIIDA_PATH/.aiida``.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from aiida.manage.configuration.config import Config

CHOSEN = "aiida_janus.profile"
"""Key of ``click.Context.meta`` (shared by a command and its group) holding the chosen name."""


EMPTY_NAME = (
    "the profile name is empty: give one (`verdi profile list`), or leave the option out for"
    " the default profile"
)
"""Refusal of ``-p ''``: the ``name or default`` chains below would silently fall back."""


def _refuse_empty(profile_name: str | None) -> None:
    """``--profile ''`` of a command whose option has no callback (setup, demo, daemon)."""
    if profile_name is not None and not profile_name.strip():
        raise click.UsageError(f"--profile: {EMPTY_NAME}")


def _remember(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """Record ``-p``/``--profile`` in the context; two different names are refused."""
    if value is None:
        return value
    if not value.strip():
        raise click.BadParameter(EMPTY_NAME)
    earlier = ctx.meta.get(CHOSEN)
    if earlier is not None and earlier != value:
        raise click.UsageError(
            f"-p/--profile {earlier} and --profile {value} name two profiles: give one"
        )
    ctx.meta[CHOSEN] = value
    return value


def root_profile_option(function: Callable[..., Any]) -> Callable[..., Any]:
    """``aiida-janus -p/--profile NAME``: the profile of every command (as in ``verdi``)."""
    return click.option(
        "-p",
        "--profile",
        "profile_name",
        default=None,
        expose_value=False,
        is_eager=True,
        callback=_remember,
        metavar="NAME",
        help="AiiDA profile [default: the default profile of the AIIDA_PATH configuration].",
    )(function)


def profile_option(function: Callable[..., Any]) -> Callable[..., Any]:
    """A command's own ``--profile NAME``, same meaning as the root ``-p/--profile``.

    Eager, so that node identifiers on the same command line resolve in this profile.
    """
    return click.option(
        "--profile",
        "profile_name",
        default=None,
        is_eager=True,
        callback=_remember,
        metavar="NAME",
        help="AiiDA profile (same as `aiida-janus -p NAME`) [default: AiiDA's default].",
    )(function)


def chosen_profile() -> str | None:
    """The name given with ``-p/--profile`` on this command line, if any."""
    ctx = click.get_current_context(silent=True)
    return None if ctx is None else ctx.meta.get(CHOSEN)


def config_dir() -> Path:
    """The ``.aiida`` folder AiiDA will read, found without importing (and so creating) it.

    Mirrors aiida-core 2.9 ``settings._get_configuration_directory_from_envvar``: the first
    ``AIIDA_PATH`` entry holding a ``.aiida`` folder, else the last entry, else ``~/.aiida``.
    """
    if "aiida.manage.configuration.settings" in sys.modules:
        from aiida.manage.configuration.settings import AiiDAConfigDir

        return Path(AiiDAConfigDir.get())
    found = Path("~/.aiida").expanduser()
    for entry in (p for p in os.environ.get("AIIDA_PATH", "").split(os.pathsep) if p):
        found = Path(entry).expanduser()
        found = found if found.name == ".aiida" else found / ".aiida"
        if found.is_dir():
            break
    return found


def _loaded_profile_name() -> str | None:
    if "aiida.manage.configuration" not in sys.modules:
        return None
    from aiida.manage.configuration import get_profile

    profile = get_profile()
    return None if profile is None else profile.name


def existing_config() -> Config:
    """AiiDA's configuration, or a ``click.UsageError`` if there is none (nothing created)."""
    folder = config_dir()
    if _loaded_profile_name() is None and not (folder / "config.json").is_file():
        raise click.UsageError(
            f"no AiiDA configuration in {folder}: run `aiida-janus setup` first (it creates the "
            "profile), or point AIIDA_PATH (or JANUS_WORK_DIR) at the folder that holds one"
        )
    from aiida.manage.configuration import get_config

    return get_config()


def _listing(config: Config) -> str:
    names = ", ".join(sorted(config.profile_names)) or "none"
    return f"profiles: {names}; default {config.default_profile_name or 'none'}"


def use_profile(profile_name: str | None = None) -> str:
    """Load an existing profile and return its name; never create one.

    ``profile_name`` (a command's ``--profile``), else the root ``-p``, else the profile
    already loaded, else AiiDA's default profile. Unknown or missing: ``click.UsageError``.
    """
    _refuse_empty(profile_name)
    name = profile_name or chosen_profile()
    loaded = _loaded_profile_name()
    if loaded is not None and name in (None, loaded):
        return loaded
    config = existing_config()
    name = name or config.default_profile_name
    if name is None:
        raise click.UsageError(
            f"no default AiiDA profile ({_listing(config)}): choose one with -p/--profile"
        )
    if name not in config.profile_names:
        raise click.UsageError(
            f"profile {name!r} does not exist ({_listing(config)}): choose one with "
            f"-p/--profile, or create it with `aiida-janus setup --profile {name}`"
        )
    from aiida.manage.configuration import load_profile

    load_profile(name, allow_switch=True)
    return name


def profile_exists(name: str) -> bool:
    """True if ``name`` is configured (read without creating any file or folder)."""
    if _loaded_profile_name() == name:
        return True
    try:
        return name in existing_config().profile_names
    except click.UsageError:
        return False


def profile_to_create(profile_name: str | None) -> str:
    """The profile ``setup``/``demo`` create or reuse: ``--profile``, ``-p``, else ``janus``."""
    from workflows.setup.profile import DEFAULT_PROFILE

    _refuse_empty(profile_name)
    return profile_name or chosen_profile() or DEFAULT_PROFILE
