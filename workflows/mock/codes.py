"""Register mock codes in AiiDA: ordinary ``InstalledCode``s whose executable is a wrapper.

The wrapper (``<bin_dir>/janus-mock-pw.x``) is a two-line shell script that execs
``janus-mock-code --store <store> pw.x "$@"``, so the store path is fixed at set-up and
the calcjob sees an executable like any other. Mock codes are registered **without
MPI** (``with_mpi=False``): launched through mpirun the mock would run once per rank.
A calcjob that forces ``metadata.options.withmpi=True`` on a mock code is refused by
AiiDA with an "Inconsistent requirements" error; set it to ``False`` (or leave it unset)
in tests on mock codes.
"""

from __future__ import annotations

import shlex
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from aiida.orm import Computer, InstalledCode

DEFAULT_STORE = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "mock"
CALC_JOB_PLUGINS = {
    "pw.x": "quantumespresso.pw",
    "projwfc.x": "quantumespresso.projwfc",
    "pp.x": "quantumespresso.pp",
    "dos.x": "quantumespresso.dos",
}


class UnknownCodeError(ValueError):
    """No calcjob plugin is known for this QE executable."""


def calc_job_plugin(code: str) -> str:
    """The aiida-quantumespresso plugin that runs ``code``."""
    try:
        return CALC_JOB_PLUGINS[code]
    except KeyError:
        raise UnknownCodeError(
            f"no calcjob plugin known for {code!r}: choose one of {sorted(CALC_JOB_PLUGINS)} "
            "or add it to workflows.mock.codes.CALC_JOB_PLUGINS"
        ) from None


def mock_program() -> list[str]:
    """The command that starts ``janus-mock-code`` from this Python environment."""
    script = Path(sys.executable).parent / "janus-mock-code"
    if script.is_file():
        return [str(script)]
    return [sys.executable, "-m", "workflows.mock.executable"]


def write_wrapper_script(code: str, bin_dir: Path, store: Path = DEFAULT_STORE) -> Path:
    """Write ``<bin_dir>/janus-mock-<code>`` that replays ``code`` from ``store``."""
    bin_dir.mkdir(parents=True, exist_ok=True)
    wrapper = bin_dir / f"janus-mock-{code}"
    command = [*mock_program(), "--store", str(store.resolve()), code]
    wrapper.write_text(f'#!/bin/sh\nexec {shlex.join(command)} "$@"\n')
    wrapper.chmod(0o755)
    return wrapper


def register_mock_code(
    code: str,
    computer: Computer,
    bin_dir: Path,
    store: Path = DEFAULT_STORE,
    label: str | None = None,
) -> InstalledCode:
    """Store (or reuse) an ``InstalledCode`` ``mock-<code>@<computer>`` replaying from ``store``."""
    from aiida.common.exceptions import NotExistent
    from aiida.orm import InstalledCode, load_code

    plugin = calc_job_plugin(code)
    wrapper = write_wrapper_script(code, bin_dir, store)
    label = label or f"mock-{code}"
    try:
        existing = load_code(f"{label}@{computer.label}")
    except NotExistent:
        existing = None
    if isinstance(existing, InstalledCode) and existing.filepath_executable == wrapper:
        return existing
    if existing is not None:
        raise ValueError(
            f"a code {label}@{computer.label} already exists with another executable: "
            "pass another label"
        )
    mock = InstalledCode(
        computer=computer,
        filepath_executable=str(wrapper),
        label=label,
        description=f"janus mock of {code}: replays recordings from {store}",
        default_calc_job_plugin=plugin,
        with_mpi=False,
    )
    return mock.store()
