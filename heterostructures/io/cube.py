"""Gaussian cube files (pp.x ``output_format = 6``): read and write, gzip-aware.

Lengths are kept in bohr exactly as the file states them (pp.x writes bohr), so that
``data.sum() * voxel_volume_bohr3`` integrates a density in bohr⁻³ (pp.x |ψ|², charge)
without unit juggling; ``*_ang`` properties give Å for geometry. Files open in VESTA,
Ovito and ASE.
"""

from __future__ import annotations

import gzip
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from heterostructures.io.projwfc_files import ProjwfcFileError, open_text
from heterostructures.units import BOHR_ANGSTROM


class CubeFileError(ProjwfcFileError):
    """A cube file is missing, truncated or not a Gaussian cube."""


@dataclass(frozen=True)
class CubeGrid:
    """A scalar field on a periodic grid with the atoms of the cell (lengths in bohr)."""

    data: np.ndarray
    origin_bohr: np.ndarray
    voxel_bohr: np.ndarray
    atomic_numbers: np.ndarray
    positions_bohr: np.ndarray
    comment: str = ""

    @property
    def cell_ang(self) -> np.ndarray:
        """Cell vectors (rows) in Å: voxel vectors times the grid shape."""
        return np.asarray(self.voxel_bohr * np.array(self.data.shape)[:, None] * BOHR_ANGSTROM)

    @property
    def positions_ang(self) -> np.ndarray:
        """Atomic positions in Å."""
        return np.asarray(self.positions_bohr * BOHR_ANGSTROM)

    @property
    def voxel_volume_bohr3(self) -> float:
        """Volume of one voxel in bohr³."""
        return float(abs(np.linalg.det(self.voxel_bohr)))

    def integral(self) -> float:
        """∫ field dV over the cell, with the field in bohr⁻³ (pp.x units) → a number."""
        return float(self.data.sum() * self.voxel_volume_bohr3)


def read_cube(path: str | Path) -> CubeGrid:
    """Read a Gaussian cube (or ``.cube.gz``); voxel counts < 0 (Å units) are converted."""
    with open_text(path) as handle:
        comment = handle.readline().strip() + " " + handle.readline().strip()
        try:
            n_atoms, *origin = handle.readline().split()[:4]
            axes = [handle.readline().split()[:4] for _ in range(3)]
            atoms = [handle.readline().split()[:5] for _ in range(abs(int(n_atoms)))]
        except ValueError as error:
            raise CubeFileError(f"{path}: not a Gaussian cube header ({error})") from None
        values = np.array(handle.read().split(), dtype=float)
    shape = tuple(int(axis[0]) for axis in axes)
    voxel = np.array([[float(x) for x in axis[1:]] for axis in axes])
    scale = np.where(np.array(shape) < 0, 1 / BOHR_ANGSTROM, 1.0)[:, None]
    shape = tuple(abs(n) for n in shape)
    if values.size != int(np.prod(shape)):
        raise CubeFileError(f"{path}: {values.size} values for a {shape} grid (truncated file?)")
    table = np.array(atoms, dtype=float).reshape(-1, 5)
    return CubeGrid(
        data=values.reshape(shape),
        origin_bohr=np.array(origin, dtype=float),
        voxel_bohr=voxel * scale,
        atomic_numbers=table[:, 0].astype(int),
        positions_bohr=table[:, 2:5],
        comment=comment,
    )


def write_cube(path: str | Path, grid: CubeGrid) -> Path:
    """Write ``grid`` as a Gaussian cube in bohr (gzip-compressed if ``path`` ends .gz)."""
    path = Path(path)
    lines = [grid.comment or "written by heterostructures.io.cube", "values on the FFT grid"]
    lines.append(f"{len(grid.atomic_numbers):5d}" + "".join(f"{x:12.6f}" for x in grid.origin_bohr))
    for count, vector in zip(grid.data.shape, grid.voxel_bohr, strict=True):
        lines.append(f"{count:5d}" + "".join(f"{x:12.6f}" for x in vector))
    for number, position in zip(grid.atomic_numbers, grid.positions_bohr, strict=True):
        lines.append(f"{number:5d}{float(number):12.6f}" + "".join(f"{x:12.6f}" for x in position))
    values = grid.data.reshape(-1, grid.data.shape[2])
    body = "\n".join(" ".join(f"{v:13.5E}" for v in row) for row in values)
    text = "\n".join(lines) + "\n" + body + "\n"
    if path.suffix == ".gz":
        with gzip.open(path, "wt") as handle:
            handle.write(text)
    else:
        path.write_text(text)
    return path
