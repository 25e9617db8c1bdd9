"""``benchmarks/snapshot_timeline.py``: pw.x's own start and end stamps.

Reference: the two lines as QE 6.7's pw.x printed them in a real run (PwCalculation<485>
of the 2026-12-06 demo study, profile ``demo-s11``): single-digit hours are padded with
a space, and the end line puts the time before the date.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from tests.benchmarks.scripts import load_script

QE67_OUTPUT = (
    "     Program PWSCF v.6.7MaX starts on  6Dec2026 at  5:45:44 \n"
    "     PWSCF        :     13.85s CPU     30.52s WALL\n"
    "   This run was terminated on:   5:46:14   6Dec2026            \n"
)


@pytest.fixture(scope="module")
def timeline() -> Any:
    """The script as a module (``benchmarks/`` is not a package)."""
    return load_script("snapshot_timeline.py", "snapshot_timeline")


def test_stamps_of_a_real_qe67_output(timeline: Any) -> None:
    start, end = timeline.pw_stamps(QE67_OUTPUT, dt.date(2026, 12, 6))
    assert start == dt.datetime(2026, 12, 6, 5, 45, 44, tzinfo=dt.UTC)
    assert (end - start).total_seconds() == 30  # pw.x's own WALL line says 30.52 s


def test_an_unfinished_run_is_refused(timeline: Any) -> None:
    with pytest.raises(ValueError, match=r"did pw\.x finish"):
        timeline.pw_stamps(QE67_OUTPUT.splitlines()[0], dt.date(2026, 12, 6))
