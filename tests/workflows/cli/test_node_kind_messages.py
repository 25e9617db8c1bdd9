"""Messages name what a node is by its entry point or with the right article (issue 23:
``query diff 636 648`` said "<636> is a AlignmentSeriesWorkChain and <648> a
ElectronicWorkChain").

Reference: the entry-point names users meet in ``aiida-janus query studies`` and
``verdi plugin list`` (``janus.alignment``, ``janus.electronic``) and English articles.
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from click.testing import CliRunner

from workflows.cli.main import cli
from workflows.provenance.node_names import article, node_kind


@pytest.mark.parametrize(
    ("word", "expected"),
    [("Int", "an"), ("ArrayData", "an"), ("Orbital", "an"), ("Dict", "a"), ("UpfData", "a")],
)
def test_article_follows_the_first_sound(word: str, expected: str) -> None:
    assert article(word) == expected


def test_node_kind_prefers_the_entry_point() -> None:
    study = SimpleNamespace(
        process_type="aiida.workflows:janus.alignment", process_label="AlignmentSeriesWorkChain"
    )
    assert node_kind(study) == "janus.alignment"
    loose = SimpleNamespace(process_type="tests.module.OwnWorkChain", process_label="OwnWorkChain")
    assert node_kind(loose) == "an OwnWorkChain"
    assert node_kind(SimpleNamespace()) == "a SimpleNamespace"


def _study(entry_point: str) -> int:
    """A stored, running workflow node of the janus entry point ``entry_point``."""
    from aiida.orm import WorkflowNode
    from plumpy import ProcessState

    node = WorkflowNode()
    node.set_process_type(f"aiida.workflows:{entry_point}")
    node.set_process_state(ProcessState.RUNNING)
    node.store()
    assert node.pk is not None
    return node.pk


@pytest.mark.usefixtures("aiida_profile")
def test_query_diff_of_two_kinds_names_their_entry_points() -> None:
    first, second = _study("janus.alignment"), _study("janus.electronic")
    result = CliRunner().invoke(cli, ["query", "diff", str(first), str(second)])
    assert result.exit_code == 2, result.output
    errors = [line for line in result.output.splitlines() if line.startswith("Error:")]
    assert errors == [
        f"Error: <{first}> is janus.alignment and <{second}> janus.electronic: `query diff` "
        "compares two studies of one kind"
    ]


@pytest.mark.usefixtures("aiida_profile")
def test_a_data_node_is_named_with_its_article() -> None:
    from aiida.orm import Int

    data = Int(7).store()
    result = CliRunner().invoke(cli, ["query", "calcs", str(data.pk)])
    assert f"<{data.pk}> is an Int, not a workflow" in result.output, result.output
