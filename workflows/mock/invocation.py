"""How a QE executable was invoked: where its input comes from, where its output goes.

pw.x is run by aiida-quantumespresso as ``pw.x -in aiida.in > aiida.out``; the
namelist codes (projwfc.x, pp.x, dos.x) as ``code.x < aiida.in > aiida.out``. The mock
accepts both: an ``-in``/``-inp``/``-input``/``-i`` argument names the input file, else
the input is read from stdin. Files our stdin/stdout/stderr are redirected from/to are
found by inode, so they are neither hashed as parents nor recorded as outputs.
"""

from __future__ import annotations

import itertools
import os
import sys
from dataclasses import dataclass
from pathlib import Path

INPUT_FLAGS = ("-in", "-inp", "-input", "-i")


class InvocationError(ValueError):
    """The mock was called in a way that gives it no input to hash."""


@dataclass(frozen=True)
class Invocation:
    """One call of a code: its name, arguments, working directory and input text."""

    code: str
    arguments: tuple[str, ...]
    workdir: Path
    input_text: str
    input_from_stdin: bool
    redirected_files: tuple[Path, ...]

    def shell_command(self, program: str) -> str:
        """The command line that reproduces this call with ``program`` in place of the code."""
        words = [program, *self.arguments]
        line = " ".join(words)
        stdin_file = _redirect_target(0, self.workdir)
        stdout_file = _redirect_target(1, self.workdir)
        if self.input_from_stdin:
            line += f" < {stdin_file.name if stdin_file else 'INPUT_FILE'}"
        if stdout_file is not None:
            line += f" > {stdout_file.name}"
        return line


def _redirect_target(descriptor: int, workdir: Path) -> Path | None:
    """The file in ``workdir`` (top level) that a standard stream is redirected to/from."""
    try:
        stat = os.fstat(descriptor)
    except OSError:
        return None
    for path in workdir.iterdir():
        try:
            candidate = path.stat()
        except OSError:
            continue
        if path.is_file() and (candidate.st_dev, candidate.st_ino) == (stat.st_dev, stat.st_ino):
            return path
    return None


def input_file_argument(arguments: tuple[str, ...]) -> str | None:
    """The input file named on the command line, if any."""
    for flag, value in itertools.pairwise(arguments):
        if flag in INPUT_FLAGS:
            return value
    return None


def read_invocation(code: str, arguments: tuple[str, ...], workdir: Path) -> Invocation:
    """Collect everything the mock needs to know about this call."""
    redirected = [_redirect_target(descriptor, workdir) for descriptor in (0, 1, 2)]
    input_name = input_file_argument(arguments)
    if input_name is not None:
        input_path = workdir / input_name
        if not input_path.is_file():
            raise InvocationError(f"{code}: input file {input_path} named by -in does not exist")
        text, from_stdin = input_path.read_text(), False
        redirected.append(input_path)
    elif sys.stdin is None or sys.stdin.isatty():
        raise InvocationError(f"{code}: no input: pass -in FILE or redirect the input to stdin")
    else:
        text, from_stdin = sys.stdin.read(), True
    files = tuple(path for path in redirected if path is not None)
    return Invocation(code, arguments, workdir, text, from_stdin, files)
