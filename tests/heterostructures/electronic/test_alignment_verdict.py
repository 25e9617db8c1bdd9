"""Gap corrections and the type verdict of a whole thickness series.

References: hand arithmetic on the stored numbers (the thickest model's ΔE_V, its change
from the thinner model, ΔE_C = ΔE_V + E_g^A − E_g^B with the PBE gaps of the strained
bulk references 0.48 / 1.27 eV and the cited gaps ZnS 3.54 / CdS 2.37 eV). The stored
alignments are copies of one made by the electronic step's own analysis from recorded QE
6.7 output (:func:`tests.heterostructures.electronic.test_alignment_series.recorded_alignment`),
with the route offsets of each model set by hand: the keys are the real ones.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from heterostructures.electronic.alignment_series import AlignmentSeriesError, SeriesModel
from heterostructures.electronic.alignment_verdict import analyse_series
from heterostructures.electronic.band_gaps import experimental_gap
from heterostructures.plots.alignment import alignment_diagram_columns
from tests.heterostructures.electronic.test_alignment_series import recorded_alignment

MODELS = (SeriesModel("3+2", 3, 2, 13, 15.5), SeriesModel("5+4", 5, 4, 26, 27.3))
LINEUP_VALENCE = (-0.62, -0.58)
PROJECTED_VALENCE = (0.30, 0.02)


def _series(template: dict[str, Any]) -> list[dict[str, Any]]:
    alignments = []
    for lineup, projected in zip(LINEUP_VALENCE, PROJECTED_VALENCE, strict=True):
        alignment = copy.deepcopy(template)
        routes = alignment["routes"]
        routes["potential_lineup"]["valence_offset_ev"] = lineup
        routes["potential_lineup"]["conduction_offset_ev"] = lineup + 0.48 - 1.27
        routes["projected_dos"]["valence_offset_ev"] = projected
        routes["projected_dos"]["conduction_offset_ev"] = projected + 0.1
        alignments.append(alignment)
    return alignments


def _experiment() -> dict[str, dict[str, Any]]:
    return {"experiment": {m: experimental_gap(m).as_dict() for m in ("ZnS", "CdS")}}


def test_series_corrections_and_verdict_by_hand(tmp_path: Path) -> None:
    """Line-up ΔE_V −0.62 → −0.58 eV: value −0.58 ± 0.04, converged. PBE: ΔE_C = −0.58 +
    0.48 − 1.27 = −1.37 eV, type III (CBM_A = −0.58 + 0.48 = −0.10 eV lies below VBM_B = 0:
    a broken gap with the small strained PBE gap of ZnS). Experiment: −0.58 + 3.54 − 2.37 =
    +0.59 eV, type I (ΔE_V < 0 < ΔE_C). The verdict takes the line-up and measured gaps."""
    alignments = _series(recorded_alignment(tmp_path))
    analysis = analyse_series(MODELS[::-1], alignments[::-1], _experiment())
    assert [m.label for m in analysis.models] == ["5+4", "3+2"]
    corrections = {c.gap_source: c for c in analysis.corrections["potential_lineup"]}
    assert corrections["PBE"].conduction_offset_ev == pytest.approx(-1.37)
    assert corrections["PBE"].alignment_type == "III"
    assert corrections["experiment"].conduction_offset_ev == pytest.approx(0.59)
    assert corrections["experiment"].alignment_type == "I"
    assert analysis.verdict_route == "potential_lineup"
    assert analysis.verdict is corrections["experiment"]
    assert "potential_lineup (converged: 5+4 -0.580 eV, change from 3+2 0.040 eV" in (
        analysis.verdict_reason
    )
    projected = {c.gap_source: c for c in analysis.corrections["projected_dos"]}
    assert projected["experiment"].conduction_offset_ev == pytest.approx(0.02 + 3.54 - 2.37)
    stored = json.loads(json.dumps(analysis.as_dict()))
    assert stored["verdict"]["gap_source"] == "experiment"
    assert stored["verdict"]["route"] == "potential_lineup"
    assert [c["gap_source"] for c in stored["corrections"]] == ["PBE", "experiment"]
    assert stored["paper"] is None, "the paper's levels compare with CsPbBr3/CdS only"
    assert analysis.materials == ("ZnS", "CdS")
    columns = alignment_diagram_columns(analysis)
    # Every route with a ΔE_V (the template's eigenvalue route too), in ROUTES order.
    assert [c.label for c in columns] == [
        f"{route}, {source} gaps"
        for route in ("projected DOS", "KS eigenvalues", "potential line-up")
        for source in ("PBE", "experiment")
    ]
    assert {(c.material_a, c.material_b) for c in columns} == {("ZnS", "CdS")}


def test_no_route_with_gaps_gives_no_verdict_and_says_why(tmp_path: Path) -> None:
    template = recorded_alignment(tmp_path)
    alignments = _series(template)
    for alignment in alignments:
        del alignment["routes"]["potential_lineup"]
        del alignment["bulk_gaps_ev"]
    analysis = analyse_series(MODELS, alignments, {}, verdict_routes=("potential_lineup",))
    assert analysis.verdict is None
    assert "no route of ['potential_lineup']" in analysis.verdict_reason
    assert analysis.as_dict()["verdict"]["alignment_type"] == "undetermined"


def test_unknown_gap_source_and_mixed_domain_pairs_are_refused(tmp_path: Path) -> None:
    alignments = _series(recorded_alignment(tmp_path))
    with pytest.raises(AlignmentSeriesError, match="gap sets"):
        analyse_series(MODELS, alignments, {"GW": {}})
    alignments[1]["domain_a"] = "perovskite"
    with pytest.raises(AlignmentSeriesError, match="different domain pairs"):
        analyse_series(MODELS, alignments)
