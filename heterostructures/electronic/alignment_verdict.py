"""Gap-corrected offsets and the type verdict of a thickness series (A − B, eV).

:func:`analyse_series` turns the stored ``band_alignment`` summaries of the models into
the series table and convergence (:mod:`heterostructures.electronic.alignment_series`), corrects
each route's converged ΔE_V with bulk gaps from PBE, experiment and HSE06
(:func:`heterostructures.electronic.band_gaps.gap_corrected`) and picks the type verdict
(:func:`heterostructures.electronic.band_gaps.type_verdict`) on the first preferred route that has
them; the line-up route is preferred because it compares bulk-like references, free of
the confinement of thin domains. The paper's stated levels ride along as a comparison.
No AiiDA.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from heterostructures.electronic.alignment_series import (
    CONVERGENCE_TOLERANCE_EV,
    AlignmentSeriesError,
    ConvergedOffset,
    RouteOffsets,
    SeriesModel,
    SeriesTable,
    pbe_bulk_gaps,
    route_offsets,
)
from heterostructures.electronic.band_gaps import (
    PAPER_LEVELS,
    GapCorrectedOffsets,
    gap_corrected,
    type_verdict,
)

VERDICT_ROUTES = ("potential_lineup", "projected_dos")
CORRECTION_SOURCES = ("experiment", "HSE06")
PAPER_PAIR = (PAPER_LEVELS.a.material, PAPER_LEVELS.b.material)
"""The paper's levels are a comparison only for its own pair, A = perovskite."""


@dataclass(frozen=True)
class SeriesAnalysis:
    """The series table, convergence, gap-corrected offsets per route and the type verdict.

    ``models`` and ``offsets`` keep the caller's order; ``materials`` name A and B for
    figures (the cited materials when experimental gaps are given, else the domains).
    """

    models: tuple[SeriesModel, ...]
    offsets: tuple[Mapping[str, RouteOffsets], ...]
    table: SeriesTable
    domains: tuple[str, str]
    materials: tuple[str, str]
    corrections: Mapping[str, tuple[GapCorrectedOffsets, ...]]
    verdict_route: str | None
    verdict: GapCorrectedOffsets | None
    verdict_reason: str

    @property
    def converged(self) -> tuple[ConvergedOffset, ...]:
        """Converged ΔE_V and ΔE_C of every route."""
        return self.table.converged

    def as_dict(self) -> dict[str, Any]:
        """JSON-safe; ``corrections`` are the verdict route's, ``paper`` the comparison."""
        undetermined = {"gap_source": None, "alignment_type": "undetermined"}
        chosen = self.verdict.as_dict() if self.verdict else undetermined
        return self.table.as_dict() | {
            "models": [model.as_dict() for model in self.models],
            "domains": list(self.domains),
            "materials": list(self.materials),
            "corrections": [
                c.as_dict() for c in self.corrections.get(self.verdict_route or "", ())
            ],
            "corrections_by_route": {
                route: [c.as_dict() for c in found] for route, found in self.corrections.items()
            },
            "verdict": chosen | {"route": self.verdict_route, "reason": self.verdict_reason},
            "paper": PAPER_LEVELS.as_dict() if self.materials == PAPER_PAIR else None,
        }


def _domains(alignments: Sequence[Mapping[str, Any]]) -> tuple[str, str]:
    pairs = {(str(a.get("domain_a")), str(a.get("domain_b"))) for a in alignments}
    if len(pairs) != 1:
        raise AlignmentSeriesError(f"models align different domain pairs {sorted(pairs)}")
    (pair,) = pairs
    return pair


def _corrections(
    valence_ev: float,
    alignment: Mapping[str, Any],
    domains: tuple[str, str],
    gap_sets: Mapping[str, Mapping[str, Mapping[str, Any]]],
) -> tuple[GapCorrectedOffsets, ...]:
    """ΔE_V with the PBE gaps of the model's strained bulk references and each gap set."""
    found = []
    pbe = pbe_bulk_gaps(alignment)
    if pbe is not None:
        found.append(gap_corrected(valence_ev, pbe[0], pbe[1], "PBE"))
    for source in CORRECTION_SOURCES:
        if source in gap_sets:
            gaps = [float(gap_sets[source][domain]["gap_ev"]) for domain in domains]
            found.append(gap_corrected(valence_ev, gaps[0], gaps[1], source))
    return tuple(found)


def _verdict(
    converged: Sequence[ConvergedOffset],
    corrections: Mapping[str, tuple[GapCorrectedOffsets, ...]],
    verdict_routes: Sequence[str],
) -> tuple[str | None, GapCorrectedOffsets | None, str]:
    """The first preferred route with gap corrections, its chosen correction and why."""
    route = next((r for r in verdict_routes if corrections.get(r)), None)
    if route is None:
        return None, None, f"no route of {list(verdict_routes)} has a ΔE_V and bulk gaps"
    chosen, why = type_verdict(corrections[route])
    (valence,) = [c for c in converged if c.route == route and c.quantity == "valence"]
    state = "converged" if valence.converged else "NOT converged"
    return route, chosen, f"{route} ({state}: {valence.reason}); {why}"


def analyse_series(
    models: Sequence[SeriesModel],
    alignments: Sequence[Mapping[str, Any]],
    gap_sets: Mapping[str, Mapping[str, Mapping[str, Any]]] | None = None,
    verdict_routes: Sequence[str] = VERDICT_ROUTES,
    tolerance_ev: float = CONVERGENCE_TOLERANCE_EV,
) -> SeriesAnalysis:
    """The whole series from the stored ``band_alignment`` summaries, one per model.

    ``gap_sets``: bulk gaps by source ("experiment", "HSE06") and domain, each a mapping
    with ``gap_ev`` (e.g. :meth:`heterostructures.electronic.band_gaps.BandGap.as_dict`); PBE gaps
    come from each alignment's strained bulk references. Each route's converged ΔE_V is
    gap-corrected with the PBE gaps of the model it comes from and with every gap set.
    """
    gap_sets = gap_sets or {}
    unknown = set(gap_sets) - set(CORRECTION_SOURCES)
    if unknown:
        raise AlignmentSeriesError(f"gap sets {sorted(unknown)}: use {CORRECTION_SOURCES}")
    offsets = tuple(route_offsets(alignment) for alignment in alignments)
    table = SeriesTable.from_series(models, offsets, tolerance_ev)
    domains = _domains(alignments)
    by_model = {model.label: alignment for model, alignment in zip(models, alignments, strict=True)}
    corrections = {
        item.route: _corrections(item.value_ev, by_model[item.model], domains, gap_sets)
        for item in table.converged
        if item.quantity == "valence" and item.value_ev is not None
    }
    cited = gap_sets.get("experiment", {})
    materials = (
        str(cited.get(domains[0], {}).get("material", domains[0])),
        str(cited.get(domains[1], {}).get("material", domains[1])),
    )
    route, chosen, reason = _verdict(table.converged, corrections, verdict_routes)
    return SeriesAnalysis(
        tuple(models), offsets, table, domains, materials, corrections, route, chosen, reason
    )
