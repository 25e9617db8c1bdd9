"""The NVE drift check of a time step (heterostructures.dynamics.md_drift).

Reference: the real 10-step NVE run of tests/fixtures/qe67_md_cds_nve, whose drift is
fitted by ``md_diagnostics``; the bound test is the definition |drift| ≤ bound.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from heterostructures.dynamics.md_diagnostics import md_diagnostics
from heterostructures.dynamics.md_drift import DriftBoundError, check_energy_drift
from heterostructures.io.pw_md_output import merge_chunks, parse_pw_md_stdout

FIXTURE = Path(__file__).parents[2] / "fixtures" / "qe67_md_cds_nve"
CELL_ANG = np.array([[0.0, 2.915, 2.915], [2.915, 0.0, 2.915], [2.915, 2.915, 0.0]])


def _recorded_drift() -> float:
    chunk = parse_pw_md_stdout((FIXTURE / "uninterrupted.out").read_text(), 2, CELL_ANG)
    start = np.array([[0.0, 0.0, 0.0], [1.6575, 1.3075, 1.5075]])
    trajectory = merge_chunks(start, [chunk], 0.99997, CELL_ANG, np.array([112.41, 32.06]))
    return md_diagnostics(trajectory).drift_ev_per_atom_per_ps


def test_a_real_run_is_within_a_bound_above_its_drift_and_flagged_below_it() -> None:
    drift = _recorded_drift()
    assert drift != 0.0
    within = check_energy_drift(drift, 2 * abs(drift), 1.0)
    assert within.within_bound
    assert "within the bound" in within.note
    flagged = check_energy_drift(drift, 0.5 * abs(drift), 1.0)
    assert not flagged.within_bound
    assert "use a smaller timestep_fs" in flagged.note


def test_the_sign_of_the_drift_does_not_matter() -> None:
    assert not check_energy_drift(-0.02, 0.01, 2.0).within_bound
    assert not check_energy_drift(+0.02, 0.01, 2.0).within_bound
    assert check_energy_drift(-0.005, 0.01, 2.0).within_bound


@pytest.mark.parametrize("bound", [0.0, -1.0, float("nan")])
def test_a_non_positive_bound_is_refused(bound: float) -> None:
    with pytest.raises(DriftBoundError, match="positive"):
        check_energy_drift(0.001, bound, 1.0)
