"""How two in-plane cells meet a common cell: deformations and principal strains per side (%).

The interface builder puts both films on one in-plane cell interpolated between their
natural cells; each side's strain is that of the deformation taking its natural cell to
the common one. Cells are 2 × 2 arrays with the in-plane lattice vectors as rows (Å).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from heterostructures.structure.errors import StructureInputError


def principal_strain(
    natural: np.ndarray, common: np.ndarray
) -> tuple[np.ndarray, tuple[float, float]]:
    """Deformation F (xy_new = xy @ F) and principal strains (%) from natural to common cell.

    The strains are the singular values of F minus one (right stretch tensor), so a
    rotation between the two cells carries no strain.
    """
    deformation = np.linalg.solve(np.asarray(natural, float), np.asarray(common, float))
    stretches = np.sqrt(np.linalg.eigvalsh(deformation @ deformation.T))
    return deformation, (float(100 * (stretches[0] - 1)), float(100 * (stretches[1] - 1)))


@dataclass(frozen=True)
class StrainSplit:
    """Common in-plane cell (Å, rows) and each side's deformation and principal strains (%)."""

    common: np.ndarray
    perovskite_deformation: np.ndarray
    perovskite_strain_percent: tuple[float, float]
    chalcogenide_deformation: np.ndarray
    chalcogenide_strain_percent: tuple[float, float]

    @property
    def worst_percent(self) -> float:
        """Largest |principal strain| (%) on either side: what the strain bound limits."""
        return max(
            abs(v) for v in (*self.perovskite_strain_percent, *self.chalcogenide_strain_percent)
        )


def split_strain(cell_p: np.ndarray, cell_c: np.ndarray, weight: float) -> StrainSplit:
    """Common cell ``weight`` × chalcogenide + (1 − weight) × perovskite and both sides' strain.

    ``weight`` is the share of the mismatch the perovskite takes (0 keeps its lattice).
    Both cells must list corresponding vectors in the same order and frame.
    """
    if not 0.0 <= weight <= 1.0:
        raise StructureInputError(f"strain_weight {weight} must lie in [0, 1]")
    cell_p, cell_c = np.asarray(cell_p, float), np.asarray(cell_c, float)
    common = weight * cell_c + (1.0 - weight) * cell_p
    deform_p, strain_p = principal_strain(cell_p, common)
    deform_c, strain_c = principal_strain(cell_c, common)
    return StrainSplit(common, deform_p, strain_p, deform_c, strain_c)


def planar_frame(vectors: np.ndarray) -> np.ndarray:
    """Two 3D vectors (Å) as a 2 × 2 cell: first along x, second in the upper half plane.

    Why: the oriented units of :mod:`heterostructures.structure.terminations` put the first in-plane
    vector on x and keep the pair right-handed about the normal, so this is their in-plane
    cell, computed without building them.
    """
    first, second = (np.asarray(v, dtype=float) for v in vectors)
    length = float(np.linalg.norm(first))
    along = float(np.dot(first, second)) / length
    across = float(np.linalg.norm(np.cross(first, second))) / length
    return np.array([[length, 0.0], [along, across]])
