"""``aiida-janus plan``: per-step core-hours for each protocol, bad input refused.

Reference: the fast study's measured wall times (docs/measurements.md demo table and
docs/alignment-series.md): 72.0 min on 2 cores = 2.400 core-h; the contract of the CLI
for bad input (one ``Error:`` line naming the option, exit 2, nothing stored, no profile
created).
"""

from __future__ import annotations

import pytest
from click.testing import CliRunner, Result

from workflows.cli.main import cli

STEP_NAMES = ("bulk", "interface", "electronic", "alignment", "charge_densities", "aimd", "na")


def invoke(*args: str) -> Result:
    return CliRunner().invoke(cli, ["plan", *args], catch_exceptions=False)


def rows(output: str) -> dict[str, str]:
    return {
        line.split()[0]: line
        for line in output.splitlines()
        if line.split()[:1] != [] and (line.split()[0] in (*STEP_NAMES, "total"))
    }


def core_hours(row: str) -> float:
    return float(row.split()[1].lstrip("≥"))


def test_fast_plan_is_the_measured_demo() -> None:
    result = invoke("--protocol", "fast", "--cores", "2")
    assert result.exit_code == 0, result.output
    table = rows(result.output)
    assert set(table) == {*STEP_NAMES, "total"}
    assert core_hours(table["total"]) == pytest.approx(2.400, abs=1e-3)
    assert "72.0 min" in table["total"]
    assert core_hours(table["total"]) == pytest.approx(
        sum(core_hours(table[step]) for step in STEP_NAMES), abs=4e-3
    )
    assert "13-atom interface (NC)" in result.output
    assert "docs/measurements.md, demo study 2026-11-26" in result.output
    assert "project machine: 2 cores" in result.output
    assert "≥" not in result.output


@pytest.mark.parametrize(("protocol", "atoms"), [("balanced", 26), ("stringent", 104)])
def test_cluster_plans_are_lower_bounds_on_bigger_models(protocol: str, atoms: int) -> None:
    fast = rows(invoke("--protocol", "fast").output)
    result = invoke("--protocol", protocol, "--cores", "64")
    assert result.exit_code == 0, result.output
    table = rows(result.output)
    assert f"{atoms}-atom interface (PAW)" in result.output
    assert all(table[step].split()[1].startswith("≥") for step in (*STEP_NAMES, "total"))
    assert core_hours(table["aimd"]) > core_hours(fast["aimd"])
    assert core_hours(table["total"]) > 100 * core_hours(fast["total"])
    assert "lower bound" in result.output


@pytest.mark.usefixtures("aiida_profile")
@pytest.mark.parametrize(
    ("args", "option"),
    [
        (("--cores", "0"), "'--cores'"),
        (("--protocol", "huge"), "'--protocol'"),
        (("--perovskite", "CsPbQ3"), "--perovskite"),
    ],
)
def test_bad_input_is_one_line_naming_the_option(args: tuple[str, ...], option: str) -> None:
    from aiida.manage.configuration import get_config
    from aiida.orm import Node, QueryBuilder

    profiles = sorted(get_config().profile_names)
    nodes = QueryBuilder().append(Node).count()
    result = invoke(*args)
    assert result.exit_code == 2, result.output
    errors = [line for line in result.output.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1, result.output
    assert option in errors[0]
    assert "Traceback" not in result.output
    assert QueryBuilder().append(Node).count() == nodes, "nothing stored"
    assert sorted(get_config().profile_names) == profiles, "no profile created"


def test_plan_takes_lattice_constants_like_build() -> None:
    """CdTe has no tabulated lattice: plan asks for --chalcogenide-a (not a Python ``a=``)
    and, given it, prices the model ``aiida-janus build`` makes with the fast protocol's
    spec (reference: ``build --chalcogenide CdTe --chalcogenide-a 6.48 --periodic
    --perovskite-planes 3 --chalcogenide-planes 2`` printed 56 atoms on 2026-12-05)."""
    refused = invoke("--chalcogenide", "CdTe")
    assert refused.exit_code == 2, refused.output
    assert "give it with --chalcogenide-a" in refused.output
    assert "a=" not in refused.output
    result = invoke("--chalcogenide", "CdTe", "--chalcogenide-a", "6.48")
    assert result.exit_code == 0, result.output
    assert "56-atom interface (NC)" in result.output


def test_plan_names_no_python_argument_for_a_model_over_the_cap() -> None:
    result = invoke("--perovskite", "CsPbI3", "--chalcogenide", "ZnS", "--protocol", "stringent")
    assert result.exit_code == 2, result.output
    assert "376 atoms > the atom bound 300" in result.output
    assert "pass `aiida-janus build --max-atoms 376`" in result.output
    assert "max_atoms" not in result.output
    assert "max_strain_percent" not in result.output


def test_plan_error_names_the_pair_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """The library's refusal starts with the pair, which the CLI prefix already names.

    Reference: issue 23 audit ("CsPbI3/ZnS: CsPbI3/ZnS:")."""
    import workflows.inputs.study_size as study_size_module

    def refuse(*args: object) -> None:
        raise ValueError("CsPbI3/ZnS: the smallest coincidence cell has 376 atoms")

    monkeypatch.setattr(study_size_module, "study_size", refuse)
    result = invoke("--perovskite", "CsPbI3", "--chalcogenide", "ZnS")
    assert result.exit_code == 2, result.output
    assert result.output.count("CsPbI3/ZnS") == 1, result.output
    assert "--perovskite/--chalcogenide CsPbI3/ZnS: the smallest" in result.output
