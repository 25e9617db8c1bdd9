"""The study cost model against the wall times it is built from.

Reference: the measured wall times typed in here from docs/measurements.md (demo study,
2026-11-26, 2 cores) and docs/alignment-series.md (2026-12-05), the two NC SCFs of
DESIGN.md ("Measured cost": 13 atoms 18 s / 23 iterations, 26 atoms 84 s / 29
iterations) and the 100-atom CsPbI3/CdS SCF of docs/epitaxy.md (8040 s CPU / 34
iterations) — hand calculations, not the module's own tables.
"""

from __future__ import annotations

import dataclasses
import math

import pytest

from heterostructures.structure.study_cost import StudySize, study_cost

FAST = StudySize(
    interface_atoms=13,
    interface_pseudo="nc",
    electronic_pseudo="nc",
    alignment_models=(13, 26),
    alignment_pseudo="nc",
    alignment_relaxed=False,
    md_steps=120,
    md_pseudo="nc",
    snapshots=100,
    matches_fast=True,
)
# Wall minutes of each step of the measured fast study (docs/measurements.md demo table;
# alignment = 5.5 + 13.1 min from docs/alignment-series.md; na = 26.0 + < 0.1 min,
# the NA snapshots of the 2026-12-06 demo, traced in docs/measurements.md).
MEASURED_FAST_MIN = {
    "bulk": 12.3,
    "interface": 2.1,
    "electronic": 2.2,
    "alignment": 5.5 + 13.1,
    "charge_densities": 0.1,
    "aimd": 10.6,
    "na": 26.1,
}


def by_step(size: StudySize) -> dict[str, float]:
    return {estimate.step: estimate.core_hours for estimate in study_cost(size)}


def test_fast_study_reproduces_each_measured_step() -> None:
    """Core-hours = measured wall min × 2 cores / 60; the whole study 72.0 min × 2 = 2.400."""
    estimates = by_step(FAST)
    assert list(estimates) == list(MEASURED_FAST_MIN)
    for step, minutes in MEASURED_FAST_MIN.items():
        assert estimates[step] == pytest.approx(minutes * 2 / 60, rel=1e-9), step
    assert sum(estimates.values()) == pytest.approx(2.4000, abs=1e-4)
    assert not any(estimate.lower_bound for estimate in study_cost(FAST))


def test_doubling_atoms_scales_like_the_two_measured_scfs() -> None:
    """Per-iteration cost 84/29 s at 26 atoms against 18/23 s at 13: ×3.701."""
    ratio = (84 / 29) / (18 / 23)
    doubled = by_step(dataclasses.replace(FAST, interface_atoms=26))
    single = by_step(FAST)
    for step in ("interface", "electronic", "aimd", "na"):
        assert doubled[step] / single[step] == pytest.approx(ratio, rel=1e-9), step
    assert doubled["bulk"] == single["bulk"], "bulk cells do not depend on the interface"


def test_a_100_atom_model_scales_to_the_measured_100_atom_scf() -> None:
    """Per-iteration cost 8040/34 s at 100 atoms against 18/23 s at 13: ×302.2, where the
    two small models' N^1.89 alone gave ×47.1 (the 2026-12-06 measurement it misses)."""
    ratio = (8040 / 34) / (18 / 23)
    assert ratio == pytest.approx(302.2, abs=0.05)
    hundred = by_step(dataclasses.replace(FAST, interface_atoms=100))
    single = by_step(FAST)
    for step in ("interface", "electronic", "aimd", "na"):
        assert hundred[step] / single[step] == pytest.approx(ratio, rel=1e-9), step


def test_work_counts_and_paw_multiply_the_measurement() -> None:
    """AIMD: 240 PAW steps = 2 × (540 s / 5 s) × 120 steps × 5.3 s × 2 cores.

    PAW/NC from docs/measurements.md: SCF 9 min against 5 s on the 13-atom model.
    """
    aimd = by_step(dataclasses.replace(FAST, md_steps=240, md_pseudo="paw"))["aimd"]
    assert aimd == pytest.approx(2 * (540 / 5) * 120 * 5.3 * 2 / 3600, rel=1e-9)
    na = by_step(dataclasses.replace(FAST, snapshots=50))["na"]
    assert na == pytest.approx(26.1 * 60 * 2 / 2 / 3600, rel=1e-9)


def test_series_relaxed_with_paw_adds_scaled_relaxations() -> None:
    """One 26-atom PAW model: 13.1 min × 22.7 min/83 s, + relax 2.1 min × 3.701 × 108."""
    size = dataclasses.replace(
        FAST, alignment_models=(26,), alignment_pseudo="paw", alignment_relaxed=True
    )
    ratio = (84 / 29) / (18 / 23)
    expected_min = 13.1 * (22.7 * 60 / 83) + 2.1 * ratio * 108
    assert by_step(size)["alignment"] == pytest.approx(expected_min * 2 / 60, rel=1e-9)


def test_other_protocols_are_lower_bounds_and_bad_sizes_refused() -> None:
    estimates = study_cost(dataclasses.replace(FAST, matches_fast=False))
    assert all(estimate.lower_bound for estimate in estimates)
    with pytest.raises(ValueError, match="not a study size"):
        study_cost(dataclasses.replace(FAST, interface_atoms=0))
    with pytest.raises(ValueError, match="cores must be at least 1"):
        estimates[0].wall_seconds(0)
    assert math.isclose(estimates[0].wall_seconds(4), 12.3 * 60 / 2)
