"""``run``/``submit`` with ``--dry-run``, ``--relation`` and ``--max-strain`` (issue 22, 23)."""

from __future__ import annotations

from typing import Any

import click
import pytest

from workflows.cli.study import echo_dry_run, interface_overrides


def _node_count() -> int:
    from aiida import orm

    return orm.QueryBuilder().append(orm.Node).count()


def test_dry_run_checks_the_inputs_and_stores_nothing(
    study_codes: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    """Reference: the workchain's own input validation (as at launch) and the profile's
    node count before and after. The paper's relation and the strain bound reach the
    interface spec the pipeline builds at run time."""
    from workflows.workchains.pipeline import PipelineWorkChain

    before = _node_count()
    overrides = interface_overrides("paper", 3.0)
    builder = PipelineWorkChain.get_builder_from_protocol(
        study_codes, "CsPbBr3", "CdS", "fast", overrides=overrides
    )
    spec = builder.interface.interface.get_dict()
    assert (spec["relation"], spec["max_strain_percent"]) == ("paper", 3.0)
    settings = {
        "perovskite": "CsPbBr3",
        "chalcogenide": "CdS",
        "protocol": "fast",
        "computer_label": "localhost",
        "skip": ("aimd",),
    }
    echo_dry_run(builder, settings)
    out = capsys.readouterr().out
    assert "steps: bulk, interface, electronic, alignment, charge_densities, na" in out
    assert "nothing stored" in out
    assert _node_count() == before


def test_no_interface_options_means_no_overrides() -> None:
    """The strain bound reaches the interface and the alignment series' models, which are
    built on the same in-plane cell (as the lattice constants do); the relation only the
    interface (the series' models keep their periodic superlattices)."""
    assert interface_overrides(None, None) == {}
    assert interface_overrides(None, 2.0) == {
        "interface": {"interface": {"max_strain_percent": 2.0}},
        "alignment": {"interface": {"max_strain_percent": 2.0}},
    }
    assert interface_overrides("paper", None) == {"interface": {"interface": {"relation": "paper"}}}


def test_an_invalid_builder_is_one_line_naming_the_problem(study_codes: dict[str, Any]) -> None:
    """A builder missing a required input: the message comes from AiiDA's own validation."""
    from workflows.workchains.pipeline import PipelineWorkChain

    builder = PipelineWorkChain.get_builder_from_protocol(study_codes, "CsPbBr3", "CdS", "fast")
    del builder.perovskite
    settings = {"perovskite": "x", "chalcogenide": "y", "protocol": "fast", "computer_label": "c"}
    with pytest.raises(click.ClickException, match="not valid"):
        echo_dry_run(builder, settings)


@pytest.mark.usefixtures("cli_codes")
@pytest.mark.parametrize("protocol", ["balanced", "stringent"])
def test_capped_dry_run_checks_the_inputs(protocol: str) -> None:
    """``--capped`` (workflows/inputs/capped.py) builds valid inputs for the cluster
    protocols and stores nothing (node count, in ``_dry_run``)."""
    from tests.workflows.cli.test_study_options import _dry_run

    output = _dry_run(f"run --protocol {protocol} --capped --ranks 2 --dry-run --computer badinput")
    assert f"protocol {protocol} (capped)" in output
