"""Side views of a (relaxed) interface model along a and b, atoms by element, domains marked.

The interface normal is the cell's z axis (janus superlattices stack along c ⟂ ab). A view
along a puts the in-plane direction ẑ × â horizontally and z vertically (Å); along b,
b̂ × ẑ. Positions are wrapped into the cell first. Domain boundaries are the heights
halfway across each gap between consecutive atomic heights whose domains differ
(periodic along z, so a superlattice shows both interfaces). Plain matplotlib, no AiiDA.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from ase.data import atomic_numbers, covalent_radii
from ase.data.colors import jmol_colors
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from numpy.typing import ArrayLike, NDArray

MERGE_ANG = 1.0
"""Boundaries closer than this (Å) are one boundary (a buckled plane at the interface)."""


def domain_boundaries_ang(
    heights_ang: ArrayLike, domains: Sequence[str], period_ang: float
) -> list[float]:
    """Heights (Å, in [0, period)) where the domain changes along the periodic normal."""
    heights = np.mod(np.asarray(heights_ang, dtype=float), period_ang)
    order = np.argsort(heights, kind="stable")
    z, labels = heights[order], [domains[i] for i in order]
    following = np.append(z[1:], z[0] + period_ang)
    cuts = sorted(
        float(np.mod(0.5 * (low + high), period_ang))
        for low, high, here, there in zip(
            z, following, labels, labels[1:] + labels[:1], strict=True
        )
        if here != there
    )
    merged: list[list[float]] = []
    for cut in cuts:
        if merged and cut - merged[-1][-1] < MERGE_ANG:
            merged[-1].append(cut)
        else:
            merged.append([cut])
    return [float(np.mean(group)) for group in merged]


def _in_plane_axis(cell: NDArray, along: int) -> NDArray:
    """Unit vector drawn horizontally when looking along cell vector ``along`` (0: a, 1: b)."""
    normal = np.array([0.0, 0.0, 1.0])
    direction = np.cross(normal, cell[0]) if along == 0 else np.cross(cell[1], normal)
    return np.asarray(direction / np.linalg.norm(direction))


def _draw_view(
    axes: Axes,
    positions: NDArray,
    cell: NDArray,
    numbers: NDArray,
    along: int,
    boundaries: list[float],
) -> None:
    axis = _in_plane_axis(cell, along)
    horizontal = positions @ axis
    corners = np.array([np.zeros(3), cell[0], cell[1], cell[0] + cell[1]]) @ axis
    sizes = 400.0 * covalent_radii[numbers] ** 2
    order = np.argsort(-sizes, kind="stable")
    axes.scatter(
        horizontal[order],
        positions[order, 2],
        s=sizes[order],
        c=jmol_colors[numbers[order]],
        edgecolors="k",
        linewidths=0.5,
        zorder=2,
    )
    for height in boundaries:
        axes.axhline(height, color="tab:red", ls="--", lw=0.9, zorder=1)
    for edge in (0.0, cell[2, 2]):
        axes.axhline(edge, color="0.5", lw=0.6)
    for edge in (corners.min(), corners.max()):
        axes.axvline(edge, color="0.5", lw=0.6)
    axes.set_aspect("equal")
    axes.set_xlabel(f"along {'ẑ × â' if along == 0 else 'b̂ × ẑ'} (Å)")
    axes.set_title(f"view along {'a' if along == 0 else 'b'}", fontsize=9)


def structure_side_views(
    positions_ang: ArrayLike, cell_ang: ArrayLike, symbols: Sequence[str], domains: Sequence[str]
) -> Figure:
    """Two side views (along a, along b) of the model: heights z (Å) against the in-plane
    direction (Å), atoms coloured by element (Jmol colours, sized by covalent radius),
    domain boundaries dashed red, the cell edges grey; legend of elements and boundary."""
    cell = np.asarray(cell_ang, dtype=float)
    fractional = np.mod(np.linalg.solve(cell.T, np.asarray(positions_ang, dtype=float).T).T, 1.0)
    positions = fractional @ cell
    numbers = np.array([atomic_numbers[symbol] for symbol in symbols])
    boundaries = domain_boundaries_ang(positions[:, 2], domains, float(cell[2, 2]))
    width = max(float(np.linalg.norm(cell[0])), float(np.linalg.norm(cell[1])))
    height = min(9.0, max(4.0, 2.2 * cell[2, 2] / width))
    figure = Figure(figsize=(5.5, height), layout="constrained")
    views = figure.subplots(1, 2, sharey=True)
    for along, axes in enumerate(views):
        _draw_view(axes, positions, cell, numbers, along, boundaries)
    views[0].set_ylabel("z, along the interface normal (Å)")
    handles = [
        views[1].scatter([], [], color=jmol_colors[atomic_numbers[s]], edgecolors="k", label=s)
        for s in sorted(set(symbols), key=lambda s: atomic_numbers[s])
    ]
    handles.append(views[1].axhline(np.nan, color="tab:red", ls="--", label="domain boundary"))
    figure.legend(
        handles=handles, loc="outside lower center", ncols=len(handles), fontsize=7, frameon=False
    )
    return figure
