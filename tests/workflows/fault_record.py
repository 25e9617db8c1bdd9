"""Machine-readable record of one fault-test run, for ``benchmarks/faults.py``.

Why: the README's reliability statement is a table of pass rates, duplicated and lost
calculations produced by a script that runs each fault test many times. The counts
exist only inside the test (the study's final status); this module writes them out.

- ``JANUS_FAULT_RECORD_DIR``: when set, every study the test accounts for
  (``_assert_every_calculation_accounted`` in ``test_faults.py``) writes one JSON file
  into that folder, *before* the assertions, so a failing run is counted too. Unset:
  nothing is written.
- ``JANUS_FAULT_OPT_IN``: ``on`` switches both opt-in parts (``JANUS_SUBMIT_REUSE``,
  ``JANUS_BROKER_GUARD``) on for every daemon of a fault test; ``off`` or unset leaves
  them off unless the test itself turns one on. The record says what was on.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

RECORD_DIR_ENV = "JANUS_FAULT_RECORD_DIR"
OPT_IN_ENV = "JANUS_FAULT_OPT_IN"


def opt_in_requested() -> bool:
    """Does the environment ask for every opt-in part on (``JANUS_FAULT_OPT_IN=on``)?"""
    return os.environ.get(OPT_IN_ENV, "").strip().lower() == "on"


def submit_window_runs(status: dict[str, Any]) -> int:
    """PwCalculations that failed with exit 312: submitted twice across a kill."""
    return sum(
        entry.startswith("PwCalculation<") and " 312:" in entry
        for entry in status.get("failed", [])
    )


def tally(status: dict[str, Any], expected: int) -> dict[str, int]:
    """Duplicated and lost CalcJobs of a terminated study (``fault_study.status``).

    - ``duplicated``: CalcJobs that ran again — the larger of the CalcJobs whose inputs
      hash like another's and the accounted kinds (unused twins + submit-window runs);
    - ``lost``: of the ``expected`` distinct calculations of an uninterrupted run, those
      that never finished (never launched, excepted, killed or hung); a finished one
      counts whatever its exit status, as the uninterrupted run has a 501 too.
    """
    interrupted = submit_window_runs(status)
    orphaned = int(status.get("orphaned_calcjobs", 0))
    distinct_done = int(status.get("distinct_finished", status["calcjobs_finished_ok"]))
    return {
        "duplicated": max(int(status.get("duplicated_inputs", 0)), interrupted + orphaned),
        "lost": max(0, expected - distinct_done),
        "submit_window_runs": interrupted,
        "orphaned_calcjobs": orphaned,
        "stranded_calcjobs": int(status.get("stranded_calcjobs", 0)),
        "unterminated_calcjobs": len(status.get("unterminated", [])),
        "extra_calcjobs": int(status["calcjobs"]) - expected,
    }


def write_record(
    status: dict[str, Any], *, storage: str, opt_in: list[str], expected: int
) -> Path | None:
    """Write the record of one accounted study when ``JANUS_FAULT_RECORD_DIR`` is set."""
    folder = os.environ.get(RECORD_DIR_ENV)
    if not folder:
        return None
    test = os.environ.get("PYTEST_CURRENT_TEST", "").split(" (")[0]
    record = {
        "test": test,
        "storage": storage,
        "opt_in": sorted(opt_in),
        "study_finished_ok": bool(status.get("finished_ok")),
        **tally(status, expected),
        "status": status,
    }
    path = Path(folder) / f"record-{os.getpid()}-{time.time_ns()}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(record, indent=1), encoding="utf-8")
    return path
