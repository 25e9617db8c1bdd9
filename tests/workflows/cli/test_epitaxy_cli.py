"""``aiida-janus epitaxy --quoted-mismatch``: a quoted figure is tested, not explained away."""

from __future__ import annotations

import numpy as np
import pytest
from click.testing import CliRunner

import heterostructures.structure.reflections
from heterostructures.structure.errors import UnknownPhaseError
from workflows.cli.main import cli


def test_quoted_zns_mismatch_is_reported_with_the_search_size() -> None:
    """Reference: :func:`heterostructures.structure.reflections.check_quoted_mismatch` (tested
    against
    pymatgen there); the command must print its verdict and how many pairs it searched."""
    result = CliRunner().invoke(
        cli, ["epitaxy", "--chalcogenide", "ZnS", "--quoted-mismatch", "4.2"]
    )
    assert result.exit_code == 0, result.output
    assert "d{220} pseudo-cubic" in result.output
    assert "no {220}-type pair is within 4.2 ± 0.3 %" in result.output
    assert "pairs; " in result.output
    assert "a hit is no evidence" in result.output


def test_quoted_mismatch_uses_the_given_lattice_constants() -> None:
    """Reference: closed form d{220} = a/√8 for the a_pc and zinc-blende a given on the
    command line (6.0 Å → 2.1213 Å, 5.5 Å → 1.9445 Å); the old command used the defaults."""
    result = CliRunner().invoke(
        cli,
        [
            "epitaxy",
            "--chalcogenide",
            "ZnS",
            "--perovskite-a",
            "6.0",
            "--chalcogenide-a",
            "5.5",
            "--quoted-mismatch",
            "4.2",
        ],
    )
    assert result.exit_code == 0, result.output
    check_text = result.output.split("Quoted |mismatch|")[1]
    assert f"pseudo-cubic (220) {6.0 / np.sqrt(8):.4f} Å" in check_text
    assert f"zinc blende (220) {5.5 / np.sqrt(8):.4f} Å" in check_text
    assert "a_pc = 6.0000 Å, zinc blende a = 5.5000 Å" in check_text


def test_a_failing_check_still_prints_the_epitaxy_report(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Reference: the command's contract: the report does not depend on the check, so an
    error in the check is reported after it (the old command printed neither)."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise UnknownPhaseError("no default lattice for the check")

    monkeypatch.setattr(heterostructures.structure.reflections, "check_quoted_mismatch", refuse)
    result = CliRunner().invoke(cli, ["epitaxy", "--quoted-mismatch", "4.2"])
    assert result.exit_code == 1
    assert "d{220} pseudo-cubic" in result.output
    assert "Error: no default lattice for the check" in result.output
