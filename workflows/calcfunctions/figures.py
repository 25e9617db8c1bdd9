"""Figures as ``SinglefileData``: the one place calcfunctions turn a figure into nodes.

The files themselves (SVG with text kept as text, 300 dpi PNG) are written by
:mod:`heterostructures.plots.files`.
"""

from __future__ import annotations

import io
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from aiida import orm
from matplotlib.figure import Figure

from heterostructures.plots.files import figure_files


def figure_nodes(figure: Figure, stem: str) -> dict[str, orm.SinglefileData]:
    """``<stem>.svg`` (vector) and ``<stem>.png`` (300 dpi) as SinglefileData, by format."""
    return {
        fmt: orm.SinglefileData(io.BytesIO(content), filename=f"{stem}.{fmt}")
        for fmt, content in figure_files(figure).items()
    }


def png_node(plot: Callable[..., Path], *args: Any) -> orm.SinglefileData:
    """Run a plotting function that writes a PNG to its last argument, wrap the file."""
    with tempfile.TemporaryDirectory() as scratch:
        path = plot(*args, Path(scratch) / f"{plot.__name__.removeprefix('plot_')}.png")
        return orm.SinglefileData(file=path)
