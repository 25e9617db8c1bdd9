"""Convergence figures of pw.x runs: SCF accuracy per iteration, BFGS energy and force per step.

Fed the arrays aiida-quantumespresso stores in a PwCalculation's ``output_trajectory``:
``scf_accuracy`` (pw.x's "estimated scf accuracy", Ry, every SCF iteration of every ionic
step in order) with ``scf_iterations`` (iterations per ionic step), ``energy`` (eV, one per
ionic step) and ``forces`` (eV/Å, steps × atoms × 3; pw.x prints zero force components on
fixed coordinates, so the maximum runs over the free atoms). Plain matplotlib, no AiiDA.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from matplotlib.figure import Figure
from numpy.typing import ArrayLike, NDArray

from heterostructures.units import RY_PER_BOHR_IN_EV_PER_ANGSTROM


def max_force_per_step(forces_ev_ang: ArrayLike) -> NDArray:
    """Largest atomic force |F| (eV/Å) of each ionic step (steps × atoms × 3 in)."""
    forces = np.asarray(forces_ev_ang, dtype=float)
    if forces.ndim != 3 or forces.shape[-1] != 3:
        raise ValueError(f"forces must be steps × atoms × 3 (eV/Å), got shape {forces.shape}")
    return np.asarray(np.linalg.norm(forces, axis=-1).max(axis=-1))


def scf_convergence_figure(
    accuracies_ry: ArrayLike,
    iterations_per_step: Sequence[int] | None = None,
    threshold_ry: float | None = None,
    title: str = "interface SCF",
) -> Figure:
    """Estimated SCF accuracy (Ry, log scale) against the SCF iteration counted from the
    start; ionic steps (``iterations_per_step``) are separated by dotted lines and
    ``threshold_ry`` (pw.x ``conv_thr``) is dashed."""
    values = np.asarray(accuracies_ry, dtype=float)
    if values.ndim != 1 or values.size == 0 or np.any(values <= 0):
        raise ValueError("need ≥ 1 positive SCF accuracy (Ry)")
    figure = Figure(figsize=(5.5, 3.2), layout="constrained")
    axes = figure.add_subplot()
    iterations = np.arange(1, values.size + 1)
    axes.semilogy(
        iterations, values, marker="o", ms=3, color="tab:blue", label="estimated accuracy"
    )
    if iterations_per_step is not None and len(iterations_per_step) > 1:
        for end in np.cumsum(iterations_per_step)[:-1]:
            axes.axvline(end + 0.5, color="0.6", ls=":", lw=0.8)
    if threshold_ry is not None:
        axes.axhline(
            threshold_ry, color="k", ls="--", lw=0.8, label=f"conv_thr {threshold_ry:.0e} Ry"
        )
    axes.set_xlabel("SCF iteration")
    axes.set_ylabel("estimated scf accuracy (Ry)")
    axes.set_title(title, fontsize=9)
    axes.legend(fontsize=7, loc="upper right", frameon=False)
    return figure


def relaxation_figure(
    energies_ev: ArrayLike,
    forces_ev_ang: ArrayLike,
    force_threshold_ry_bohr: float | None = None,
    title: str = "interface relaxation (BFGS)",
) -> Figure:
    """Top: E − E_last (meV) per ionic step; bottom: the largest force (eV/Å, log scale)
    per step with pw.x's ``forc_conv_thr`` (given in Ry/bohr, drawn in eV/Å) dashed."""
    energies = np.asarray(energies_ev, dtype=float)
    largest = max_force_per_step(forces_ev_ang)
    if energies.size == 0:
        raise ValueError("need ≥ 1 ionic step energy (eV)")
    figure = Figure(figsize=(5.5, 4.5), layout="constrained")
    top, bottom = figure.subplots(2, 1, sharex=True)
    top.plot(np.arange(1, energies.size + 1), 1e3 * (energies - energies[-1]), marker="o", ms=3)
    top.set_ylabel("E − E$_{last}$ (meV)")
    top.set_title(title, fontsize=9)
    bottom.semilogy(
        np.arange(1, largest.size + 1),
        np.maximum(largest, 1e-12),
        marker="o",
        ms=3,
        color="tab:red",
        label="max |F| (free atoms)",
    )
    if force_threshold_ry_bohr is not None:
        threshold = force_threshold_ry_bohr * RY_PER_BOHR_IN_EV_PER_ANGSTROM
        bottom.axhline(
            threshold,
            color="k",
            ls="--",
            lw=0.8,
            label=f"forc_conv_thr {threshold:.3g} eV/Å (per component)",
        )
    bottom.set_xlabel("ionic step")
    bottom.set_ylabel("max |F| (eV/Å)")
    bottom.legend(fontsize=7, loc="upper right", frameon=False)
    return figure
