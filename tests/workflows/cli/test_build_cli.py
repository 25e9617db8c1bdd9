"""``aiida-janus build`` on every pair (coincidence cells, refusals, the paper's relation)
and ``aiida-janus epitaxy --all``."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from heterostructures.structure.coincidence import coincidence_candidates
from heterostructures.structure.interface import InterfaceSpec
from heterostructures.structure.report import read_interface
from workflows.cli.main import cli

FAST = ["--periodic", "--perovskite-planes", "3", "--chalcogenide-planes", "2"]


@pytest.mark.parametrize(
    ("perovskite", "chalcogenide"),
    [("CsPbCl3", "CdS"), ("CsPbI3", "CdS"), ("CsPbBr3", "ZnS")],
)
def test_build_picks_a_coincidence_cell_within_the_default_bounds(
    tmp_path: Path, perovskite: str, chalcogenide: str
) -> None:
    """Reference: the files written: the extxyz holds as many atoms as the summary says,
    at most 120 for these 3+2 planes, and the summary names the coincidence cell."""
    result = CliRunner().invoke(
        cli,
        ["build", "--perovskite", perovskite, "--chalcogenide", chalcogenide, *FAST,
         "-o", str(tmp_path)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "coincidence cell (the 1:1 cell exceeds 1 %)" in result.output
    match = re.search(r"atoms: (\d+) ", result.output)
    assert match is not None
    atoms = read_interface(tmp_path / "interface.extxyz")
    assert len(atoms) == int(match.group(1)) <= 120


def test_build_refuses_over_the_atom_cap_with_the_smallest_model(tmp_path: Path) -> None:
    """Reference: :func:`coincidence_candidates` for the demo spec: the refusal names its
    first candidate's atom count and the option that lifts the cap."""
    smallest = coincidence_candidates(InterfaceSpec(chalcogenide="ZnS"))[0].n_atoms
    result = CliRunner().invoke(
        cli, ["build", "--chalcogenide", "ZnS", "--max-atoms", "150", "-o", str(tmp_path)]
    )
    assert result.exit_code == 1
    assert f"has {smallest} atoms > --max-atoms 150" in result.output
    assert f"pass --max-atoms {smallest} or raise --max-strain" in result.output
    off = CliRunner().invoke(
        cli, ["build", "--chalcogenide", "ZnS", "--coincidence", "off", "-o", str(tmp_path)]
    )
    assert off.exit_code == 1
    assert "raise the bound" in off.output


def test_build_paper_relation_prints_atoms_strain_and_cost(tmp_path: Path) -> None:
    """Reference: the hand count of tests/heterostructures/structure/test_paper_model.py (629 atoms)
    and the cost law's measured points."""
    result = CliRunner().invoke(
        cli, ["build", "--relation", "paper", "--periodic", "-o", str(tmp_path)]
    )
    assert result.exit_code == 0, result.output
    assert "atoms: 629 " in result.output
    assert "strain (principal, %" in result.output
    assert "--strain-weight 0.5)" in result.output
    assert "strain_weight" not in result.output
    assert "13 atoms 18 s/23 it, 26 atoms 84 s/29 it, 100 atoms 8040 s/34 it" in result.output
    assert "relaxation (10 ionic steps)" in result.output


def test_epitaxy_all_prints_one_row_per_pair() -> None:
    """Reference: the four pairs of the paper; quoted figures only for the two it quotes."""
    result = CliRunner().invoke(cli, ["epitaxy", "--all"])
    assert result.exit_code == 0, result.output
    rows = [line for line in result.output.splitlines() if line.startswith("| CsPb")]
    assert [row.split("|")[1].strip() for row in rows] == [
        "CsPbBr3/CdS", "CsPbCl3/CdS", "CsPbI3/CdS", "CsPbBr3/ZnS",
    ]  # fmt: skip
    assert "< 1.0 % (Sect. 2.1)" in rows[0]
    assert "13 atoms" in rows[0]
    assert "≈ 4.2 % (Sect. 2.5)" in rows[3]
    assert all("not quoted" in row for row in rows[1:3])
    assert all("coincidence" in row for row in rows[1:])


@pytest.mark.parametrize(
    ("perovskite", "chalcogenide"),
    [("CsPbCl3", "CdS"), ("CsPbI3", "CdS"), ("CsPbBr3", "ZnS")],
)
def test_run_builder_is_made_for_every_pair_on_defaults(
    study_codes: dict[str, Any], perovskite: str, chalcogenide: str
) -> None:
    """Reference: what ``aiida-janus run`` builds (``PipelineWorkChain.
    get_builder_from_protocol``, fast protocol) before it launches anything: the interface
    step and every model of the alignment series build within the default bounds (1 % per
    side, 300 atoms); nothing is run here."""
    from heterostructures.structure.interface_spec import build_from_spec
    from workflows.workchains.pipeline import PipelineWorkChain

    builder = PipelineWorkChain.get_builder_from_protocol(
        study_codes, perovskite, chalcogenide, "fast"
    )
    spec = builder.interface.interface.get_dict()
    assert (spec["perovskite"], spec["chalcogenide"]) == (perovskite, chalcogenide)
    preview = build_from_spec(spec, {})
    assert len(preview.atoms) <= 120
    assert preview.metadata["coincidence"] is not None
    assert builder.alignment.model.interface.get_dict()["periodic"] is True
