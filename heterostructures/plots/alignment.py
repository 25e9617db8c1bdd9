"""Figures of the band alignment series: offsets against thickness and a level diagram.

:func:`offsets_vs_thickness_figure` shows ΔE_V and ΔE_C (A − B, eV) of every route
against the superlattice period (Å, model labels on the top axis) with the
±:data:`~heterostructures.electronic.alignment_series.CONVERGENCE_TOLERANCE_EV` band around the
converged value; :func:`alignment_diagram_figure` draws the VB/CB edges of both sides,
relative to the VBM of A, one column per route and gap correction plus one for the
paper's stated levels (:func:`alignment_diagram_columns` builds them from a
:class:`~heterostructures.electronic.alignment_verdict.SeriesAnalysis`). Both return the figure and
its caption. Files are SVG (text kept as text) and 300 dpi PNG through
:mod:`heterostructures.plots.files`. Plain matplotlib ``Figure``, no AiiDA.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from heterostructures.electronic.alignment_series import (
    CONVERGENCE_TOLERANCE_EV,
    QUANTITIES,
    ConvergedOffset,
    RouteOffsets,
    SeriesModel,
    sorted_series,
)
from heterostructures.electronic.alignment_verdict import SeriesAnalysis
from heterostructures.electronic.band_gaps import PAPER_LEVELS, GapCorrectedOffsets

ROUTE_NAMES = {
    "projected_dos": "projected DOS",
    "eigenvalues": "KS eigenvalues",
    "potential_lineup": "potential line-up",
}
QUANTITY_LABELS = {"valence": "ΔE$_V$ (eV)", "conduction": "ΔE$_C$ (eV)"}
BAND_DEPTH_EV = 0.6
BOX_WIDTH = 1.0
COLUMN_PITCH = 3.2
ARROW = {"arrowstyle": "<->", "lw": 0.8, "shrinkA": 0, "shrinkB": 0, "mutation_scale": 6}


def _route_points(
    series: list[tuple[SeriesModel, Mapping[str, RouteOffsets]]], route: str, quantity: str
) -> tuple[list[float], list[float]]:
    """Periods (Å) and offsets (eV) of the models that determined this route's offset."""
    points = [
        (model.period_ang, value)
        for model, found in series
        if route in found and (value := found[route].offset(quantity)) is not None
    ]
    return [p for p, _ in points], [v for _, v in points]


def _draw_quantity(
    axes: Axes,
    series: list[tuple[SeriesModel, Mapping[str, RouteOffsets]]],
    converged: Sequence[ConvergedOffset],
    quantity: str,
    tolerance_ev: float,
) -> None:
    """One panel: each route's offset against the period, its ± tolerance band."""
    for index, item in enumerate(c for c in converged if c.quantity == quantity):
        color = f"C{index}"
        periods, values = _route_points(series, item.route, quantity)
        name = ROUTE_NAMES.get(item.route, item.route)
        axes.plot(periods, values, marker="o", color=color, label=name)
        if item.value_ev is not None:
            low, high = item.value_ev - tolerance_ev, item.value_ev + tolerance_ev
            axes.axhspan(low, high, color=color, alpha=0.15, lw=0)
            axes.axhline(item.value_ev, color=color, lw=0.8, ls=":")
    axes.axhline(0.0, color="0.5", lw=0.6)
    axes.set_ylabel(QUANTITY_LABELS[quantity])


def offsets_vs_thickness_figure(
    models: Sequence[SeriesModel],
    offsets: Sequence[Mapping[str, RouteOffsets]],
    converged: Sequence[ConvergedOffset],
    tolerance_ev: float = CONVERGENCE_TOLERANCE_EV,
) -> tuple[Figure, str]:
    """ΔE_V (top) and ΔE_C (bottom) per route against the period (Å), ± tolerance shaded,
    and the caption with the converged values."""
    series = sorted_series(models, offsets)
    figure = Figure(figsize=(6.0, 5.0), layout="constrained")
    top_axes, bottom_axes = figure.subplots(2, 1, sharex=True)
    for axes, quantity in zip((top_axes, bottom_axes), QUANTITIES, strict=True):
        _draw_quantity(axes, series, converged, quantity, tolerance_ev)
    bottom_axes.set_xlabel("superlattice period normal to the interface (Å)")
    labels_axis = top_axes.secondary_xaxis("top")
    labels_axis.set_xticks([model.period_ang for model, _ in series])
    labels_axis.set_xticklabels([model.label for model, _ in series])
    labels_axis.set_xlabel("model (perovskite + chalcogenide planes)")
    top_axes.legend(fontsize=8, loc="best")
    return figure, _thickness_caption(converged, tolerance_ev)


def _thickness_caption(
    converged: Sequence[ConvergedOffset], tolerance_ev: float = CONVERGENCE_TOLERANCE_EV
) -> str:
    """Caption: what is drawn and the converged values with their uncertainty."""
    parts = [
        f"{ROUTE_NAMES.get(c.route, c.route)} ΔE_{c.quantity[0].upper()} = "
        + (
            "not determined"
            if c.value_ev is None
            else f"{c.value_ev:+.3f} eV"
            + ("" if c.uncertainty_ev is None else f" ± {c.uncertainty_ev:.3f} eV")
            + (" (converged)" if c.converged else " (not converged)")
        )
        for c in converged
    ]
    return (
        "Band offsets A − B (PBE, no spin–orbit coupling) of each route against the "
        f"superlattice period; shaded: ±{tolerance_ev:.2f} eV around the thickest model's "
        "value, the convergence criterion. " + "; ".join(parts) + "."
    )


