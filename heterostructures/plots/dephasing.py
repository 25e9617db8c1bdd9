"""Figure of the pure dephasing of the IS–FS gap: D(t), its Gaussian fit and the fitted τ.

D(t) = exp(−g(t)) is the second-order cumulant dephasing function that
:func:`heterostructures.dynamics.dephasing.pure_dephasing` computes and ``janus.na_analysis``
stores (``dephasing`` array, times in fs); τ is the stored fit in the named convention:
PYXAID's D ≈ exp(−(t/τ)²) regressed while D > 0.1 (the fit window shaded, D = 0.1 dotted),
``gaussian_sigma``'s exp(−t²/(2τ²)) over every lag, or Libra's √(12/5) ħ/σ (no fitted
curve: τ only marked). Plain matplotlib ``Figure``; files through
:mod:`heterostructures.plots.files`.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from matplotlib.figure import Figure
from numpy.typing import ArrayLike, NDArray

from heterostructures.dynamics.dephasing import CONVENTIONS, PYXAID_CUMULANT_LIMIT

PYXAID_FLOOR = math.exp(-PYXAID_CUMULANT_LIMIT)
"""D at PYXAID's cumulant limit g = 2.3: the fit keeps the lags above it (≈ 0.1)."""


def gaussian_model(convention: str, times_fs: ArrayLike, tau_fs: float) -> NDArray | None:
    """The Gaussian the convention fits, on ``times_fs``: exp(−(t/τ)²) (``pyxaid``),
    exp(−t²/(2τ²)) (``gaussian_sigma``); None for ``libra`` (τ from σ, no curve fitted)
    and for a τ that is not finite and positive."""
    if convention not in CONVENTIONS:
        raise ValueError(f"convention must be one of {sorted(CONVENTIONS)}, got {convention!r}")
    if convention == "libra" or not (math.isfinite(tau_fs) and tau_fs > 0):
        return None
    times = np.asarray(times_fs, dtype=float)
    scale = 1.0 if convention == "pyxaid" else 2.0
    return np.asarray(np.exp(-(times**2) / (scale * tau_fs**2)))


def _tau_text(tau_fs: float, sigma_fs: float, determined: bool) -> str:
    if not math.isfinite(tau_fs):
        return "τ not finite (D did not decay)"
    sigma = f" ± {sigma_fs:.1f}" if math.isfinite(sigma_fs) else ""
    return f"τ = {tau_fs:.1f}{sigma} fs" + ("" if determined else " (not determined)")


def dephasing_figure(
    times_fs: ArrayLike,
    dephasing: ArrayLike,
    fit: dict[str, Any],
    convention: str,
) -> Figure:
    """D(t) (dimensionless) against the time lag (fs) with the convention's Gaussian fit
    dashed and τ marked by a vertical line.

    ``fit``: the stored fit (``DecayFit.as_dict``: ``tau_fs`` and ``tau_sigma_fs`` in fs,
    None for inf; ``window_fs``, the lags the fit used; ``determined``).
    """
    times = np.asarray(times_fs, dtype=float)
    values = np.asarray(dephasing, dtype=float)
    if times.ndim != 1 or times.shape != values.shape or times.size < 2:
        raise ValueError(f"need D(t) on ≥ 2 lags, got shapes {times.shape} and {values.shape}")
    tau = math.inf if fit.get("tau_fs") is None else float(fit["tau_fs"])
    sigma = math.inf if fit.get("tau_sigma_fs") is None else float(fit["tau_sigma_fs"])
    figure = Figure(figsize=(6, 3.5), layout="constrained")
    axes = figure.add_subplot()
    axes.plot(times, values, color="k", marker="o", ms=2.5, lw=0.8, label="D(t) = exp(−g(t))")
    model = gaussian_model(convention, times, tau)
    if model is not None:
        form = "exp(−(t/τ)²)" if convention == "pyxaid" else "exp(−t²/2τ²)"
        axes.plot(times, model, color="tab:red", ls="--", label=f"fit {form}")
    if convention == "pyxaid" and fit.get("window_fs") is not None:
        axes.axvspan(0.0, float(fit["window_fs"]), color="tab:red", alpha=0.08, lw=0)
        axes.axhline(PYXAID_FLOOR, color="0.5", ls=":", lw=0.8, label="D = 0.1 (fit window)")
    text = _tau_text(tau, sigma, bool(fit.get("determined")))
    if math.isfinite(tau):
        axes.axvline(tau, color="tab:red", lw=0.8)
        axes.annotate(
            text, (tau, 1.0), xytext=(4, -4), textcoords="offset points", va="top", fontsize=8
        )
    axes.set_xlim(0.0, float(times[-1]) if not math.isfinite(tau) else min(times[-1], 4 * tau))
    axes.set_ylim(0.0, 1.05)
    axes.set_xlabel("time lag t (fs)")
    axes.set_ylabel("dephasing function D(t)")
    axes.set_title(f"pure dephasing of the IS–FS gap ({convention}): {text}", fontsize=9)
    axes.legend(fontsize=7, loc="upper right", frameon=False)
    return figure
