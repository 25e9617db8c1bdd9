"""Side views of an interface model: boundaries by hand, views along a and b, element colours.

Reference: a hand-built two-domain stack (A at z = 1, 3 Å, B at 5, 7 Å in a 10 Å period)
whose boundaries are the midpoints 4 Å and (7 + 11)/2 − 10 = 9 Å, worked out by hand.
"""

from __future__ import annotations

import numpy as np
import pytest
from ase.data import atomic_numbers
from ase.data.colors import jmol_colors

from heterostructures.plots.structure_views import domain_boundaries_ang, structure_side_views

CELL = np.diag([4.0, 6.0, 10.0])
POSITIONS = np.array([[0.5, 1.0, 1.0], [2.0, 4.0, 3.0], [1.0, 2.0, 5.0], [3.0, 5.0, 7.0]])
SYMBOLS = ["Cd", "S", "Pb", "Br"]
DOMAINS = ["chalcogenide", "chalcogenide", "perovskite", "perovskite"]


def test_boundaries_are_midway_between_the_domains_periodically() -> None:
    assert domain_boundaries_ang(POSITIONS[:, 2], DOMAINS, 10.0) == [4.0, 9.0]


def test_a_buckled_interface_plane_gives_one_boundary() -> None:
    """A at 1.0 and 3.0 Å, B at 3.2 and 5.0 Å, A again at 3.4 (a buckled interface plane):
    one boundary between the last A-only (3.0) and first B-only (5.0) heights, not three;
    the periodic one halfway from B at 5.0 to A at 1.0 + 8 Å, at 7.0 Å."""
    heights = [1.0, 3.0, 3.2, 3.4, 5.0]
    domains = ["A", "A", "B", "A", "B"]
    cuts = domain_boundaries_ang(heights, domains, 8.0)
    assert len(cuts) == 2
    assert 3.0 < cuts[0] < 5.0
    assert cuts[1] == pytest.approx(7.0)


def test_views_along_a_and_b_put_y_and_x_horizontally() -> None:
    """Orthogonal cell: along a the horizontal is y, along b it is x; heights are z; atoms
    coloured by element; the boundary heights drawn."""
    figure = structure_side_views(POSITIONS, CELL, SYMBOLS, DOMAINS)
    along_a, along_b = figure.axes[:2]
    for axes, column in ((along_a, 1), (along_b, 0)):
        points = np.asarray(axes.collections[0].get_offsets(), float)
        assert sorted(map(tuple, np.round(points, 9))) == sorted(
            map(tuple, POSITIONS[:, [column, 2]])
        )
        heights = {
            round(float(np.asarray(line.get_ydata(), float)[0]), 9) for line in axes.get_lines()
        }
        assert {4.0, 9.0} <= heights
    colours = np.asarray(along_a.collections[0].get_facecolor(), float)[:, :3]
    expected = {tuple(jmol_colors[atomic_numbers[s]]) for s in SYMBOLS}
    assert {tuple(c) for c in np.round(colours, 6)} == {tuple(np.round(c, 6)) for c in expected}
    assert along_a.get_ylabel() == "z, along the interface normal (Å)"
    assert along_a.get_xlabel().endswith("(Å)")


def test_atoms_outside_the_cell_are_wrapped() -> None:
    shifted = POSITIONS + np.array([0.0, 0.0, 10.0])
    figure = structure_side_views(shifted, CELL, SYMBOLS, DOMAINS)
    assert np.asarray(figure.axes[0].collections[0].get_offsets(), float)[:, 1].max() < 10.0
