"""Pictures of the interface electronic structure (300 dpi PNG, no pyplot).

- :func:`plot_projected_dos`: PDOS coloured by domain and by element, like Fig. 4a of
  Qiu et al. 2023; the energy zero (Fermi level or the perovskite VBM) is on the axis.
- :func:`plot_band_edge_profile`: VBM/CBM of each layer along the normal.
- :func:`plot_potential_lineup`: planar/macroscopic potential and the ΔV windows.
- :func:`plot_transfer_densities`: side view of the planar-integrated IS and FS
  densities over the atomic planes (Fig. 4b as a 1D profile).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from heterostructures.electronic.projected_dos import LEVEL_OF_THEORY, BandEdges, GroupedDos
from heterostructures.plots.files import save_figure

DOMAIN_COLOURS = {"perovskite": "tab:blue", "chalcogenide": "tab:orange"}


def _colour(key: object, index: int) -> str:
    return DOMAIN_COLOURS.get(str(key), f"C{index}")


def plot_projected_dos(
    by_domain: GroupedDos,
    by_element: GroupedDos,
    zero_ev: float,
    zero_label: str,
    path: str | Path,
    window_ev: tuple[float, float] = (-3.0, 4.0),
) -> Path:
    """Two stacked panels (domains filled, elements as lines), energies relative to
    ``zero_ev`` (eV) and the axis says relative to what (``zero_label``, e.g. "E_F" or
    "VBM of CsPbBr3")."""
    figure = Figure(figsize=(6.0, 6.0))
    axes = figure.subplots(2, 1, sharex=True)
    for axis, grouped, filled in ((axes[0], by_domain, True), (axes[1], by_element, False)):
        energies = grouped.energies_ev - zero_ev
        for index, (key, dos) in enumerate(zip(grouped.keys, grouped.dos, strict=True)):
            if filled:
                axis.fill_between(
                    energies, dos, alpha=0.5, color=_colour(key, index), label=str(key)
                )
            else:
                axis.plot(energies, dos, color=f"C{index}", label=str(key))
        axis.axvline(0.0, color="k", lw=0.8, ls="--")
        axis.set_ylabel("PDOS (states/eV/cell)")
        # Scale to the states inside the window: semicore peaks outside it (Cd 4d,
        # Pb 5d, tens of states/eV) would otherwise flatten the edges to the axis.
        inside = (energies >= window_ev[0]) & (energies <= window_ev[1])
        peak = float(np.max(np.asarray(grouped.dos)[:, inside], initial=0.0))
        axis.set_ylim(0.0, 1.1 * peak if peak > 0 else 1.0)
        axis.legend(frameon=False)
    axes[1].set_xlim(*window_ev)
    axes[1].set_xlabel(f"E − {zero_label} (eV)")
    axes[0].set_title(LEVEL_OF_THEORY, fontsize=8)
    return _save(figure, path)


def plot_band_edge_profile(
    edges: Sequence[BandEdges],
    positions_ang: Sequence[float],
    zero_ev: float,
    zero_label: str,
    path: str | Path,
) -> Path:
    """VBM and CBM (eV, relative to ``zero_ev``) of each layer at its position (Å)."""
    figure = Figure(figsize=(6.0, 3.5))
    axis = figure.subplots()
    for attribute, label, colour in (
        ("vbm_ev", "VBM", "tab:blue"),
        ("cbm_ev", "CBM", "tab:red"),
    ):
        values = [getattr(edge, attribute) for edge in edges]
        points = [
            (z, v - zero_ev) for z, v in zip(positions_ang, values, strict=True) if v is not None
        ]
        if points:
            axis.plot(*np.array(points).T, "o-", color=colour, label=label)
    for z, edge in zip(positions_ang, edges, strict=True):
        if edge.metallic:
            axis.axvline(z, color="grey", alpha=0.4)
            axis.text(z, 0.0, "no gap", rotation=90, fontsize=7)
    axis.set_xlabel("position along the normal (Å)")
    axis.set_ylabel(f"E − {zero_label} (eV)")
    axis.legend(frameon=False)
    return _save(figure, path)


def plot_transfer_densities(
    z_ang: np.ndarray,
    initial: np.ndarray,
    final: np.ndarray,
    atom_z_ang: Sequence[float] | np.ndarray,
    atom_symbols: Sequence[str],
    atom_domains: Sequence[str],
    path: str | Path,
) -> Path:
    """IS and FS line densities λ(z) (Å⁻¹) over the atomic planes, coloured by domain."""
    figure = Figure(figsize=(7.0, 3.5))
    axis = figure.subplots()
    domains = list(dict.fromkeys(atom_domains))
    for z, symbol, domain in zip(atom_z_ang, atom_symbols, atom_domains, strict=True):
        colour = _colour(domain, domains.index(domain))
        axis.axvline(z, color=colour, alpha=0.35, lw=1.0)
        axis.text(z, 1.02, symbol, transform=axis.get_xaxis_transform(), ha="center", fontsize=7)
    axis.plot(z_ang, initial, color="tab:purple", label="IS")
    axis.plot(z_ang, final, color="tab:green", label="FS")
    axis.set_xlabel("position along the normal (Å)")
    axis.set_ylabel("∫∫|ψ|² dA (Å⁻¹)")
    axis.legend(frameon=False)
    return _save(figure, path)


def plot_potential_lineup(
    z_ang: np.ndarray,
    planar_ev: np.ndarray,
    macroscopic_ev: np.ndarray,
    regions_ang: dict[str, tuple[float, float]],
    delta_v_ev: float,
    path: str | Path,
) -> Path:
    """Planar and macroscopic averages of V_bare + V_H (eV) along the normal, with the
    middle-of-domain windows whose mean difference is the route 2 step ΔV."""
    figure = Figure(figsize=(7.0, 3.5))
    axis = figure.subplots()
    axis.plot(z_ang, planar_ev, color="0.6", lw=0.8, label="planar average")
    axis.plot(z_ang, macroscopic_ev, color="k", lw=1.5, label="macroscopic average")
    length = float(z_ang[1] - z_ang[0]) * len(z_ang)
    for index, (domain, (low, high)) in enumerate(regions_ang.items()):
        colour = _colour(domain, index)
        for shift in (-length, 0.0, length):  # windows may wrap around the cell
            if high + shift > z_ang[0] and low + shift < z_ang[-1]:
                axis.axvspan(low + shift, high + shift, color=colour, alpha=0.2)
        axis.plot([], [], color=colour, alpha=0.4, lw=6, label=f"middle of {domain}")
    axis.set_xlim(float(z_ang[0]), float(z_ang[-1]))
    axis.set_xlabel("position along the normal (Å)")
    axis.set_ylabel("V_bare + V_H (eV)")
    axis.set_title(f"ΔV = {delta_v_ev:+.3f} eV (first minus second domain)", fontsize=9)
    axis.legend(frameon=False, fontsize=7)
    return _save(figure, path)


def _save(figure: Figure, path: str | Path) -> Path:
    figure.tight_layout()
    return save_figure(figure, path)
