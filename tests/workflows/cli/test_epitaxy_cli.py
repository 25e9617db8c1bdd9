"""``aiida-janus epitaxy --quoted-mismatch``: a quoted figure is tested, not explained away."""

from __future__ import annotations

from click.testing import CliRunner

from workflows.cli.main import cli


def test_quoted_zns_mismatch_is_reported_with_the_search_size() -> None:
    """Reference: :func:`heterostructures.reflections.check_quoted_mismatch` (tested against
    pymatgen there); the command must print its verdict and how many pairs it searched."""
    result = CliRunner().invoke(
        cli, ["epitaxy", "--chalcogenide", "ZnS", "--quoted-mismatch", "4.2"]
    )
    assert result.exit_code == 0, result.output
    assert "d{220} pseudo-cubic" in result.output
    assert "no {220}-type pair is within 4.2 ± 0.3 %" in result.output
    assert "pairs; " in result.output
    assert "a hit is no evidence" in result.output
