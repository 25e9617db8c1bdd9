"""Live progress view and ``aiida-janus status`` tree on a study recorded with mock codes.

The study is ``janus.bulk_reference`` on zinc-blende CdS (the mock pw.x replays a real QE
6.7 vc-relax, as in tests/workflows/workchains/test_interface.py): small, but it nests
three workflow levels over a CalcJob. References: the process list that
:func:`workflows.provenance.process_status.workflow_status` walks on its own (same
processes, same states); a recorded real MD output (its ``Entering Dynamics`` lines).
"""

from __future__ import annotations

import io
import shutil
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from click.testing import CliRunner

from tests.workflows.workchains.test_interface import SERIAL, TINY_BULK
from workflows.cli.main import cli
from workflows.cli.progress import (
    ProgressPrinter,
    job_activity,
    progress_line,
    run_with_progress,
    study_progress,
)
from workflows.provenance.status_tree import ProcessRow, status_tree

if TYPE_CHECKING:
    from aiida.orm import InstalledCode
    from aiida_pseudo.groups.family import CutoffsPseudoPotentialFamily

MD_OUTPUT = Path(__file__).parents[2] / "fixtures" / "qe67_md_cds_fixed" / "fixed.out"
_RUN: dict[str, Any] = {}


@pytest.fixture
def bulk_study(
    mock_code: Callable[..., InstalledCode],
    pseudo_family: Callable[[str], CutoffsPseudoPotentialFamily],
) -> tuple[int, str]:
    """(PK, progress output) of janus.bulk_reference run through ``run_with_progress``
    with a 0.2 s poll into a non-terminal stream; run once per test session."""
    from aiida.common.exceptions import NotExistent
    from aiida.orm import load_node

    from workflows.workchains.bulk_reference import BulkReferenceWorkChain

    if "pk" in _RUN:
        try:
            load_node(_RUN["pk"])
            return _RUN["pk"], _RUN["output"]
        except NotExistent:
            _RUN.clear()
    pseudo_family("nc")
    builder = BulkReferenceWorkChain.get_builder_from_protocol(
        mock_code("pw.x"),
        "CdS",
        "zincblende",
        protocol="fast",
        overrides={
            "pseudo_flavour": "nc",
            "relax": {"base_relax": TINY_BULK, "meta_convergence": False},
        },
        options=SERIAL,
    )
    stream = io.StringIO()
    node = run_with_progress(builder, stream=stream, poll_s=0.2)
    assert node.is_finished_ok, node.exit_status
    _RUN.update(pk=node.pk, output=stream.getvalue())
    return node.pk, stream.getvalue()


def test_plain_progress_lines_while_the_study_runs(bulk_study: tuple[int, str]) -> None:
    """Not a terminal: whole lines only (no carriage return, no escape codes), polled
    while the study ran (a line shows its CalcJob), and a last line with all steps done."""
    pk, output = bulk_study
    assert "\r" not in output
    assert "\x1b" not in output
    lines = output.splitlines()
    assert len(lines) >= 2, output
    assert all(line.startswith(f"study <{pk}> ") for line in lines)
    assert any("PwCalculation<" in line for line in lines), output
    last = lines[-1]
    assert last.startswith(f"study <{pk}> finished: ")
    done, total = last.split(": ", 1)[1].split(" steps", 1)[0].split("/")
    assert done == total
    assert "left" not in last, "no estimate for a workflow that is not a janus study"


def test_progress_of_the_finished_study_renders(bulk_study: tuple[int, str]) -> None:
    from workflows.provenance.process_status import workflow_status

    pk, _ = bulk_study
    progress = study_progress(pk)
    direct = [step for step in workflow_status(pk) if step.depth == 0 and step.call_path]
    assert (progress.steps_done, progress.steps_total) == (len(direct), len(direct))
    assert progress.running == ()
    assert progress.remaining_s is None
    assert progress_line(progress).startswith(f"study <{pk}> finished: ")


def test_terminal_printer_redraws_one_line_and_keeps_the_last() -> None:
    stream = io.StringIO()
    printer = ProgressPrinter(stream, tty=True)
    printer.show("first")
    printer.show("second")
    printer.close("done")
    assert stream.getvalue() == "first\r\x1b[Ksecond\r\x1b[Kdone\n"


