"""``aiida-janus build --protocol P`` writes the interface ``run --protocol P`` builds
(issue 23: ``build --model demo`` was the 26-atom slab while ``fast`` runs the 13-atom
3+2 superlattice).

References: the interface spec of the pipeline builder ``PipelineWorkChain.
get_builder_from_protocol`` makes (what ``run`` stores and the interface step builds), and
the atom counts ``build --help`` states for each protocol.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from ase.io import read
from click.testing import CliRunner

from workflows.cli.main import cli

HELP_ATOMS = {"fast": 13, "balanced": 26, "stringent": 104}
"""CsPbBr3/CdS atoms per protocol as ``build --help`` states them."""


def _build(tmp_path: Path, *args: str) -> Any:
    result = CliRunner().invoke(cli, ["build", *args, "-o", str(tmp_path)])
    assert result.exit_code == 0, result.output
    return read(tmp_path / "interface.extxyz")


@pytest.mark.parametrize("protocol", sorted(HELP_ATOMS))
def test_protocol_model_has_the_atoms_the_help_states(tmp_path: Path, protocol: str) -> None:
    help_text = " ".join(CliRunner().invoke(cli, ["build", "-h"]).output.split())
    assert f"{protocol} the {HELP_ATOMS[protocol]}-atom" in help_text
    atoms = _build(tmp_path, "--protocol", protocol)
    assert len(atoms) == HELP_ATOMS[protocol]


@pytest.mark.parametrize(("chalcogenide", "extra"), [("CdS", ()), ("CdTe", ("6.48",))])
def test_fast_protocol_model_is_the_pipelines(
    study_codes: dict[str, Any], tmp_path: Path, chalcogenide: str, extra: tuple[str, ...]
) -> None:
    """The written model is the pipeline's interface preview, site by site (CdTe with its
    lattice constant as ``run --chalcogenide-a`` passes it)."""
    from heterostructures.structure.interface_spec import build_from_spec
    from workflows.cli.lattices import lattice_overrides
    from workflows.workchains.pipeline import PipelineWorkChain

    lattice = float(extra[0]) if extra else None
    builder = PipelineWorkChain.get_builder_from_protocol(
        study_codes, "CsPbBr3", chalcogenide, "fast", lattice_overrides(None, lattice)
    )
    expected = build_from_spec(builder.interface.interface.get_dict(), {}).atoms
    options = ("--chalcogenide-a", *extra) if extra else ()
    written = _build(tmp_path, "--protocol", "fast", "--chalcogenide", chalcogenide, *options)
    assert written.get_chemical_symbols() == expected.get_chemical_symbols()
    assert written.cell.array == pytest.approx(expected.cell.array, abs=1e-4)
    assert written.positions == pytest.approx(expected.positions, abs=1e-4)


def test_protocol_and_model_together_are_refused_in_one_line(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli, ["build", "--protocol", "fast", "--model", "demo", "-o", str(tmp_path / "b")]
    )
    assert result.exit_code == 2
    errors = [line for line in result.output.splitlines() if line.startswith("Error:")]
    assert errors == ["Error: --protocol and --model both choose the model: give one"]
    assert not (tmp_path / "b").exists()


def test_without_protocol_build_keeps_its_demo_slab(tmp_path: Path) -> None:
    """Reference: the 26-atom demo slab of ``build --help`` and the README's sample."""
    result = CliRunner().invoke(cli, ["build", "-o", str(tmp_path)])
    assert re.search(r"atoms: 26 ", result.output), result.output
    assert "slab with 12.0 Å vacuum" in result.output
