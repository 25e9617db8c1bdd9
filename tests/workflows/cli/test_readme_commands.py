"""Every ``aiida-janus`` command line README shows must exist as written.

Reference: the README itself, read as a newcomer would. Each line of its ``bash`` blocks
that starts with ``aiida-janus`` is parsed: the subcommand (and sub-subcommand) must exist
and every ``--option`` it uses must be one that command accepts (checked against click's
own parameter declarations, not against a copy of them). The lines that need no QE and no
profile (``epitaxy``, ``build``) are run for real, in a scratch folder, and must exit 0.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from workflows.cli.main import cli

README = Path(__file__).resolve().parents[3] / "README.md"
RUNNABLE = {"epitaxy", "build"}


def _readme_command_lines() -> list[str]:
    """``aiida-janus ...`` lines of README's bash blocks, comments and continuations joined."""
    blocks = re.findall(r"```bash\n(.*?)```", README.read_text(), flags=re.DOTALL)
    lines = []
    for block in blocks:
        joined = block.replace("\\\n", " ")
        for line in joined.splitlines():
            command = line.split("#", 1)[0].strip()
            if command.startswith("aiida-janus"):
                lines.append(command)
    return lines


def _resolve(words: list[str]) -> tuple[click.Command, list[str]]:
    """The click command a README line names, and its remaining words."""
    command: click.Command = cli
    rest = list(words)
    while isinstance(command, click.Group) and rest and not rest[0].startswith("-"):
        sub = command.get_command(click.Context(command), rest[0])
        assert sub is not None, f"README names `{rest[0]}`, which `{command.name}` does not have"
        command, rest = sub, rest[1:]
    return command, rest


def _options(command: click.Command) -> set[str]:
    """Every option spelling a command accepts, including the root group's."""
    names = {"--help", "-h"}
    for owner in (cli, command):
        for param in owner.params:
            names.update(getattr(param, "opts", []))
            names.update(getattr(param, "secondary_opts", []))
    return names


COMMANDS = _readme_command_lines()


def test_readme_shows_commands() -> None:
    """The README has a quick start and usage lines (guards against a parser that finds none)."""
    assert len(COMMANDS) >= 8, COMMANDS


@pytest.mark.parametrize("line", COMMANDS)
def test_readme_command_exists_with_its_options(line: str) -> None:
    """Subcommand and every option of the line exist (placeholders like <PK> are arguments)."""
    command, rest = _resolve(shlex.split(line.replace("<", "").replace(">", ""))[1:])
    accepted = _options(command)
    for word in rest:
        if word.startswith("-"):
            option = word.split("=", 1)[0]
            assert option in accepted, f"README: `{line}` uses {option}, which is not an option"


@pytest.mark.parametrize(
    "line", [line for line in COMMANDS if line.split()[1] in RUNNABLE], ids=lambda line: line
)
def test_readme_command_runs(line: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The QE-free lines run as written from a scratch folder and exit 0."""
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, shlex.split(line)[1:], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert result.output.strip(), "prints what it did"


@pytest.mark.parametrize("term", ["IS/FS", "NAC", "DISH/FSSH", "ZSL", "compensated film"])
def test_readme_defines_its_jargon(term: str) -> None:
    """Each term issue 23 names is defined in README itself (bold, then its meaning), not
    only in docs/science.md; reference: the issue's list."""
    assert re.search(rf"\*\*{re.escape(term)}\*\*, \w", README.read_text()), term
