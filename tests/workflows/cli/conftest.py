"""Fixtures of the CLI tests: mock codes on a computer of their own, interface files."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from aiida.orm import Computer
    from aiida_pseudo.groups.family import CutoffsPseudoPotentialFamily
    from ase import Atoms

SMALL_MODEL = {"model": "demo", "periodic": True, "perovskite_planes": 3, "chalcogenide_planes": 2}
"""The 13-atom CsPbBr3/CdS superlattice of the fast protocol (labels set by the builder)."""


@pytest.fixture
def cli_codes(
    localhost: Computer,
    pseudo_family: Callable[[str], CutoffsPseudoPotentialFamily],
    janus_test_dir: Path,
) -> None:
    """Mock codes as pw/projwfc/pp@badinput (a computer of their own: other tests look
    for real codes on ``localhost``), a second pw code ``pw-other@badinput``, a code of
    another plugin ``add@badinput``; both pseudo families."""
    from aiida.common.exceptions import NotExistent
    from aiida.orm import Computer, InstalledCode, load_code, load_computer

    from workflows.mock.codes import register_mock_code

    try:
        computer = load_computer("badinput")
    except NotExistent:
        computer = Computer(
            label="badinput",
            hostname="localhost",
            transport_type="core.local",
            scheduler_type="core.direct",
            workdir=localhost.get_workdir(),
        ).store()
        computer.set_default_mpiprocs_per_machine(1)
        computer.configure()
    for name in ("pw", "projwfc", "pp"):
        register_mock_code(f"{name}.x", computer, janus_test_dir / "bin" / "cli", label=name)
    register_mock_code("pw.x", computer, janus_test_dir / "bin" / "cli", label="pw-other")
    try:
        load_code("add@badinput")
    except NotExistent:
        InstalledCode(
            computer=computer,
            filepath_executable="/bin/true",
            label="add",
            default_calc_job_plugin="core.arithmetic.add",
        ).store()
    pseudo_family("paw")
    pseudo_family("nc")


_MODEL: dict[str, Atoms] = {}


def small_interface() -> Atoms:
    """The labelled 13-atom model (built once per session)."""
    if "atoms" not in _MODEL:
        from heterostructures.structure.interface_spec import build_from_spec

        _MODEL["atoms"] = build_from_spec(SMALL_MODEL, {}).atoms
    return _MODEL["atoms"].copy()


def write_structure_files(folder: Path) -> None:
    """``interface.extxyz`` (with labels, as ``aiida-janus build`` writes it),
    ``plain.cif`` (the same atoms without labels) and ``thin.extxyz`` (one CdS plane) in
    ``folder``."""
    from ase.io import write

    from heterostructures.structure.interface_spec import build_from_spec

    thin = build_from_spec({**SMALL_MODEL, "chalcogenide_planes": 1}, {}).atoms
    write(folder / "thin.extxyz", thin, format="extxyz")

    atoms = small_interface()
    write(folder / "interface.extxyz", atoms, format="extxyz")
    plain = atoms.copy()
    for name in ("domain", "layer", "fixed"):
        del plain.arrays[name]
    write(folder / "plain.cif", plain, format="cif")
