"""``run``/``submit`` overrides (issue 23): -X/--code, -F/--pseudo-family, --structure and
lattice constants, each seen in ``--dry-run`` and in the builder it makes.

References: the codes and families themselves (their PKs, the family's own
``get_pseudo``), ``ase.build.bulk`` for the starting cell of a lattice constant, the file
the structure was read from (its sites and labels), and the profile's node count (a dry
run stores nothing).
"""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from tests.workflows.cli.conftest import small_interface, write_structure_files
from workflows.cli.main import cli
from workflows.cli.study import build_study

PAW, NC = "janus/pslibrary-1.0.0/PBE/PAW", "janus/pslibrary-1.0.0/PBE/NC"
BASE = ("CsPbBr3", "CdS", "fast", "badinput", None, (), None)


def _node_count() -> int:
    from aiida.orm import Node, QueryBuilder

    return int(QueryBuilder().append(Node).count())


def _dry_run(command: str) -> str:
    before = _node_count()
    result = CliRunner().invoke(cli, shlex.split(command), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "inputs valid; nothing stored" in result.output
    assert _node_count() == before
    return result.output


@pytest.mark.usefixtures("cli_codes")
def test_code_option_replaces_one_code_by_label_or_pk() -> None:
    """``-X pw-other@badinput`` (or its PK) runs every pw.x step; projwfc/pp stay the
    computer's."""
    from aiida.orm import load_code

    other, projwfc = load_code("pw-other@badinput"), load_code("projwfc@badinput")
    output = _dry_run("run --dry-run --computer badinput -X pw-other@badinput --skip na")
    assert f"pw = pw-other@badinput <{other.pk}>" in output
    assert f"projwfc = projwfc@badinput <{projwfc.pk}>" in output
    study = build_study(*BASE, codes=(("pw", other),))
    builder = study.builder
    assert builder.electronic.scf.pw.code.pk == other.pk
    assert builder.aimd.md.pw.code.pk == other.pk
    assert builder.perovskite_bulk.relax.base_relax.pw.code.pk == other.pk
    assert builder.electronic.projwfc.code.pk == projwfc.pk
    by_pk = _dry_run(f"submit --dry-run --computer badinput -X {other.pk}")
    assert f"pw = pw-other@badinput <{other.pk}>" in by_pk


@pytest.mark.usefixtures("cli_codes")
def test_family_option_replaces_the_family_of_a_flavour_or_all() -> None:
    """Reference: the family's own pseudopotential of each element. Default: PAW for the
    bulk, NC for the fast protocol's interface steps; ``-F NC`` makes the bulk NC too;
    ``-F paw=NC`` the same through the flavour; the dry run names the choice."""
    from aiida.orm import load_group

    paw, nc = load_group(PAW), load_group(NC)
    default = build_study(*BASE).builder
    assert default.perovskite_bulk.relax.base_relax.pw.pseudos["Cs"].pk == paw.get_pseudo("Cs").pk
    for choice in ((None, NC),), (("paw", NC),):
        builder = build_study(*BASE, families=choice).builder
        bulk = builder.chalcogenide_bulk.relax.base_relax.pw
        assert bulk.pseudos["Cd"].pk == nc.get_pseudo("Cd").pk
        assert builder.electronic.scf.pw.pseudos["Cs"].pk == nc.get_pseudo("Cs").pk
    output = _dry_run(f"run --dry-run --computer badinput -F paw={NC}")
    assert f"paw = {NC} (-F), nc = {NC} (protocol)" in output
    skipped = _dry_run(f"run --dry-run --computer badinput -F {PAW} --skip na")
    assert f"paw = {PAW} (-F), nc = {PAW} (-F)" in skipped


@pytest.mark.usefixtures("cli_codes")
def test_chalcogenide_lattice_reaches_bulk_interface_and_series() -> None:
    """CdTe has no tabulated lattice: ``--chalcogenide-a 6.48`` starts the bulk relaxation
    from the primitive zinc-blende cell of ``ase.build.bulk`` with a = 6.48 Å and enters
    the interface and alignment specs."""
    from ase.build import bulk

    study = build_study("CsPbBr3", "CdTe", "fast", "badinput", None, (), None, chalcogenide_a=6.48)
    start = study.builder.chalcogenide_bulk.structure.get_ase()
    reference = bulk("CdTe", "zincblende", a=6.48)
    assert start.get_volume() == pytest.approx(reference.get_volume(), rel=1e-9)
    assert sorted(start.get_chemical_symbols()) == ["Cd", "Te"]
    assert study.builder.interface.interface["chalcogenide_a"] == 6.48
    assert "structure" not in study.builder.perovskite_bulk, "CsPbBr3 keeps its own start"
    output = _dry_run("run --dry-run --computer badinput --chalcogenide CdTe --chalcogenide-a 6.48")
    assert "'chalcogenide': 'CdTe'" in output
    assert "'chalcogenide_a': 6.48" in output


@pytest.mark.usefixtures("cli_codes")
def test_structure_file_skips_the_build_and_feeds_later_steps(tmp_path: Path) -> None:
    """Reference: the written model itself (sites, labels). The later steps are built on
    it, not on the preview of the model the pipeline would build."""
    write_structure_files(tmp_path)
    path = tmp_path / "interface.extxyz"
    atoms = small_interface()
    study = build_study(*BASE, structure=path)
    builder = study.builder
    assert len(builder.structure.sites) == len(atoms)
    assert builder.site_labels["domain"] == [str(d) for d in atoms.arrays["domain"]]
    assert builder.site_labels["layer"] == [int(v) for v in atoms.arrays["layer"]]
    assert "interface" not in builder.interface
    output = _dry_run(f"run --dry-run --computer badinput --structure {path}")
    assert f"structure: {path} ({len(atoms)} atoms, " in output
    steps = next(line for line in output.splitlines() if line.startswith("steps:"))
    assert "bulk" not in steps
    assert "interface" not in steps
    assert "electronic" in steps


def test_dry_run_shows_the_codes_and_families_by_default(cli_codes: Any) -> None:
    output = _dry_run("run --dry-run --computer badinput")
    assert "codes: pw = pw@badinput <" in output
    assert f"pseudopotential families: paw = {PAW} (protocol), nc = {NC} (protocol)" in output
