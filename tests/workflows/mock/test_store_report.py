"""``scripts/mock_store_report.py``: the cost table read from recordings.

Reference: the capped ``balanced`` CdS bulk vc-relax recording, whose pw.x stdout says
(read by eye) 2 atoms, 8 k-points, 14 SCF iterations over its ionic steps, 19.19 s CPU and
2 min 30 s wall on 2 MPI ranks (atoms, k-points and wall time are also quoted in
tests/fixtures/mock/README.md).
"""

from __future__ import annotations

from types import ModuleType

import pytest

from tests.benchmarks.scripts import SCRIPTS, load_script

CDS_BULK = "pw.x/62452fbd47849029"


def _script() -> ModuleType:
    return load_script("mock_store_report.py", "mock_store_report", SCRIPTS)


def test_row_reads_the_recorded_stdout(capsys: pytest.CaptureFixture[str]) -> None:
    assert _script().main([CDS_BULK]) == 0
    header, rule, line = capsys.readouterr().out.splitlines()
    cells = [cell.strip() for cell in line.strip("|").split("|")]
    named = dict(zip([cell.strip() for cell in header.strip("|").split("|")], cells, strict=True))
    assert rule.count("---") == len(cells)
    assert named["step"] == "vc-relax"
    assert (named["atoms"], named["k"], named["SCF iter."]) == ("2", "8", "14")
    assert (named["CPU"], named["wall"], named["ranks"]) == ("19.19s", "2m30.06s", "2")
    assert named["exit"] == "0"


def test_a_recording_not_stored_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert _script().main(["pw.x/0000000000000000"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "not stored" in err
