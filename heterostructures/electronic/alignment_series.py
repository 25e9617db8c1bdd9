"""Band offsets of a thickness series of interface models and their convergence (eV, Å).

A band alignment of one thin model mixes the interface dipole with confinement and with
middle layers that are not bulk-like; only a series of growing thickness (3+2, 5+4, 7+6
planes with the same in-plane cell) says how far the offsets are from their thick limit.
Rule (issue 19): the value of an offset is that of the thickest model that determined
it; its uncertainty is the change from the next thinner model that determined it, and it
is "converged" only when that change is ≤ :data:`CONVERGENCE_TOLERANCE_EV`. Undetermined
offsets (metallic model, missing route) are skipped with their reason, never taken as 0.

Input per model is the ``band_alignment`` summary the electronic step stores
(``heterostructures.electronic.alignment_analysis.analyse_alignment``); offsets are A − B
(:data:`heterostructures.electronic.band_offsets.SIGN_CONVENTION`). Gap corrections and the type
verdict of a series are :mod:`heterostructures.electronic.alignment_verdict`. No AiiDA.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

CONVERGENCE_TOLERANCE_EV = 0.05
ROUTES = ("projected_dos", "eigenvalues", "potential_lineup")
QUANTITIES = ("valence", "conduction")
SAME_THICKNESS_ANG = 1e-3
_ROUNDING_EV = 1e-9


class AlignmentSeriesError(ValueError):
    """A series or a stored alignment that cannot be used; the message says what to fix."""


@dataclass(frozen=True)
class SeriesModel:
    """One model of the series; ``period_ang`` is the cell length normal to the interface."""

    label: str
    perovskite_planes: int
    chalcogenide_planes: int
    n_atoms: int
    period_ang: float

    def as_dict(self) -> dict[str, Any]:
        """JSON-safe fields (keys = field names)."""
        return asdict(self)


@dataclass(frozen=True)
class RouteOffsets:
    """Offsets A − B (eV) of one route in one model; None where undetermined (see reason)."""

    route: str
    valence_offset_ev: float | None
    conduction_offset_ev: float | None
    alignment_type: str
    reason: str = ""
    uncertainty_ev: float | None = None

    def offset(self, quantity: str) -> float | None:
        """ΔE_V ("valence") or ΔE_C ("conduction") in eV."""
        if quantity not in QUANTITIES:
            raise AlignmentSeriesError(f"quantity {quantity!r}: use one of {QUANTITIES}")
        return self.valence_offset_ev if quantity == "valence" else self.conduction_offset_ev

    def as_dict(self) -> dict[str, Any]:
        """JSON-safe fields (keys = field names)."""
        return asdict(self)


def _number(route: str, stored: Mapping[str, Any], key: str) -> float | None:
    value = stored.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise AlignmentSeriesError(f"route {route}: {key} = {value!r} is not a number (eV)")
    return float(value)


def _route(route: str, stored: Mapping[str, Any]) -> RouteOffsets:
    missing = {"valence_offset_ev", "conduction_offset_ev", "alignment_type"} - set(stored)
    if missing:
        raise AlignmentSeriesError(
            f"route {route} lacks {sorted(missing)}: pass the band_alignment Dict of "
            "janus.electronic unchanged"
        )
    valence = _number(route, stored, "valence_offset_ev")
    conduction = _number(route, stored, "conduction_offset_ev")
    if (valence is None) != (conduction is None):
        raise AlignmentSeriesError(f"route {route}: one offset is set and the other is not")
    return RouteOffsets(
        route=route,
        valence_offset_ev=valence,
        conduction_offset_ev=conduction,
        alignment_type=str(stored["alignment_type"]),
        reason=str(stored.get("reason", "")),
        uncertainty_ev=_number(route, stored, "uncertainty_ev"),
    )


def route_offsets(band_alignment: Mapping[str, Any]) -> dict[str, RouteOffsets]:
    """Offsets of every route in a stored ``band_alignment`` summary, keyed by route.

    A model with no gap (status "undetermined", no ``routes``) gives both projected routes
    as undetermined with the stored reason, so the series can say why it skipped them.
    """
    routes = band_alignment.get("routes")
    if routes is None:
        reason = str(band_alignment.get("reason") or "no routes in the stored alignment")
        return {
            route: RouteOffsets(route, None, None, "undetermined", reason) for route in ROUTES[:2]
        }
    if not isinstance(routes, Mapping):
        raise AlignmentSeriesError(f"'routes' is {type(routes).__name__}, not a mapping")
    return {str(route): _route(str(route), stored) for route, stored in routes.items()}


def pbe_bulk_gaps(band_alignment: Mapping[str, Any]) -> tuple[float, float] | None:
    """(E_g^A, E_g^B) in eV of the strained PBE bulk references, or None without them."""
    gaps = band_alignment.get("bulk_gaps_ev")
    if not gaps:
        return None
    return float(gaps[band_alignment["domain_a"]]), float(gaps[band_alignment["domain_b"]])


@dataclass(frozen=True)
class ConvergedOffset:
    """An offset (eV) of the series: thickest determined value, change as uncertainty."""

    route: str
    quantity: str
    value_ev: float | None
    uncertainty_ev: float | None
    converged: bool
    model: str
    reason: str

    def as_dict(self) -> dict[str, Any]:
        """JSON-safe fields (keys = field names)."""
        return asdict(self)


def sorted_series(
    models: Sequence[SeriesModel], offsets: Sequence[Mapping[str, RouteOffsets]]
) -> list[tuple[SeriesModel, Mapping[str, RouteOffsets]]]:
    """Models with their offsets, thinnest first; refuses mismatched or equal thicknesses."""
    if len(models) != len(offsets):
        raise AlignmentSeriesError(
            f"{len(models)} models but {len(offsets)} sets of offsets: pass one per model"
        )
    pairs = sorted(zip(models, offsets, strict=True), key=lambda pair: pair[0].period_ang)
    for (thin, _), (thick, _) in itertools.pairwise(pairs):
        if thick.period_ang - thin.period_ang < SAME_THICKNESS_ANG:
            raise AlignmentSeriesError(
                f"models {thin.label} and {thick.label} have the same thickness "
                f"({thin.period_ang:.3f} Å): a series needs growing periods"
            )
    return pairs


def _converged_offset(
    route: str,
    quantity: str,
    series: list[tuple[SeriesModel, Mapping[str, RouteOffsets]]],
    tolerance_ev: float,
) -> ConvergedOffset:
    """One route and quantity through the series (thinnest first)."""
    determined: list[tuple[str, float]] = []
    skipped: list[str] = []
    for model, model_offsets in series:
        result = model_offsets.get(route)
        value = None if result is None else result.offset(quantity)
        if value is None:
            why = "route not computed" if result is None else (result.reason or "undetermined")
            skipped.append(f"{model.label} skipped ({why})")
        else:
            determined.append((model.label, value))
    notes = "; ".join(skipped)
    if not determined:
        return ConvergedOffset(route, quantity, None, None, False, "", f"no model: {notes}")
    label, value = determined[-1]
    if len(determined) == 1:
        reason = f"only {label} determined it: no change to judge convergence by"
        return ConvergedOffset(route, quantity, value, None, False, label, _join(reason, notes))
    previous_label, previous = determined[-2]
    change = abs(value - previous)
    converged = change <= tolerance_ev + _ROUNDING_EV
    relation = "≤" if converged else ">"
    reason = (
        f"{label} {value:+.3f} eV, change from {previous_label} {change:.3f} eV "
        f"{relation} {tolerance_ev:.3f} eV"
    )
    return ConvergedOffset(route, quantity, value, change, converged, label, _join(reason, notes))


def _join(reason: str, notes: str) -> str:
    return f"{reason}; {notes}" if notes else reason


def converge(
    models: Sequence[SeriesModel],
    offsets: Sequence[Mapping[str, RouteOffsets]],
    tolerance_ev: float = CONVERGENCE_TOLERANCE_EV,
) -> list[ConvergedOffset]:
    """ΔE_V and ΔE_C of every route with their convergence over the thickness series.

    ``offsets[i]`` belongs to ``models[i]`` (e.g. from :func:`route_offsets`); the order
    of the input does not matter, the models are sorted by period.
    """
    series = sorted_series(models, offsets)
    routes = sorted({route for _, found in series for route in found}, key=_route_rank)
    return [
        _converged_offset(route, quantity, series, tolerance_ev)
        for route in routes
        for quantity in QUANTITIES
    ]


@dataclass(frozen=True)
class SeriesRow:
    """One line of the series table: a model and a route (eV, Å)."""

    model: str
    n_atoms: int
    period_ang: float
    route: str
    valence_offset_ev: float | None
    conduction_offset_ev: float | None
    alignment_type: str
    reason: str
    perovskite_planes: int
    chalcogenide_planes: int

    def as_dict(self) -> dict[str, Any]:
        """JSON-safe fields (keys = field names)."""
        return asdict(self)


def _cell(value: float | None) -> str:
    return "n/d" if value is None else f"{value:+.3f}"


@dataclass(frozen=True)
class SeriesTable:
    """ΔE_V, ΔE_C and type per model and route, and the converged values."""

    rows: tuple[SeriesRow, ...]
    converged: tuple[ConvergedOffset, ...]

    @classmethod
    def from_series(
        cls,
        models: Sequence[SeriesModel],
        offsets: Sequence[Mapping[str, RouteOffsets]],
        tolerance_ev: float = CONVERGENCE_TOLERANCE_EV,
    ) -> SeriesTable:
        """Rows thinnest model first, routes in :data:`ROUTES` order."""
        rows = [
            SeriesRow(
                model.label,
                model.n_atoms,
                model.period_ang,
                result.route,
                result.valence_offset_ev,
                result.conduction_offset_ev,
                result.alignment_type,
                result.reason,
                model.perovskite_planes,
                model.chalcogenide_planes,
            )
            for model, model_offsets in sorted_series(models, offsets)
            for result in sorted(model_offsets.values(), key=lambda r: _route_rank(r.route))
        ]
        return cls(tuple(rows), tuple(converge(models, offsets, tolerance_ev)))

    def markdown(self) -> str:
        """The table for the report (eV, Å); "n/d" marks an undetermined offset."""
        lines = [
            "| model | atoms | period (Å) | route | ΔE_V (eV) | ΔE_C (eV) | type |",
            "|---|---|---|---|---|---|---|",
        ]
        lines += [
            f"| {row.model} | {row.n_atoms} | {row.period_ang:.2f} | {row.route} | "
            f"{_cell(row.valence_offset_ev)} | {_cell(row.conduction_offset_ev)} | "
            f"{row.alignment_type} |"
            for row in self.rows
        ]
        return "\n".join(lines)

    def as_dict(self) -> dict[str, Any]:
        """JSON-safe: rows and converged values as lists of field dictionaries."""
        return {
            "rows": [row.as_dict() for row in self.rows],
            "converged": [item.as_dict() for item in self.converged],
        }


def _route_rank(route: str) -> tuple[int, str]:
    return (ROUTES.index(route) if route in ROUTES else len(ROUTES), route)