@dataclass(frozen=True)
class DiagramColumn:
    """One column of the level diagram: a label, the offsets drawn and the two sides."""

    label: str
    offsets: GapCorrectedOffsets
    material_a: str
    material_b: str


def _draw_side(axes: Axes, x: float, vbm: float, cbm: float, color: str, name: str) -> None:
    """VB and CB boxes of one side (eV) with its gap and name."""
    for bottom in (vbm - BAND_DEPTH_EV, cbm):
        axes.add_patch(
            Rectangle((x, bottom), BOX_WIDTH, BAND_DEPTH_EV, facecolor=color, alpha=0.6, lw=0.8)
        )
    middle = x + BOX_WIDTH / 2
    axes.text(middle, (vbm + cbm) / 2, f"{cbm - vbm:.2f} eV", ha="center", va="center", size=7)
    axes.text(middle, vbm - BAND_DEPTH_EV - 0.1, name, ha="center", va="top", size=8)


def _draw_offset(axes: Axes, x: float, level_a: float, level_b: float, text: str) -> None:
    """A double arrow between the two sides' edges, labelled with the offset (eV)."""
    axes.annotate("", xy=(x, level_b), xytext=(x, level_a), arrowprops=ARROW)
    axes.text(x + 0.08, (level_a + level_b) / 2, text, ha="left", va="center", size=7)


def _draw_column(axes: Axes, x0: float, column: DiagramColumn) -> None:
    """Both sides of one column, relative to the VBM of A = 0 eV."""
    result = column.offsets
    vbm_b = -result.valence_offset_ev
    cbm_a, cbm_b = result.gap_a_ev, vbm_b + result.gap_b_ev
    x_b = x0 + BOX_WIDTH + 0.6
    _draw_side(axes, x0, 0.0, cbm_a, "tab:green", column.material_a)
    _draw_side(axes, x_b, vbm_b, cbm_b, "tab:orange", column.material_b)
    arrow_x = x0 + BOX_WIDTH + 0.1
    _draw_offset(axes, arrow_x, 0.0, vbm_b, f"ΔE$_V$ {result.valence_offset_ev:+.2f}")
    _draw_offset(axes, arrow_x, cbm_a, cbm_b, f"ΔE$_C$ {result.conduction_offset_ev:+.2f}")
    title_x = x0 + BOX_WIDTH + 0.3
    axes.text(
        title_x, 1.01, f"type {result.alignment_type}", transform=axes.get_xaxis_transform(),
        ha="center", va="bottom", size=9, weight="bold",
    )  # fmt: skip


def alignment_diagram_figure(columns: Sequence[DiagramColumn]) -> tuple[Figure, str]:
    """VB/CB levels of A and B per column (eV, VBM of A = 0), offsets and type labelled,
    and the caption."""
    if not columns:
        raise ValueError("an alignment diagram needs at least one column")
    figure = Figure(figsize=(max(4.0, 2.0 * len(columns)), 4.5), layout="constrained")
    axes = figure.add_subplot()
    levels = [0.0]
    for index, column in enumerate(columns):
        _draw_column(axes, index * COLUMN_PITCH, column)
        vbm_b = -column.offsets.valence_offset_ev
        levels += [column.offsets.gap_a_ev, vbm_b, vbm_b + column.offsets.gap_b_ev]
    axes.set_xlim(-0.4, (len(columns) - 1) * COLUMN_PITCH + 2 * BOX_WIDTH + 1.0)
    axes.set_ylim(min(levels) - BAND_DEPTH_EV - 0.6, max(levels) + BAND_DEPTH_EV + 0.2)
    centres = [i * COLUMN_PITCH + BOX_WIDTH + 0.3 for i in range(len(columns))]
    axes.set_xticks(centres, [column.label for column in columns], size=8)
    axes.set_ylabel("energy relative to the VBM of A (eV)")
    axes.tick_params(axis="x", length=0)
    return figure, _diagram_caption(columns)


def alignment_diagram_columns(analysis: SeriesAnalysis) -> list[DiagramColumn]:
    """One column per route and gap source of a series, then the paper's stated levels
    (for the paper's own pair only)."""
    a, b = analysis.materials
    columns = [
        DiagramColumn(f"{ROUTE_NAMES.get(route, route)}, {c.gap_source} gaps", c, a, b)
        for route, found in analysis.corrections.items()
        for c in found
    ]
    if analysis.materials != (PAPER_LEVELS.a.material, PAPER_LEVELS.b.material):
        return columns  # the paper states levels for CsPbBr3/CdS only
    paper = PAPER_LEVELS.offsets()
    label = "paper's statement (vs RHE)"
    return [*columns, DiagramColumn(label, paper, PAPER_LEVELS.a.material, PAPER_LEVELS.b.material)]


def _diagram_caption(columns: Sequence[DiagramColumn]) -> str:
    """Caption: the convention and, per column, its gap source and offsets (eV)."""
    parts = [
        f"{c.label}: ΔE_V {c.offsets.valence_offset_ev:+.2f} eV, ΔE_C "
        f"{c.offsets.conduction_offset_ev:+.2f} eV, type {c.offsets.alignment_type} "
        f"(gaps from {c.offsets.gap_source})"
        for c in columns
    ]
    return (
        "Band edges of A (green) and B (orange) relative to the VBM of A; offsets A − B "
        "with ΔE_C = ΔE_V + E_g^A − E_g^B; the paper's column shows its stated levels vs "
        "RHE for comparison only. " + "; ".join(parts) + "."
    )
