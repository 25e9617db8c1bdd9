"""Atomic planes along an interface normal: which atom sits in which layer (Å).

Used to build slabs plane by plane and later for layer-projected DOS and charge
localisation. Planes are clusters of atoms whose normal coordinates differ by at most
``tolerance`` from their neighbour in the sorted list (single linkage), so a relaxed,
slightly rumpled plane stays one layer; with ``periodic=True`` a plane cut by the cell
boundary is joined across it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from ase import Atoms

from heterostructures.structure.errors import StructureInputError


@dataclass(frozen=True)
class LayerAssignment:
    """Per-atom layer index (0 = lowest plane) and each layer's mean normal position (Å)."""

    indices: tuple[int, ...]
    positions: tuple[float, ...]

    @property
    def count(self) -> int:
        """Number of distinct layers."""
        return len(self.positions)


def assign_layers(
    positions_along_normal: np.ndarray | list[float],
    cell_length: float,
    tolerance: float = 0.5,
    periodic: bool = True,
) -> LayerAssignment:
    """Group normal coordinates (Å) into planes; layers are numbered by ascending position.

    With ``periodic`` the coordinates are wrapped into [0, ``cell_length``) and a cluster
    straddling the boundary is one layer, placed at its circular mean.
    """
    if tolerance <= 0 or cell_length <= 0:
        raise StructureInputError("tolerance and cell_length must be positive (Å)")
    values = np.asarray(positions_along_normal, dtype=float)
    if values.size == 0:
        raise StructureInputError("no positions given: pass one coordinate per atom")
    if periodic:
        values = np.mod(values, cell_length)
    order = np.argsort(values, kind="stable")
    labels = np.zeros(values.size, dtype=int)
    for rank in range(1, values.size):
        step = values[order[rank]] - values[order[rank - 1]]
        labels[order[rank]] = labels[order[rank - 1]] + int(step > tolerance)
    if periodic and labels.max() > 0:
        wrap_gap = values[order[0]] + cell_length - values[order[-1]]
        if wrap_gap <= tolerance:
            labels[labels == labels.max()] = 0
    centres = []
    for label in range(labels.max() + 1):
        members = values[labels == label]
        if members.size == 0:
            continue
        if periodic:
            angles = 2 * np.pi * members / cell_length
            mean = np.angle(np.mean(np.exp(1j * angles))) * cell_length / (2 * np.pi)
            centres.append((float(np.mod(mean, cell_length)), label))
        else:
            centres.append((float(members.mean()), label))
    centres.sort()
    relabel = {label: rank for rank, (_, label) in enumerate(centres)}
    return LayerAssignment(
        indices=tuple(relabel[int(label)] for label in labels),
        positions=tuple(position for position, _ in centres),
    )


def layers_of_atoms(atoms: Atoms, axis: int = 2, tolerance: float = 0.5) -> LayerAssignment:
    """Layers of ``atoms`` along cell axis ``axis`` (assumed perpendicular to the other two)."""
    length = float(np.linalg.norm(atoms.cell[axis]))
    normal = np.asarray(atoms.cell[axis]) / length
    periodic = bool(atoms.pbc[axis])
    return assign_layers(atoms.positions @ normal, length, tolerance, periodic)


def layer_groups(atoms: Atoms) -> dict[tuple[str, int], list[int]]:
    """Atom indices grouped by the interface labels (``domain``, ``layer``) the builder sets."""
    for name in ("domain", "layer"):
        if name not in atoms.arrays:
            raise StructureInputError(
                f"atoms carry no {name!r} array: build them with structure.interface "
                "or read them with heterostructures.structure.report.read_interface"
            )
    groups: dict[tuple[str, int], list[int]] = {}
    for index, (domain, layer) in enumerate(
        zip(atoms.arrays["domain"], atoms.arrays["layer"], strict=True)
    ):
        groups.setdefault((str(domain), int(layer)), []).append(index)
    return groups