def test_running_job_shows_its_md_step(tmp_path: Path) -> None:
    """The job's aiida.out is a recorded real MD output: its step count is the last
    ``Entering Dynamics`` line."""
    shutil.copy(MD_OUTPUT, tmp_path / "aiida.out")
    steps = MD_OUTPUT.read_text().count("Entering Dynamics:")
    assert job_activity(tmp_path).startswith(f"MD step {steps}, SCF it ")
    assert job_activity(tmp_path / "nothing") == ""


def test_job_activity_of_a_snapshot_batch_names_its_newest_frame(tmp_path: Path) -> None:
    """A batch job writes frame_NNNN.out per frame and no aiida.out: the newest frame is
    named with its pw.x counters (reference: the recorded MD output's last lines)."""
    from workflows.calculations.snapshot_batch_remote import frame_name

    (tmp_path / f"{frame_name(2)}.out").write_text("     iteration #  9\n")
    shutil.copy(MD_OUTPUT, tmp_path / f"{frame_name(3)}.out")
    steps = MD_OUTPUT.read_text().count("Entering Dynamics:")
    assert job_activity(tmp_path).startswith(f"frame_0003, MD step {steps}, SCF it ")
    (tmp_path / f"{frame_name(4)}.out").write_text("")
    assert job_activity(tmp_path) == "frame_0004"
    (tmp_path / f"{frame_name(10000)}.out").write_text("")  # five digits: still the newest
    assert job_activity(tmp_path) == "frame_10000"


