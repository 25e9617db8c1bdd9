"""``benchmarks/faults.py``: junit parsing, records, table assembly, options, ``--list``.

No fault test is run here (each takes minutes of both cores): the junit files and
records are synthetic, and ``--list`` only collects the real fault test files.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.benchmarks.scripts import load_script
from tests.workflows.fault_record import RECORD_DIR_ENV, write_record

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "faults.py"
FAULTS = "tests/workflows/test_faults.py"
SIGKILL = "test_daemon_sigkilled_mid_study_resumes_every_calculation"
CASE = '<testcase classname="tests.workflows.test_faults" name="test_x" time="1.5"{}'


@pytest.fixture(scope="module")
def faults() -> Any:
    """The script as a module (``benchmarks/`` is not a package)."""
    return load_script("faults.py", "faults_benchmark")


def junit(tmp_path: Path, body: str | None) -> Path:
    """A junit file as pytest writes it, with one test case (``body``: its children)."""
    case = "" if body is None else CASE.format(" />" if body == "" else f">{body}</testcase>")
    path = tmp_path / "junit.xml"
    path.write_text(
        '<?xml version="1.0" encoding="utf-8"?><testsuites name="pytest tests">'
        f'<testsuite name="pytest" tests="1">{case}</testsuite></testsuites>'
    )
    return path


@pytest.mark.parametrize(
    ("exit_code", "body", "stdout", "outcome"),
    [
        (0, "", "1 passed in 2.00s", "passed"),
        (0, "", "1 xpassed in 2.00s", "xpassed"),
        (1, '<failure message="assert 16 == 15">...</failure>', "", "failed"),
        (1, '<error message="failed on teardown with &quot;x&quot;">...</error>', "", "failed"),
        (
            0,
            '<skipped type="pytest.skip" message="no RabbitMQ">f.py:1: no</skipped>',
            "",
            "skipped",
        ),
        (0, '<skipped type="pytest.xfail" message="window 3" />', "", "xfailed"),
        (1, '<skipped message="xfail-marked test passes unexpectedly" />', "", "xpassed"),
        (5, None, "no tests ran", "failed"),
        (1, "", "", "failed"),  # no child but a failing exit (e.g. a session-level error)
    ],
)
def test_outcome_from_junit_and_exit_code(
    faults: Any, tmp_path: Path, exit_code: int, body: str | None, stdout: str, outcome: str
) -> None:
    assert faults.outcome_of(exit_code, junit(tmp_path, body), stdout) == outcome


def test_missing_or_broken_junit_is_a_failure(faults: Any, tmp_path: Path) -> None:
    assert faults.outcome_of(0, tmp_path / "absent.xml") == "failed"
    (tmp_path / "broken.xml").write_text("<testsuites><testcase")
    assert faults.outcome_of(0, tmp_path / "broken.xml") == "failed"


def study_status(calcjobs: int, distinct_ok: int, duplicated_inputs: int) -> dict[str, Any]:
    """A terminated study's status (``fault_study.status``), one submit-window run."""
    return {
        "finished_ok": True,
        "calcjobs": calcjobs,
        "calcjobs_finished_ok": calcjobs - 1,
        "calcjobs_terminated": calcjobs,
        "distinct_finished": distinct_ok,
        "duplicated_inputs": duplicated_inputs,
        "orphaned_calcjobs": 1,
        "failed": ["PwCalculation<12> finished 312: the mock refused an input"],
    }


