"""SCF and BFGS convergence figures: the drawn data are the stored arrays, units converted.

References: the arrays handed in, and the force norm worked out by hand (a (3, 4, 0) eV/Å
force has |F| = 5 eV/Å); forc_conv_thr 1e-3 Ry/bohr = 0.0257 eV/Å (QE's units, CODATA).
"""

from __future__ import annotations

import numpy as np
import pytest

from heterostructures.plots.convergence import (
    max_force_per_step,
    relaxation_figure,
    scf_convergence_figure,
)


def test_scf_accuracy_is_drawn_per_iteration_on_a_log_axis() -> None:
    accuracies = [0.5, 0.05, 3e-3, 1e-5, 2e-7, 0.02, 1e-4, 3e-7]
    figure = scf_convergence_figure(accuracies, [5, 3], threshold_ry=1e-6)
    axes = figure.axes[0]
    drawn = axes.get_lines()[0]
    np.testing.assert_array_equal(np.asarray(drawn.get_xdata(), float), np.arange(1, 9))
    np.testing.assert_array_equal(np.asarray(drawn.get_ydata(), float), accuracies)
    assert axes.get_yscale() == "log"
    assert axes.get_ylabel() == "estimated scf accuracy (Ry)"
    vertical = [
        np.asarray(line.get_xdata(), float)[0]
        for line in axes.get_lines()
        if line.get_linestyle() == ":"
    ]
    assert vertical == [5.5], "one separator between the two ionic steps"


def test_max_force_is_the_largest_atomic_norm() -> None:
    forces = np.zeros((2, 3, 3))
    forces[0, 1] = [3.0, 4.0, 0.0]
    forces[1, 2] = [0.0, 0.0, -0.1]
    np.testing.assert_allclose(max_force_per_step(forces), [5.0, 0.1])


def test_relaxation_figure_draws_energy_change_and_forces_with_the_threshold() -> None:
    energies = np.array([-100.0, -100.05, -100.06])
    forces = np.zeros((3, 2, 3))
    forces[:, 0, 0] = [0.5, 0.1, 0.01]
    figure = relaxation_figure(energies, forces, force_threshold_ry_bohr=1e-3)
    top, bottom = figure.axes
    np.testing.assert_allclose(np.asarray(top.get_lines()[0].get_ydata(), float), [60.0, 10.0, 0.0])
    np.testing.assert_allclose(
        np.asarray(bottom.get_lines()[0].get_ydata(), float), [0.5, 0.1, 0.01]
    )
    threshold = float(np.asarray(bottom.get_lines()[1].get_ydata(), float)[0])
    assert threshold == pytest.approx(0.0257, abs=1e-4)
    assert bottom.get_yscale() == "log"
    assert bottom.get_ylabel() == "max |F| (eV/Å)"


def test_bad_arrays_are_refused() -> None:
    with pytest.raises(ValueError, match="positive"):
        scf_convergence_figure([])
    with pytest.raises(ValueError, match="steps × atoms × 3"):
        max_force_per_step(np.zeros((3, 3)))
