"""Fig. 4c/4d: which curves are drawn, how they are labelled, and the files written.

References: the curves handed in (the plotted data must be them, point by point); the
PNG header and its pixel size (300 dpi × the figure size in inches, read back with
matplotlib's own PNG reader); the SVG root element.
"""

from __future__ import annotations

import io

import numpy as np
from matplotlib.container import StemContainer
from matplotlib.image import imread
from matplotlib.lines import Line2D

from heterostructures.plots.files import figure_files
from heterostructures.plots.na import (
    DecayLabel,
    DynamicsCurves,
    dynamics_figure,
    spectral_density_figure,
)

TIMES = np.arange(0.0, 301.0)
DONOR = np.exp(-TIMES / 700.0)
INITIAL = np.exp(-TIMES / 150.0)
ENERGY = 0.1 * np.exp(-TIMES / 400.0)
ET = DecayLabel("ET", 700.0, 30.0, True, 640.0)
RELAX = DecayLabel("relax", 400.0, 20.0, True, 360.0)


def _lines(curves: DynamicsCurves) -> dict[str, Line2D]:
    figure = dynamics_figure(curves, ET, RELAX, "DISH, 1000 trajectories")
    left = figure.axes[0]
    return {str(line.get_label()): line for line in left.get_lines()}


def test_dynamics_figure_shows_the_fitted_domain_population_and_p_is_dashed() -> None:
    lines = _lines(DynamicsCurves(TIMES, DONOR, INITIAL, ENERGY, "perovskite"))
    fitted = lines["P$_{perovskite}$(t) (τ$_{ET}$ fitted)"]
    initial = lines["P$_{IS}$(t) (initial state)"]
    np.testing.assert_array_equal(fitted.get_ydata(), DONOR)
    assert fitted.get_linestyle() == "-"
    np.testing.assert_array_equal(initial.get_ydata(), INITIAL)
    assert initial.get_linestyle() == "--"
    fit = next(line for label, line in lines.items() if label.startswith("exp(−t/τ"))
    np.testing.assert_allclose(np.asarray(fit.get_ydata(), float), np.exp(-TIMES / 700.0))
    assert "700 ± 30 fs" in str(fit.get_label())


def test_without_domain_weights_p_is_is_drawn_once_as_the_fitted_curve() -> None:
    lines = _lines(DynamicsCurves(TIMES, INITIAL, INITIAL, ENERGY, None))
    assert "P$_{IS}$(t) (τ$_{ET}$ fitted)" in lines
    assert "P$_{IS}$(t) (initial state)" not in lines


def test_figures_are_written_as_svg_and_300_dpi_png() -> None:
    figure = spectral_density_figure([0.0, 100.0, 200.0], [0.0, 1.0, 0.5], [100.0], 33.0, True)
    files = figure_files(figure)
    assert files["png"][:8] == b"\x89PNG\r\n\x1a\n"
    height, width = imread(io.BytesIO(files["png"]), format="png").shape[:2]
    assert (width, height) == (6 * 300, round(3.5 * 300))
    assert b"<svg" in files["svg"][:1000]


def test_an_unresolved_spectrum_is_drawn_as_stems_at_its_bins() -> None:
    """The 0.4 demo's spectrum (bins 334 cm⁻¹ apart) drawn as a line showed a triangle
    "peak" at one bin. Unresolved: one stem per bin, at exactly the bin frequencies, and no
    line joining them; resolved: the line. Reference: the bin frequencies given."""
    frequencies = [0.0, 334.0, 668.0]
    unresolved = spectral_density_figure(frequencies, [0.0, 0.4, 0.1], [], 334.0, False)
    axes = unresolved.axes[0]
    plain_lines = [line for line in axes.get_lines() if line.get_marker() in ("None", "")]
    assert all(len(np.asarray(line.get_xdata())) != 3 for line in plain_lines)
    stems = [c for c in axes.containers if isinstance(c, StemContainer)]
    assert len(stems) == 1
    assert np.asarray(stems[0].markerline.get_xdata()).tolist() == frequencies
    resolved = spectral_density_figure(frequencies, [0.0, 0.4, 0.1], [], 33.0, True)
    assert not [c for c in resolved.axes[0].containers if isinstance(c, StemContainer)]


def test_energy_has_its_own_panel_and_the_legend_is_off_the_data() -> None:
    """The 0.4 demo's Fig. 4d put E(t) on a twin axis over the populations, with the legend
    on the curves. Now: populations on the top panel, E(t) alone on the bottom one, same
    time axis, legend placed above the top panel (anchored at y ≥ 1 in axes units)."""
    figure = dynamics_figure(
        DynamicsCurves(TIMES, DONOR, INITIAL, ENERGY, "perovskite"), ET, RELAX, "DISH"
    )
    top, bottom = figure.axes
    assert np.allclose(bottom.get_lines()[0].get_ydata(), ENERGY)
    assert all("E(t)" not in str(line.get_label()) for line in top.get_lines())
    assert top.get_shared_x_axes().joined(top, bottom)
    legend = top.get_legend()
    assert legend is not None
    anchor = legend.get_bbox_to_anchor().transformed(top.transAxes.inverted())
    assert anchor.y0 >= 1.0


def test_the_fitted_population_has_its_standard_error_band() -> None:
    """The band spans exactly mean ± SE at every time (reference: the arrays handed in);
    without an SE, or with NaN (one initial time), no band is drawn."""
    sem = 0.02 + 0.03 * TIMES / TIMES[-1]
    figure = dynamics_figure(
        DynamicsCurves(TIMES, DONOR, INITIAL, ENERGY, "perovskite", sem), ET, RELAX, "DISH"
    )
    top = figure.axes[0]
    (band,) = top.collections
    assert "standard error" in str(band.get_label())
    vertices, n = np.asarray(band.get_paths()[0].vertices, float), TIMES.size
    lower, upper = vertices[1 : n + 1], vertices[n + 2 : 2 * n + 2][::-1]
    np.testing.assert_allclose(lower, np.column_stack([TIMES, DONOR - sem]))
    np.testing.assert_allclose(upper, np.column_stack([TIMES, DONOR + sem]))
    for missing in (None, np.full(TIMES.size, np.nan)):
        curves = DynamicsCurves(TIMES, DONOR, INITIAL, ENERGY, "perovskite", missing)
        assert not dynamics_figure(curves, ET, RELAX, "DISH").axes[0].collections


def test_a_population_above_one_stays_on_the_figure() -> None:
    """P(t)/P(0) of a domain grows above 1 when the state's weight there grows (the 0.12
    demo reached ≈ 1.45); the axis must show it, standard error included. Reference: the
    arrays handed in; a population within [0, 1] keeps the limit 1.05."""
    grown = 1.0 + 0.2 * np.sin(TIMES / 20.0) ** 2
    sem = np.full(TIMES.size, 0.05)
    figure = dynamics_figure(
        DynamicsCurves(TIMES, grown, INITIAL, ENERGY, "perovskite", sem), ET, RELAX, "DISH"
    )
    bottom, top = figure.axes[0].get_ylim()
    assert bottom == 0.0
    assert top >= float((grown + sem).max())
    plain = dynamics_figure(
        DynamicsCurves(TIMES, DONOR, INITIAL, ENERGY, "perovskite"), ET, RELAX, "DISH"
    )
    assert plain.axes[0].get_ylim() == (0.0, 1.05)
