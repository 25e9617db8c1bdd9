"""Writing figures, once for every figure module: SVG (vector) and 300 dpi PNG.

SVG keeps text as text (``svg.fonttype = none``: searchable, editable in a paper); PNG
is rendered at :data:`PNG_DPI`. Works on a plain matplotlib ``Figure`` (no pyplot state).
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path

import matplotlib as mpl
from matplotlib.figure import Figure

PNG_DPI = 300
FORMATS = ("svg", "png")


def figure_bytes(figure: Figure, fmt: str) -> bytes:
    """The figure as ``fmt`` (``svg`` or ``png``, 300 dpi) bytes."""
    buffer = io.BytesIO()
    with mpl.rc_context({"svg.fonttype": "none"}):
        figure.savefig(buffer, format=fmt, dpi=PNG_DPI)
    return buffer.getvalue()


def figure_files(figure: Figure, formats: Sequence[str] = FORMATS) -> dict[str, bytes]:
    """The figure in each of ``formats`` (default SVG and 300 dpi PNG), keyed by format."""
    return {fmt: figure_bytes(figure, fmt) for fmt in formats}


def save_figure(figure: Figure, path: str | Path) -> Path:
    """Write the figure to ``path`` in the format its suffix names (``.png``: 300 dpi)."""
    path = Path(path)
    path.write_bytes(figure_bytes(figure, path.suffix.removeprefix(".")))
    return path


def write_figure(
    figure: Figure, directory: Path, stem: str, formats: Sequence[str] = FORMATS
) -> dict[str, Path]:
    """Write ``<stem>.svg`` and ``<stem>.png`` (300 dpi) into ``directory``, by format."""
    directory.mkdir(parents=True, exist_ok=True)
    return {fmt: save_figure(figure, directory / f"{stem}.{fmt}") for fmt in formats}
