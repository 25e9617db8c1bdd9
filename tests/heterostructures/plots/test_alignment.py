"""Figures of the alignment series: data drawn, ± tolerance band, files and their format.

References: the offsets handed in (each plotted line must be them, point by point, at
the models' periods); the level diagram's edges worked by hand (VBM of A = 0, VBM of B =
−ΔE_V, CBMs one gap above); the PNG's own header (pixel size = 300 dpi × inches, the
pHYs resolution read back with Pillow); the SVG text (vector paths, labels as text).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from matplotlib.patches import Rectangle
from PIL import Image

from heterostructures.electronic.alignment_series import RouteOffsets, SeriesModel, converge
from heterostructures.electronic.band_gaps import PAPER_LEVELS, gap_corrected
from heterostructures.plots.alignment import (
    DiagramColumn,
    alignment_diagram_figure,
    offsets_vs_thickness_figure,
)
from heterostructures.plots.files import write_figure

MODELS = [
    SeriesModel("3+2", 3, 2, 13, 15.5),
    SeriesModel("5+4", 5, 4, 26, 27.3),
    SeriesModel("7+6", 7, 6, 39, 39.1),
]
VALENCE: dict[str, list[float | None]] = {
    "projected_dos": [0.30, 0.18, 0.15],
    "potential_lineup": [-0.5, None, 0.2],
}


def _route(route: str, valence: float | None) -> RouteOffsets:
    """ΔE_C = ΔE_V + 0.1 eV, so both panels show the same shape shifted."""
    return RouteOffsets(route, valence, None if valence is None else valence + 0.1, "II")


def _offsets() -> list[dict[str, RouteOffsets]]:
    return [
        {route: _route(route, values[i]) for route, values in VALENCE.items()}
        for i in range(len(MODELS))
    ]


def test_offsets_vs_thickness_draws_the_series_and_the_tolerance_band(tmp_path: Path) -> None:
    offsets = _offsets()
    converged = converge(MODELS, offsets)
    figure, caption = offsets_vs_thickness_figure(MODELS[::-1], offsets[::-1], converged)
    valence_axes = figure.axes[0]
    lines = {str(line.get_label()): line for line in valence_axes.get_lines()}
    projected = lines["projected DOS"]
    np.testing.assert_allclose(np.asarray(projected.get_xdata(), float), [15.5, 27.3, 39.1])
    np.testing.assert_allclose(np.asarray(projected.get_ydata(), float), [0.30, 0.18, 0.15])
    # The undetermined 5+4 line-up is left out, not drawn at 0.
    lineup = lines["potential line-up"]
    np.testing.assert_allclose(np.asarray(lineup.get_ydata(), float), [-0.5, 0.2])
    band = valence_axes.patches[0].get_path().get_extents(valence_axes.patches[0].get_transform())
    low, high = valence_axes.transData.inverted().transform([[0, band.y0], [0, band.y1]])[:, 1]
    assert (low, high) == pytest.approx((0.10, 0.20))
    assert valence_axes.get_ylabel() == "ΔE$_V$ (eV)"
    assert "(Å)" in figure.axes[1].get_xlabel()
    assert "projected DOS ΔE_V = +0.150 eV ± 0.030 eV (converged)" in caption
    assert "potential line-up ΔE_V = +0.200 eV ± 0.700 eV (not converged)" in caption
    paths = write_figure(figure, tmp_path, "offsets_vs_thickness")
    svg = paths["svg"].read_text()
    for label in ("3+2", "7+6", "projected DOS", "superlattice period normal to the interface"):
        assert label in svg
    _check_files(paths, (6.0, 5.0))


def test_alignment_diagram_levels_offsets_and_types(tmp_path: Path) -> None:
    """Hand check of the first column: ΔE_V = −0.10, gaps 2.29 / 2.37 eV → A's CB box
    starts at 2.29, B's VB box ends at +0.10 and its CB box starts at 0.10 + 2.37 = 2.47."""
    experiment = gap_corrected(-0.10, 2.29, 2.37, "experiment")
    columns = [
        DiagramColumn("line-up, experiment gaps", experiment, "CsPbBr3", "CdS"),
        DiagramColumn("paper (Fig. 3c, vs RHE)", PAPER_LEVELS.offsets(), "CsPbBr3", "CdS"),
    ]
    figure, caption = alignment_diagram_figure(columns)
    axes = figure.axes[0]
    boxes = [p for p in axes.patches if isinstance(p, Rectangle)]
    assert len(boxes) == 8
    vb_a, cb_a, vb_b, cb_b = boxes[:4]
    assert vb_a.get_y() + vb_a.get_height() == pytest.approx(0.0)
    assert cb_a.get_y() == pytest.approx(2.29)
    assert vb_b.get_y() + vb_b.get_height() == pytest.approx(0.10)
    assert cb_b.get_y() == pytest.approx(2.47)
    texts = [text.get_text() for text in axes.texts]
    assert texts.count("type II") == 2
    assert "ΔE$_C$ -0.18" in texts
    assert [t.get_text() for t in axes.get_xticklabels()] == [c.label for c in columns]
    assert "comparison only" in caption
    assert "(gaps from paper)" in caption
    paths = write_figure(figure, tmp_path, "alignment_diagram")
    svg = paths["svg"].read_text()
    for label in ("type II", "CsPbBr3", "paper (Fig. 3c, vs RHE)", "relative to the VBM of A"):
        assert label in svg
    _check_files(paths, (4.0, 4.5))


def _check_files(paths: dict[str, Path], size_in: tuple[float, float]) -> None:
    assert paths["svg"].read_bytes().lstrip().startswith(b"<?xml")
    assert "<path" in paths["svg"].read_text()
    with Image.open(paths["png"]) as image:
        assert image.format == "PNG"
        assert image.size == (round(size_in[0] * 300), round(size_in[1] * 300))
        assert image.info["dpi"] == pytest.approx((300, 300), abs=0.01)