def test_status_draws_the_tree_like_verdi(bulk_study: tuple[int, str]) -> None:
    from workflows.provenance.process_status import workflow_status

    pk, _ = bulk_study
    expected = workflow_status(pk)
    lines = status_tree(pk)
    drawn = {int(line.split()[0]): line for line in lines}
    assert sorted(drawn) == sorted(step.pk for step in expected), "the same processes"
    for step in expected:
        assert f" {step.state}" in drawn[step.pk], "the same states"
    root, *children = lines
    assert "BulkReferenceWorkChain finished [0]" in root
    assert all(("├── " in line) or ("└── " in line) for line in children)
    assert "└── " in children[-1]
    calc = next(line for line in lines if "PwCalculation" in line)
    base = next(line for line in lines if "<PwBaseWorkChain>" in line)
    assert calc.index("PwCalculation") > base.index("PwBaseWorkChain"), "nested deeper"
    assert "finished [0]" in calc
    assert " job " in calc
    result = CliRunner().invoke(cli, ["status", str(pk)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == lines


def test_elapsed_of_a_row_runs_to_now_until_it_terminates() -> None:
    start = datetime(2026, 12, 5, 6, 0, tzinfo=timezone.utc)
    end = datetime(2026, 12, 5, 6, 3, tzinfo=timezone.utc)
    now = datetime(2026, 12, 5, 6, 10, tzinfo=timezone.utc)
    row = ProcessRow(1, None, "", "process.workflow.", "W", "waiting", None, start, end)
    assert row.elapsed_seconds(now) == 600.0
    done = ProcessRow(1, None, "", "process.workflow.", "W", "finished", 0, start, end)
    assert done.elapsed_seconds(now) == 180.0


def _child(label: str, state: str, start: datetime) -> ProcessRow:
    return ProcessRow(2, 1, label, "process.workflow.", "W", state, None, start, start)


def test_time_left_counts_unfinished_steps_minus_time_spent() -> None:
    """Bulk done, interface started 60 s ago: left = interface − 60 s + every later step;
    a step of two calls (bulk) is done only when both finished."""
    from workflows.cli.progress import _remaining, _steps_done

    start = datetime(2026, 12, 5, 6, 0, tzinfo=timezone.utc)
    now = datetime(2026, 12, 5, 6, 1, tzinfo=timezone.utc)
    estimates = {"bulk": 700.0, "interface": 100.0, "aimd": 600.0}
    children = [
        _child("perovskite_bulk", "finished", start),
        _child("chalcogenide_bulk", "finished", start),
        _child("interface", "waiting", start),
    ]
    assert _remaining(children, estimates, now) == pytest.approx((40.0 + 600.0, 0.0))
    assert _steps_done(children, tuple(estimates)) == (1, 3)
    assert _steps_done(children[1:], tuple(estimates)) == (0, 3)


def test_an_overrun_estimate_says_by_how_much_not_zero_left() -> None:
    """The 0.12 demo's NA snapshots ran 7 min past their estimate while the line said
    "~0:00 left". Interface estimated 100 s, running for 160 s, nothing after it: the
    line says "1:00 over"; within the estimate it still counts down. Reference: the
    clock arithmetic by hand."""
    from workflows.cli.progress import StudyProgress, _remaining, progress_line

    start = datetime(2026, 12, 5, 6, 0, tzinfo=timezone.utc)
    late = datetime(2026, 12, 5, 6, 2, 40, tzinfo=timezone.utc)
    children = [_child("interface", "waiting", start)]
    left, over = _remaining(children, {"interface": 100.0}, late)
    assert (left, over) == (0.0, 60.0)
    line = progress_line(StudyProgress(7, "waiting", 0, 1, (), 160.0, left, over))
    assert "1:00 over the cost model's estimate" in line
    assert "left" not in line
    counting = progress_line(StudyProgress(7, "waiting", 0, 1, (), 40.0, 60.0, 0.0))
    assert "~1:00 left (cost model)" in counting


def test_pipeline_estimates_are_the_plan_at_two_cores(study_codes: dict[str, Any]) -> None:
    """The progress view's per-step estimates are ``aiida-janus plan``'s wall times."""
    from aiida.orm import List

    from heterostructures.structure.study_cost import study_cost
    from workflows.cli.progress import study_estimates
    from workflows.inputs.study_size import study_size
    from workflows.workchains.pipeline import PipelineWorkChain

    builder = PipelineWorkChain.get_builder_from_protocol(study_codes, protocol="fast")
    builder.skip = List(["aimd", "na"])
    estimates, lower_bound = study_estimates(builder)
    plan = {e.step: e.wall_seconds(2) for e in study_cost(study_size("fast", "CsPbBr3", "CdS"))}
    assert estimates == {step: plan[step] for step in plan if step not in ("aimd", "na")}
    assert lower_bound is False


@pytest.mark.usefixtures("cli_codes")
def test_estimates_use_the_lattice_constants_given(tmp_path: Path) -> None:
    """CdTe has no tabulated lattice: with ``--chalcogenide-a 6.48`` the estimate is the
    plan of ``aiida-janus plan --chalcogenide CdTe --chalcogenide-a 6.48`` (it was skipped:
    the lattices did not reach the cost model), for the built and a given interface."""
    from heterostructures.structure.study_cost import study_cost
    from tests.workflows.cli.conftest import write_structure_files
    from workflows.cli.progress import study_estimates
    from workflows.cli.study import build_study
    from workflows.inputs.study_size import study_size

    size = study_size("fast", "CsPbBr3", "CdTe", {"chalcogenide_a": 6.48})
    plan = {e.step: e.wall_seconds(2) for e in study_cost(size)}
    base = ("CsPbBr3", "CdTe", "fast", "badinput", None, (), None)
    built = build_study(*base, chalcogenide_a=6.48).builder
    # Te's cutoff floor (40 Ry) raises fast's 30 Ry, so CdTe is not the measured case:
    # its times are lower bounds (workflows/inputs/cutoff_floors.py)
    assert study_estimates(built) == (plan, True)
    write_structure_files(tmp_path)
    cds = build_study(
        "CsPbBr3", "CdS", "fast", "badinput", None, (), None,
        structure=tmp_path / "interface.extxyz", chalcogenide_a=5.9,
    ).builder  # fmt: skip
    cds_size = study_size("fast", "CsPbBr3", "CdS", {"chalcogenide_a": 5.9})
    assert study_estimates(cds)[0] == {e.step: e.wall_seconds(2) for e in study_cost(cds_size)}
