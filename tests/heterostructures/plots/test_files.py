"""The one figure writer: SVG keeps text as text, PNG is 300 dpi, formats follow suffixes.

References: the PNG pHYs chunk as Pillow reads it (dots per inch), and the SVG text
element of the SVG 1.1 specification.
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from matplotlib.figure import Figure
from PIL import Image

from heterostructures.plots.files import PNG_DPI, figure_files, save_figure, write_figure


def labelled_figure() -> Figure:
    figure = Figure(figsize=(2, 1))
    figure.subplots().set_title("ΔE_C searchable")
    return figure


def test_png_is_300_dpi_and_svg_keeps_its_text() -> None:
    files = figure_files(labelled_figure())
    png = Image.open(io.BytesIO(files["png"]))
    assert png.info["dpi"] == pytest.approx((PNG_DPI, PNG_DPI), abs=0.1)
    assert png.size == (2 * PNG_DPI, 1 * PNG_DPI)
    svg = files["svg"].decode()
    assert "<text" in svg
    assert "searchable" in svg


def test_files_are_written_by_suffix(tmp_path: Path) -> None:
    paths = write_figure(labelled_figure(), tmp_path / "new", "stem")
    assert paths == {"svg": tmp_path / "new" / "stem.svg", "png": tmp_path / "new" / "stem.png"}
    assert paths["png"].read_bytes().startswith(b"\x89PNG")
    assert save_figure(labelled_figure(), tmp_path / "one.svg").read_text().startswith("<?xml")
