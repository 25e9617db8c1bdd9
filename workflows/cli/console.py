"""Console lines of a study run in this process: coloured by level, AiiDA reports only with -v.

``aiida-janus run``/``demo`` show the progress view (:mod:`workflows.cli.progress`) and,
by default, only AiiDA's warnings and errors above it; ``-v/--verbose`` adds every report
line of every step, as ``verdi process report`` would show them. Colour follows the usual
convention: on a terminal only, and never when ``NO_COLOR`` is set to a non-empty value
(no-color.org), so log files and CI output stay plain.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO

import click

LEVEL_COLOURS = ((logging.ERROR, "red"), (logging.WARNING, "yellow"), (logging.INFO, "cyan"))
"""Colour of a record at or above each level (AiiDA's REPORT, 23, is between INFO and WARNING)."""


def use_colour(stream: TextIO) -> bool:
    """Colour on a terminal, unless ``NO_COLOR`` is set to anything but the empty string."""
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty()) and not os.environ.get("NO_COLOR")


def level_colour(level: int) -> str | None:
    """The ``click.style`` colour of a log level: errors red, warnings yellow, reports cyan."""
    return next((colour for floor, colour in LEVEL_COLOURS if level >= floor), None)


class ColourFormatter(logging.Formatter):
    """Formats with the handler's own formatter, then colours the line by its level."""

    def __init__(self, inner: logging.Formatter | None, colour: bool) -> None:
        super().__init__()
        self.inner = inner or logging.Formatter()
        self.colour = colour

    def format(self, record: logging.LogRecord) -> str:
        text = self.inner.format(record)
        colour = level_colour(record.levelno) if self.colour else None
        return click.style(text, fg=colour) if colour else text


class QuietReports(logging.Filter):
    """Lets warnings and errors through; AiiDA's report and info lines stay in the database
    (``verdi process report PK`` shows them) instead of on the console."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno >= logging.WARNING


def console_handlers() -> list[logging.StreamHandler[TextIO]]:
    """AiiDA's console handlers (plain stream handlers of the ``aiida`` logger)."""
    return [
        handler
        for handler in logging.getLogger("aiida").handlers
        if type(handler) is logging.StreamHandler
    ]


@contextmanager
def styled_console(verbose: bool) -> Iterator[None]:
    """Within the block, AiiDA's console lines are coloured (when :func:`use_colour`) and,
    unless ``verbose``, only warnings and errors are shown. Restored afterwards."""
    handlers = console_handlers()
    saved = [handler.formatter for handler in handlers]
    quiet = QuietReports()
    for handler in handlers:
        handler.setFormatter(ColourFormatter(handler.formatter, use_colour(handler.stream)))
        if not verbose:
            handler.addFilter(quiet)
    try:
        yield
    finally:
        for handler, formatter in zip(handlers, saved, strict=True):
            handler.setFormatter(formatter)
            handler.removeFilter(quiet)


def verbose_option(function: click.decorators.FC) -> click.decorators.FC:
    """``-v/--verbose``: print AiiDA's report line of every step above the progress view."""
    return click.option(
        "-v",
        "--verbose",
        is_flag=True,
        help="Show AiiDA's report lines of every step (default: the progress view, "
        "warnings and errors only).",
    )(function)
