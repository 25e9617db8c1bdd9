"""Relaxation checks: fixed atoms unmoved, residual forces on free atoms only."""

from __future__ import annotations

import numpy as np
import pytest

from heterostructures.structure.relaxation import relaxation_summary


def test_fixed_atoms_and_free_forces() -> None:
    cell = np.eye(3) * 10.0
    start = np.array([[0.0, 0.0, 0.0], [1.0, 1.0, 1.0], [9.9, 0.0, 0.0]])
    end = start.copy()
    end[1] += [0.1, 0.0, 0.0]
    end[2] = [0.05, 0.0, 0.0]  # crossed the cell boundary: 0.15 Å by minimum image
    forces = np.zeros((2, 3, 3))
    forces[-1, 0] = [5.0, 0.0, 0.0]  # large force on a fixed atom is not a residual
    forces[-1, 1] = [0.0, 0.02, 0.0]
    summary = relaxation_summary([start, end], forces, cell, [True, False, False])
    assert summary.max_fixed_displacement_ang == 0.0
    assert summary.max_free_displacement_ang == pytest.approx(0.15)
    assert summary.max_free_force_ev_ang == pytest.approx(0.02)
    assert summary.steps == 2


def test_shape_mismatch_is_named() -> None:
    with pytest.raises(ValueError, match="fixed flags"):
        relaxation_summary(np.zeros((2, 3, 3)), np.zeros((2, 3, 3)), np.eye(3), [True])
