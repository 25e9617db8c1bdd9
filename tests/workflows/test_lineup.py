"""Route 2 reference inputs: even Γ-centred meshes and electrons from the pseudopotentials."""

from __future__ import annotations

import math

import numpy as np
import pytest

from workflows.lineup import even_kpoints_mesh


@pytest.mark.parametrize("distance", [0.15, 0.3, 0.5, 0.8, 2.0])
def test_even_mesh_is_even_and_at_least_as_dense_as_asked(distance: float) -> None:
    cell = np.array([[5.825, 0.0, 0.0], [0.0, 8.237, 0.0], [0.0, -4.119, 4.123]])
    mesh = even_kpoints_mesh(cell, distance)
    reciprocal = 2 * math.pi * np.linalg.inv(cell).T
    for divisions, vector in zip(mesh, reciprocal, strict=True):
        assert divisions % 2 == 0
        assert np.linalg.norm(vector) / divisions <= distance + 1e-12


def test_even_mesh_contains_the_cubic_r_point() -> None:
    """Cubic CsPbBr3's band edges sit at R = (½, ½, ½): an even mesh includes it."""
    mesh = even_kpoints_mesh(np.eye(3) * 5.9, 0.5)
    assert all(n % 2 == 0 and (n // 2) / n == 0.5 for n in mesh)
