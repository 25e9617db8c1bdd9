"""Calcfunction of ``janus.alignment``: per-model band alignments → converged, gap-corrected series.

Only node ↔ plain-Python conversion lives here; the convergence rule, the gap correction
and the figures are :mod:`heterostructures.electronic.alignment_series`,
:mod:`heterostructures.electronic.band_gaps` and :mod:`heterostructures.plots.alignment`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

from aiida import orm
from aiida.engine import calcfunction

from heterostructures.electronic.alignment_series import SeriesModel
from heterostructures.electronic.alignment_verdict import VERDICT_ROUTES, analyse_series
from heterostructures.electronic.band_gaps import experimental_gap
from heterostructures.electronic.lineup_windows import MIN_DOMAIN_PLANES
from heterostructures.plots.alignment import (
    alignment_diagram_columns,
    alignment_diagram_figure,
    offsets_vs_thickness_figure,
)
from heterostructures.structure.slab_geometry import normal_length_ang
from workflows.calcfunctions.figures import figure_nodes


def model_label(perovskite_planes: int, chalcogenide_planes: int) -> str:
    """Namespace-safe label of a model, e.g. ``p5_c4`` (5 perovskite, 4 chalcogenide planes)."""
    return f"p{perovskite_planes}_c{chalcogenide_planes}"


def plan_models(thicknesses: Sequence[Any]) -> list[tuple[int, int]]:
    """(perovskite planes, chalcogenide planes) pairs, checked and sorted thin to thick.

    Raises ``ValueError`` naming the fix: fewer than two models (no convergence can be
    stated), pairs that are not two positive integers, a domain of one atomic plane (no
    stacking period for the potential line-up and no bulk-like middle layer for the band
    edges: the electronic analysis would refuse it after every SCF had run), or the same
    model twice.
    """
    pairs = []
    for item in thicknesses:
        values = list(item) if isinstance(item, list | tuple) else [item]
        if len(values) != 2 or not all(isinstance(v, int) and v > 0 for v in values):
            raise ValueError(
                f"{item!r} is not [perovskite planes, chalcogenide planes] (positive integers)"
            )
        if min(values) < MIN_DOMAIN_PLANES:
            raise ValueError(
                f"{item!r} has a domain of one atomic plane: give each domain at least "
                f"{MIN_DOMAIN_PLANES} planes (e.g. [3, 2])"
            )
        pairs.append((int(values[0]), int(values[1])))
    if len(set(pairs)) != len(pairs):
        raise ValueError(f"{pairs} repeats a model: give each thickness once")
    if len(pairs) < 2:
        raise ValueError("give at least two models: convergence is the change between them")
    return sorted(pairs, key=lambda pair: (sum(pair), pair))


def experimental_gap_inputs(perovskite: str, chalcogenide: str) -> dict[str, dict[str, Any]]:
    """Cited bulk gaps of both materials by side (``experimental_gaps`` input), with sources."""
    return {
        side: dataclasses.asdict(experimental_gap(material))
        for side, material in (("perovskite", perovskite), ("chalcogenide", chalcogenide))
    }


def model_batches(labels: Sequence[str], max_concurrent: int) -> list[list[str]]:
    """The thinnest model alone, then the others ``max_concurrent`` at a time (0: all)."""
    rest = list(labels[1:])
    size = max_concurrent if max_concurrent > 0 else max(len(rest), 1)
    return [[labels[0]]] + [rest[i : i + size] for i in range(0, len(rest), size)]


def _series_models(
    planned: list[tuple[int, int]], nodes: Mapping[str, orm.Data]
) -> tuple[list[SeriesModel], list[dict[str, Any]]]:
    models, alignments = [], []
    for perovskite, chalcogenide in planned:
        label = model_label(perovskite, chalcogenide)
        structure = nodes[f"structure_{label}"]
        assert isinstance(structure, orm.StructureData)
        models.append(
            SeriesModel(
                label=f"{perovskite}+{chalcogenide}",
                perovskite_planes=perovskite,
                chalcogenide_planes=chalcogenide,
                n_atoms=len(structure.sites),
                period_ang=normal_length_ang(structure.cell),
            )
        )
        alignments.append(nodes[f"alignment_{label}"].get_dict())
    return models, alignments


def _gap_sets(nodes: Mapping[str, orm.Data]) -> dict[str, dict[str, Any]]:
    """Cited experimental and HSE06 gaps by side (PBE gaps come with each alignment)."""
    gaps: dict[str, dict[str, Any]] = {}
    if "experimental_gaps" in nodes:
        gaps["experiment"] = nodes["experimental_gaps"].get_dict()
    hybrid = {
        name.removeprefix("hybrid_"): node.get_dict()
        for name, node in nodes.items()
        if name.startswith("hybrid_")
    }
    if hybrid:
        gaps["HSE06"] = hybrid
    return gaps


FIGURES = ("offsets_vs_thickness", "band_alignment_diagram")
"""Output labels of the figures; ``<label>_vector`` is the SVG (workflows.provenance.report copies
both)."""


def _figure_nodes(analysis: Any, models: list[SeriesModel]) -> tuple[dict[str, orm.Data], dict]:
    """Both figures as PNG (300 dpi) and SVG ``SinglefileData``, and their captions."""
    figures = {
        "offsets_vs_thickness": offsets_vs_thickness_figure(
            models, analysis.offsets, analysis.converged
        ),
        "band_alignment_diagram": alignment_diagram_figure(alignment_diagram_columns(analysis)),
    }
    nodes: dict[str, orm.Data] = {}
    captions = {}
    for name, (figure, caption) in figures.items():
        files = figure_nodes(figure, name)
        nodes[name], nodes[f"{name}_vector"] = files["png"], files["svg"]
        captions[name] = caption
    return nodes, captions


@calcfunction
def series_outputs(thicknesses: orm.List, **nodes: orm.Data) -> dict[str, orm.Data]:
    """``series`` Dict and the figures (PNG + ``_vector`` SVG) of a thickness series.

    ``nodes``: ``structure_<label>`` and ``alignment_<label>`` (janus.electronic
    ``band_alignment``) per model, optional ``experimental_gaps`` and ``hybrid_<side>``.
    """
    models, alignments = _series_models(plan_models(thicknesses.get_list()), nodes)
    analysis = analyse_series(models, alignments, _gap_sets(nodes), VERDICT_ROUTES)
    figures, captions = _figure_nodes(analysis, models)
    return {"series": orm.Dict(analysis.as_dict() | {"captions": captions}), **figures}
