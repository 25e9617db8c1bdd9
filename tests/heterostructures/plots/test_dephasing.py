"""Dephasing figure: D(t), its Gaussian fit and τ, against a closed-form case.

Reference: a single-frequency gap fluctuation δE = A cos ωt has C(t) = (A²/2) cos ωt, so
the second-order cumulant is g(t) = A²(1 − cos ωt)/(2ħ²ω²) and D(t) = exp(−g(t)) in
closed form; PYXAID's τ is then 1/√b with b = Σ g(t_k)/Σ t_k² over the lags from 0 while
g < 2.3 (namd.cpp ``decoherence_rates``), ≈ 2ħ/A for a period much longer than τ. Libra's
τ = √(12/5) ħ/σ with σ = A/√2.
"""

from __future__ import annotations

import io
import math

import numpy as np
import pytest
from matplotlib.figure import Figure
from matplotlib.image import imread
from matplotlib.lines import Line2D

from heterostructures.dynamics.dephasing import DephasingConvention, pure_dephasing
from heterostructures.plots.dephasing import dephasing_figure, gaussian_model
from heterostructures.plots.files import figure_files
from heterostructures.units import HBAR_EV_FS

AMPLITUDE_EV, PERIOD_FS, DT_FS = 0.1, 200.0, 1.0
OMEGA = 2 * math.pi / PERIOD_FS


def _closed_form_cumulant(times_fs: np.ndarray) -> np.ndarray:
    return AMPLITUDE_EV**2 * (1 - np.cos(OMEGA * times_fs)) / (2 * (HBAR_EV_FS * OMEGA) ** 2)


def _closed_form_pyxaid_tau(times_fs: np.ndarray) -> float:
    g = _closed_form_cumulant(times_fs)
    kept = np.cumprod(g < 2.3).astype(bool)
    return 1.0 / math.sqrt(g[kept].sum() / (times_fs[kept] ** 2).sum())


def _stored(convention: DephasingConvention) -> tuple[np.ndarray, np.ndarray, dict]:
    """What ``janus.na_analysis`` stores for 40 periods of δE = A cos ωt."""
    times = np.arange(0.0, 40 * PERIOD_FS, DT_FS)
    result = pure_dephasing(
        AMPLITUDE_EV * np.cos(OMEGA * times),
        DT_FS,
        convention=convention,
        max_lag_fs=PERIOD_FS,
        n_bootstrap=20,
    )
    return result.times_fs, result.dephasing, result.fit.as_dict()


def _lines(figure: Figure) -> dict[str, Line2D]:
    axes = figure.axes[0]
    return {str(line.get_label()): line for line in axes.get_lines()}


def test_pyxaid_figure_draws_the_closed_form_d_its_gaussian_and_tau() -> None:
    times, dephasing, fit = _stored("pyxaid")
    figure = dephasing_figure(times, dephasing, fit, "pyxaid")
    lines = _lines(figure)
    drawn = np.asarray(lines["D(t) = exp(−g(t))"].get_ydata(), float)
    np.testing.assert_allclose(drawn, np.exp(-_closed_form_cumulant(times)), atol=5e-3)
    tau_ref = _closed_form_pyxaid_tau(times)
    assert tau_ref == pytest.approx(2 * HBAR_EV_FS / AMPLITUDE_EV, rel=0.05)
    fitted = lines["fit exp(−(t/τ)²)"]
    np.testing.assert_allclose(
        np.asarray(fitted.get_ydata(), float),
        np.exp(-((times / tau_ref) ** 2)),
        atol=5e-3,
    )
    xdata = [np.asarray(line.get_xdata(), float) for line in figure.axes[0].get_lines()]
    markers = [x[0] for x in xdata if x.size == 2 and np.ptp(x) == 0]
    assert markers == pytest.approx([tau_ref], rel=0.01)
    assert f"τ = {fit['tau_fs']:.1f} ± {fit['tau_sigma_fs']:.1f} fs" in figure.axes[0].get_title()
    assert figure.axes[0].get_xlabel() == "time lag t (fs)"


def test_libra_marks_tau_from_sigma_without_a_fitted_curve() -> None:
    times, dephasing, fit = _stored("libra")
    lines = _lines(dephasing_figure(times, dephasing, fit, "libra"))
    assert not [label for label in lines if label.startswith("fit")]
    expected = math.sqrt(12 / 5) * HBAR_EV_FS / (AMPLITUDE_EV / math.sqrt(2))
    assert fit["tau_fs"] == pytest.approx(expected, rel=1e-3)


def test_gaussian_models_of_the_conventions() -> None:
    times = np.array([0.0, 10.0, 20.0])
    pyxaid, sigma = (gaussian_model(name, times, 10.0) for name in ("pyxaid", "gaussian_sigma"))
    assert pyxaid is not None
    assert sigma is not None
    np.testing.assert_allclose(pyxaid, np.exp([0, -1, -4]))
    np.testing.assert_allclose(sigma, np.exp([0, -0.5, -2]))
    assert gaussian_model("libra", times, 10.0) is None
    assert gaussian_model("pyxaid", times, math.inf) is None
    with pytest.raises(ValueError, match="convention"):
        gaussian_model("kubo", times, 10.0)


def test_an_undecayed_dephasing_is_drawn_without_a_tau_line_and_written_at_300_dpi() -> None:
    times = np.arange(5.0)
    fit = {"tau_fs": None, "tau_sigma_fs": None, "window_fs": 4.0, "determined": False}
    figure = dephasing_figure(times, np.ones(5), fit, "pyxaid")
    assert "τ not finite" in figure.axes[0].get_title()
    files = figure_files(figure)
    height, width = imread(io.BytesIO(files["png"]), format="png").shape[:2]
    assert (width, height) == (6 * 300, round(3.5 * 300))
    assert b"<svg" in files["svg"][:1000]
    with pytest.raises(ValueError, match="≥ 2 lags"):
        dephasing_figure(times, np.ones(4), fit, "pyxaid")