def test_records_written_by_the_test_are_summed_per_trial(
    faults: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The test-side writer and the script-side reader agree (round trip)."""
    assert write_record(study_status(17, 15, 1), storage="sqlite", opt_in=[], expected=15) is None
    monkeypatch.setenv(RECORD_DIR_ENV, str(tmp_path))
    write_record(study_status(17, 15, 1), storage="sqlite", opt_in=[], expected=15)
    # 2 CalcJobs beyond 15 (twin + submit window), 1 hash twice: duplicated 2, lost 0
    assert faults.read_record(tmp_path) == (2, 0, ["sqlite opt-in none"])
    opted = ["JANUS_SUBMIT_REUSE"]
    write_record(study_status(14, 12, 3), storage="sqlite", opt_in=opted, expected=15)
    duplicated, lost, notes = faults.read_record(tmp_path)
    assert (duplicated, lost) == (2 + 3, 0 + 3)
    assert notes[1] == "sqlite opt-in ['JANUS_SUBMIT_REUSE']"
    assert faults.read_record(tmp_path / "none") == (None, None, [])


def test_table_rows_count_outcomes_records_and_median(faults: Any) -> None:
    row = faults.Selected(f"{FAULTS}::{SIGKILL}[default]", "SQLite/ZeroMQ", "off")
    other = faults.Selected(f"{FAULTS}::test_full_disk", "SQLite/ZeroMQ", "n/a")
    trials = [
        faults.Trial("passed", 100.0, 0, 0),
        faults.Trial("failed", 300.0, 2, 1),
        faults.Trial("passed", 200.0),  # timed out before its record
        faults.Trial("xfailed", 50.0, 0, 0),
    ]
    table = faults.markdown_table({row: trials, other: [faults.Trial("skipped", 3.0)]})
    head, rule, first, second = table.splitlines()
    assert head.count("|") == rule.count("|") == first.count("|") == 12
    assert first == (
        f"| `workflows/test_faults.py::{SIGKILL}[default]` | SQLite/ZeroMQ | off | 4 | 2 | 1 "
        "| 0 | 1/0 | 2 (1 runs unrecorded) | 1 (1 runs unrecorded) | 150 |"
    )
    assert second.endswith("| n/a | 1 | 0 | 0 | 1 | 0/0 | – | – | 3 |")


def test_selection_expands_opt_in_settings(faults: Any) -> None:
    profiles = {SIGKILL: "SQLite/ZeroMQ", "test_a_fresh_worker": "SQLite/ZeroMQ"}
    nodeids = [
        f"{FAULTS}::{SIGKILL}[default]",
        f"{FAULTS}::{SIGKILL}[submit-reuse]",
        f"{FAULTS}::test_a_fresh_worker",
        f"{FAULTS}::test_pw_killed",  # no profile fixture: in-process, opt-in n/a
    ]
    both = faults.select(nodeids, profiles, "both", None)
    assert [(r.nodeid.split("::")[1], r.opt_in) for r in both] == [
        (f"{SIGKILL}[default]", "off"),
        (f"{SIGKILL}[submit-reuse]", "on (submit re-use only)"),
        ("test_a_fresh_worker", "off"),
        ("test_a_fresh_worker", "on"),
        ("test_pw_killed", "n/a"),
    ]
    off = faults.select(nodeids, profiles, "off", "fresh")
    assert [(r.profile, r.opt_in) for r in off] == [("SQLite/ZeroMQ", "off")]
    assert [r.opt_in for r in faults.select(nodeids, profiles, "on", "pw_killed")] == ["n/a"]


def test_collect_output_is_parsed_to_node_ids(faults: Any) -> None:
    stdout = f"{FAULTS}::{SIGKILL}[default]\n{FAULTS}::test_b\n\n2 tests collected in 0.5s\n"
    assert faults.parse_collected(stdout) == [f"{FAULTS}::{SIGKILL}[default]", f"{FAULTS}::test_b"]


@pytest.mark.parametrize(
    ("argv", "option"),
    [
        (["--trials", "0"], "--trials"),
        (["--trials", "many"], "--trials"),
        (["--opt-in", "maybe"], "--opt-in"),
        (["--timeout", "-1"], "--timeout"),
        (["-o", "/no/such/folder/table.md"], "-o"),
    ],
)
def test_bad_input_is_one_line_naming_the_option(
    faults: Any, capsys: pytest.CaptureFixture[str], argv: list[str], option: str
) -> None:
    with pytest.raises(SystemExit) as raised:
        faults.main(argv)
    assert raised.value.code == 2
    error = capsys.readouterr().err
    assert len(error.strip().splitlines()) == 1, error
    assert option in error


def test_list_selects_every_fault_test_of_the_real_file(
    faults: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    """``--list`` collects the real files (no test runs); every test of test_faults.py and
    every name ``FIXED_OPT_IN`` knows is selected (catches a renamed test)."""
    assert faults.main(["--list", "--opt-in", "both"]) == 0
    listed = capsys.readouterr().out.splitlines()
    names = {line.split()[0].rsplit("::", 1)[-1] for line in listed}
    assert set(faults.FIXED_OPT_IN) <= names
    functions = faults.profiles_by_test(SCRIPT.parents[1] / FAULTS)
    assert {name.split("[")[0] for name in names} >= set(functions)
    assert f"{FAULTS}::{SIGKILL}[default]  [SQLite/ZeroMQ; opt-in off]" in listed
    assert any("test_a_fresh_worker" in line and "opt-in on]" in line for line in listed)


def test_header_names_versions_commit_and_load(faults: Any) -> None:
    text = faults.header(["--trials", "3"], "2026-12-05T10:00:00+00:00", (0.5, 0.25, 0.125))
    for part in ("aiida-core ", "plumpy ", "kiwipy ", "- git commit: ", "- host: "):
        assert part in text
    assert "0.50/0.25/0.12 at start" in text
    assert "`benchmarks/faults.py --trials 3`" in text
