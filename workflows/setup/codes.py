"""Register AiiDA computers and codes from the YAML files in ``profiles/``.

Set-up is data: a computer or code is described once in YAML (``profiles/computer-*.yaml``,
``profiles/code-*.yaml``) and registered idempotently, so ``aiida-janus setup`` can run
again without duplicating anything, and a cluster is one more YAML file.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from workflows.setup.paths import PROFILES_DIR, work_dir

if TYPE_CHECKING:
    from aiida.orm import Computer, InstalledCode

COMPUTER_FIELDS = {"label", "hostname", "transport", "scheduler", "work_dir", "mpirun_command"}
CODE_FIELDS = {"label", "executable", "default_calc_job_plugin"}
_PLACEHOLDER = re.compile(r"<[^<>]+>")
ROOT_MPI_ENV = "export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1\n"


class SetupSpecError(ValueError):
    """A computer/code YAML file is incomplete or inconsistent."""


def load_spec(path: Path, required: set[str]) -> dict[str, Any]:
    """Read a YAML spec, expand ``{work_dir}``/``{nproc}`` and check required fields."""
    if not path.exists():
        raise SetupSpecError(f"{path} does not exist: give the path of a computer/code YAML file")
    spec = yaml.safe_load(path.read_text()) or {}
    if not isinstance(spec, dict):
        raise SetupSpecError(f"{path}: expected a mapping of fields, got {type(spec).__name__}")
    missing = sorted(required - set(spec))
    if missing:
        raise SetupSpecError(f"{path}: missing required fields {missing}")
    unfilled = sorted(k for k, v in spec.items() if isinstance(v, str) and _PLACEHOLDER.search(v))
    if unfilled:
        raise SetupSpecError(f"{path}: fill in the <...> placeholders of fields {unfilled}")
    substitutions = {"work_dir": str(work_dir()), "nproc": str(os.cpu_count() or 1)}
    for key, value in spec.items():
        if isinstance(value, str) and key != "mpirun_command":
            spec[key] = value.replace("{work_dir}", substitutions["work_dir"]).replace(
                "{nproc}", substitutions["nproc"]
            )
    return spec


def register_computer(path: Path) -> Computer:
    """Create (or return the existing) computer described by a YAML file, configured."""
    from aiida.common.exceptions import NotExistent
    from aiida.orm import Computer, User, load_computer

    spec = load_spec(path, COMPUTER_FIELDS)
    try:
        computer = load_computer(spec["label"])
    except NotExistent:
        prepend = spec.get("prepend_text", "")
        if os.geteuid() == 0 and "mpirun" in spec["mpirun_command"]:
            prepend = ROOT_MPI_ENV + prepend
        computer = Computer(
            label=spec["label"],
            hostname=spec["hostname"],
            description=spec.get("description", ""),
            transport_type=spec["transport"],
            scheduler_type=spec["scheduler"],
            workdir=spec["work_dir"],
        )
        computer.set_mpirun_command(spec["mpirun_command"].split())
        computer.set_shebang(spec.get("shebang", "#!/bin/bash"))
        computer.set_prepend_text(prepend)
        computer.set_default_mpiprocs_per_machine(int(spec.get("mpiprocs_per_machine", 1)))
        computer.store()
    user = User.collection.get_default()
    if user is None:
        raise SetupSpecError("the AiiDA profile has no default user: run `aiida-janus setup`")
    if not computer.is_user_configured(user):
        computer.configure(**spec.get("configure", {}))
        computer.set_minimum_job_poll_interval(1.0)
    return computer


def resolve_executable(executable: str, spec_dir: str | None) -> str:
    """Absolute path of an executable: ``spec_dir`` when given, else found on PATH."""
    if spec_dir:
        return str(Path(spec_dir) / executable)
    found = shutil.which(executable)
    if found is None:
        raise SetupSpecError(
            f"{executable} not found on PATH: install Quantum ESPRESSO "
            "(`apt-get install quantum-espresso`, or `aiida-janus setup` as root)"
        )
    return found


def ensure_code(computer: Computer, label: str, executable: str, **options: Any) -> InstalledCode:
    """Return code ``<label>@<computer>``, creating it (``InstalledCode`` options) if absent."""
    from aiida.common.exceptions import NotExistent
    from aiida.orm import InstalledCode, load_code

    try:
        existing = load_code(f"{label}@{computer.label}")
    except NotExistent:
        existing = None
    if isinstance(existing, InstalledCode):
        return existing
    code = InstalledCode(computer=computer, filepath_executable=executable, label=label, **options)
    code.store()
    return code


def register_code(
    path: Path, computer: Computer, executable_dir: str | None = None
) -> InstalledCode:
    """Create (or return the existing) code ``<label>@<computer>`` from a YAML file."""
    spec = load_spec(path, CODE_FIELDS)
    return ensure_code(
        computer,
        spec["label"],
        resolve_executable(spec["executable"], executable_dir),
        description=spec.get("description", ""),
        default_calc_job_plugin=spec["default_calc_job_plugin"],
        with_mpi=bool(spec.get("with_mpi", True)),
        prepend_text=spec.get("prepend_text", ""),
    )


def register_computer_and_codes(computer_yaml: Path) -> dict[str, InstalledCode]:
    """Register a computer and every ``profiles/code-*.yaml`` on it; codes keyed by label."""
    computer = register_computer(computer_yaml)
    executable_dir = load_spec(computer_yaml, COMPUTER_FIELDS).get("codes_executable_dir")
    codes = {}
    for code_yaml in sorted(PROFILES_DIR.glob("code-*.yaml")):
        code = register_code(code_yaml, computer, executable_dir)
        codes[code.label] = code
    return codes
