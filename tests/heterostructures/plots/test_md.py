"""MD figure: temperature, and total, potential and kinetic energy against time.

Reference: a harmonic exchange E_pot = E₀ + A cos²ωt, E_kin = A sin²ωt, whose total
E₀ + A is constant in closed form: the total curve must be flat at 0 and the potential and
kinetic curves must be the inputs (relative to E_tot(0) = E₀ + A, and as given).
"""

from __future__ import annotations

import numpy as np
import pytest

from heterostructures.plots.md import md_figure

TIMES = np.arange(0.0, 200.0)
AMPLITUDE, E0 = 0.3, -1234.5
POTENTIAL = E0 + AMPLITUDE * np.cos(2 * np.pi * TIMES / 50.0) ** 2
KINETIC = AMPLITUDE * np.sin(2 * np.pi * TIMES / 50.0) ** 2
TEMPERATURE = 300.0 + 10.0 * np.sin(TIMES)


def test_energies_panel_draws_total_potential_and_kinetic_in_ev() -> None:
    figure = md_figure(TIMES, TEMPERATURE, POTENTIAL, KINETIC, 50.0, 300.0)
    top, bottom = figure.axes
    lines = {str(line.get_label()).split()[0]: line for line in bottom.get_lines()}
    np.testing.assert_allclose(np.asarray(lines["total"].get_ydata(), float), 0.0, atol=1e-9)
    np.testing.assert_allclose(
        np.asarray(lines["potential"].get_ydata(), float), POTENTIAL - (E0 + AMPLITUDE)
    )
    np.testing.assert_allclose(np.asarray(lines["kinetic"].get_ydata(), float), KINETIC)
    assert bottom.get_ylabel() == "energy (eV)"
    assert bottom.get_xlabel() == "t (fs)"
    assert top.get_ylabel() == "T (K)"
    np.testing.assert_allclose(np.asarray(top.get_lines()[0].get_ydata(), float), TEMPERATURE)
    starts = [line for line in bottom.get_lines() if line.get_linestyle() == ":"]
    assert [np.asarray(line.get_xdata(), float)[0] for line in starts] == [50.0]


def test_arrays_of_different_lengths_are_refused() -> None:
    with pytest.raises(ValueError, match="one value per frame"):
        md_figure(TIMES, TEMPERATURE, POTENTIAL, KINETIC[:-1])
