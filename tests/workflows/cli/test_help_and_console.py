"""``-h`` on every command, and the coloured, quiet-by-default console (issue 23).

References: verdi's and aiida-quantumespresso's root groups (``help_option_names`` ``-h``
and ``--help``, inherited by every subcommand); the NO_COLOR convention (no-color.org:
any non-empty value turns colour off); click's own ``click.style`` codes.
"""

from __future__ import annotations

import io
import logging

import click
import pytest
from click.testing import CliRunner

from workflows.cli.console import ColourFormatter, QuietReports, use_colour
from workflows.cli.main import cli


def _command_paths(group: click.Group, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Every command line prefix: the root, each command, each command of each group."""
    paths = [prefix]
    for name, command in sorted(group.commands.items()):
        if isinstance(command, click.Group):
            paths += _command_paths(command, (*prefix, name))
        else:
            paths.append((*prefix, name))
    return paths


PATHS = _command_paths(cli)


def test_every_command_is_reached() -> None:
    """The walk covers the nested groups, so a new command is tested without editing here."""
    for path in (("run",), ("daemon", "start"), ("query", "diff")):
        assert path in PATHS


@pytest.mark.parametrize("path", PATHS, ids=[" ".join(p) or "aiida-janus" for p in PATHS])
def test_dash_h_is_help(path: tuple[str, ...]) -> None:
    """``-h`` prints the same help as ``--help`` (it said "No such option: -h" before)."""
    runner = CliRunner()
    short = runner.invoke(cli, [*path, "-h"], catch_exceptions=False)
    long = runner.invoke(cli, [*path, "--help"], catch_exceptions=False)
    assert short.exit_code == 0, short.output
    assert short.output == long.output
    assert "Usage:" in short.output
    assert "-h, --help" in short.output


def _tty(stream: io.StringIO) -> io.StringIO:
    stream.isatty = lambda: True  # type: ignore[method-assign]
    return stream


def test_colour_only_on_a_terminal_without_no_color(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    assert use_colour(_tty(io.StringIO()))
    assert not use_colour(io.StringIO())
    monkeypatch.setenv("NO_COLOR", "1")
    assert not use_colour(_tty(io.StringIO()))
    monkeypatch.setenv("NO_COLOR", "")
    assert use_colour(_tty(io.StringIO()))


def _record(level: int, message: str) -> logging.LogRecord:
    return logging.LogRecord("aiida.test", level, __file__, 1, message, None, None)


def test_report_and_warning_lines_are_coloured_by_level() -> None:
    """Reference: ``click.style`` (ANSI codes) applied by the formatter, nothing when off."""
    plain = logging.Formatter("%(levelname)s %(message)s")
    on = ColourFormatter(plain, colour=True)
    off = ColourFormatter(plain, colour=False)
    warning = _record(logging.WARNING, "careful")
    report = _record(logging.INFO + 3, "step two")
    assert on.format(warning) == click.style(plain.format(warning), fg="yellow")
    assert on.format(_record(logging.ERROR, "x")).startswith("\x1b[31m")
    assert on.format(report) == click.style(plain.format(report), fg="cyan")
    assert off.format(warning) == plain.format(warning)


def test_report_lines_hidden_unless_verbose() -> None:
    """Default: the progress view only (warnings still shown); ``-v``: AiiDA's reports too."""
    quiet = QuietReports()
    assert not quiet.filter(_record(logging.INFO + 3, "REPORT line"))
    assert quiet.filter(_record(logging.WARNING, "warning"))


def test_styled_console_hides_reports_by_default_and_restores_the_handler() -> None:
    """A console handler of the ``aiida`` logger as AiiDA configures it: inside
    ``styled_console(False)`` (``run`` without ``-v``) a REPORT line (level 23) is not
    written and a warning is; with ``verbose`` both are; afterwards the handler is as it was."""
    from workflows.cli.console import styled_console

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    formatter = logging.Formatter("%(levelname)s %(message)s")
    handler.setFormatter(formatter)
    logger = logging.getLogger("aiida")
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    child = logging.getLogger("aiida.test_console")
    try:
        for verbose in (False, True):
            with styled_console(verbose):
                child.log(23, f"report {verbose}")
                child.warning(f"warning {verbose}")
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
    lines = stream.getvalue().splitlines()
    assert "report False" not in stream.getvalue()
    assert [line.split(" ", 1)[1] for line in lines] == [
        "warning False",
        "report True",
        "warning True",
    ]
    assert "\x1b[" not in stream.getvalue(), "no colour off a terminal"
    assert handler.formatter is formatter
    assert not handler.filters
