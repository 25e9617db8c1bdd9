"""``aiida-janus alignment`` takes what ``run``/``submit`` take (issue 23): -X/--code,
-F/--pseudo-family, --perovskite-a/--chalcogenide-a and --max-strain.

References: the codes and families themselves (their PKs, the family's own
``get_pseudo``), and the ``alignment`` namespace of the pipeline built by ``run`` with the
same options (the series must get the overrides the pipeline gives its alignment step).
The builder is caught where the command would launch it, so nothing runs.
"""

from __future__ import annotations

import shlex
from typing import Any

import pytest
from click.testing import CliRunner

from workflows.cli.main import cli
from workflows.cli.study import build_study

PAW, NC = "janus/pslibrary-1.0.0/PBE/PAW", "janus/pslibrary-1.0.0/PBE/NC"


class LaunchedError(Exception):
    """Raised in place of the launch, carrying the builder the command made."""

    def __init__(self, builder: Any) -> None:
        super().__init__("launched")
        self.builder = builder


def _series_builder(command: str, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The janus.alignment builder ``aiida-janus alignment …`` would launch."""

    def launch(builder: Any, daemon: bool) -> Any:
        raise LaunchedError(builder)

    monkeypatch.setattr("workflows.cli.alignment.launch_study", launch)
    result = CliRunner().invoke(cli, ["alignment", *shlex.split(command)])
    assert isinstance(result.exception, LaunchedError), result.output
    return result.exception.builder


@pytest.mark.usefixtures("cli_codes")
def test_lattice_and_strain_reach_the_models_as_in_the_pipeline(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """CdTe has no tabulated lattice: ``--chalcogenide-a 6.48 --max-strain 3`` give the
    series' model spec exactly what ``run`` gives the pipeline's alignment step."""
    command = "--chalcogenide CdTe --chalcogenide-a 6.48 --max-strain 3 --computer badinput"
    series = _series_builder(command, monkeypatch)
    spec = series.model.interface.get_dict()
    assert spec["chalcogenide_a"] == 6.48
    assert spec["max_strain_percent"] == 3.0
    study = build_study(
        "CsPbBr3", "CdTe", "fast", "badinput", None, (), None, max_strain=3.0, chalcogenide_a=6.48
    )
    assert study.builder.alignment.model.interface.get_dict() == spec
    assert study.builder.interface.interface["max_strain_percent"] == 3.0


@pytest.mark.usefixtures("cli_codes")
def test_code_and_family_options_replace_the_computers_and_protocols(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``-X pw-other@badinput`` runs the models' relaxations and SCFs; ``-F PAW`` replaces
    the fast series' NC family (both flavours); projwfc stays the computer's."""
    from aiida.orm import load_code, load_group

    other, projwfc = load_code("pw-other@badinput"), load_code("projwfc@badinput")
    paw, nc = load_group(PAW), load_group(NC)
    default = _series_builder("--computer badinput", monkeypatch)
    assert default.electronic.scf.pw.pseudos["Cs"].pk == nc.get_pseudo("Cs").pk
    series = _series_builder(f"--computer badinput -X pw-other@badinput -F {PAW}", monkeypatch)
    assert series.model.relax.pw.code.pk == other.pk
    assert series.electronic.scf.pw.code.pk == other.pk
    assert series.electronic.projwfc.code.pk == projwfc.pk
    assert series.electronic.scf.pw.pseudos["Cs"].pk == paw.get_pseudo("Cs").pk
    assert series.model.relax.pw.pseudos["Cd"].pk == paw.get_pseudo("Cd").pk
