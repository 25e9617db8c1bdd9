"""Convergence of band offsets over a thickness series, and reading the stored alignment.

References: hand calculations written out in each test (the thickest determined value,
|change| from the next thinner determined model, the 0.05 eV criterion of issue 19); for
:func:`route_offsets`, a ``band_alignment`` summary produced by
``heterostructures.electronic.alignment_analysis.analyse_alignment`` on recorded real QE
6.7 output (the mock-code recordings of the tiny CdS/ZnS electronic run), read back route
by route.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from heterostructures.electronic.alignment_series import (
    CONVERGENCE_TOLERANCE_EV,
    AlignmentSeriesError,
    ConvergedOffset,
    RouteOffsets,
    SeriesModel,
    SeriesTable,
    converge,
    pbe_bulk_gaps,
    route_offsets,
)

MOCK = Path(__file__).parents[2] / "fixtures" / "mock"
MODELS = (
    SeriesModel("3+2", 3, 2, 13, 15.5),
    SeriesModel("5+4", 5, 4, 26, 27.3),
    SeriesModel("7+6", 7, 6, 39, 39.1),
)


def _offsets(valence: float | None, conduction: float | None) -> dict[str, RouteOffsets]:
    kind = "undetermined" if valence is None else "II"
    reason = "metallic (gap 0.010 eV < 0.05 eV)" if valence is None else ""
    return {"projected_dos": RouteOffsets("projected_dos", valence, conduction, kind, reason)}


def _by_quantity(results: list[ConvergedOffset]) -> dict[str, ConvergedOffset]:
    assert {item.route for item in results} == {"projected_dos"}
    return {item.quantity: item for item in results}


def test_three_models_converged_and_not() -> None:
    """Hand calculation: ΔE_V 0.30 → 0.18 → 0.15 eV: value 0.15, ± |0.15 − 0.18| = 0.03 ≤
    0.05, converged; ΔE_C −0.40 → 0.05 → 0.12 eV: value 0.12, ± 0.07 > 0.05, not."""
    offsets = [_offsets(0.30, -0.40), _offsets(0.18, 0.05), _offsets(0.15, 0.12)]
    result = _by_quantity(converge(MODELS, offsets))
    valence, conduction = result["valence"], result["conduction"]
    assert valence.value_ev == pytest.approx(0.15)
    assert valence.uncertainty_ev == pytest.approx(0.03)
    assert valence.converged
    assert valence.model == "7+6"
    assert conduction.value_ev == pytest.approx(0.12)
    assert conduction.uncertainty_ev == pytest.approx(0.07)
    assert not conduction.converged
    assert "5+4" in conduction.reason


def test_change_of_exactly_the_tolerance_counts_as_converged() -> None:
    """Issue 19 says "≤ 0.05 eV": 0.70 → 0.75 eV is a float change of 0.050000000000000044."""
    offsets = [_offsets(0.70, 0.0), _offsets(0.75, 0.0)]
    valence = _by_quantity(converge(MODELS[:2], offsets))["valence"]
    assert valence.uncertainty_ev == pytest.approx(CONVERGENCE_TOLERANCE_EV)
    assert valence.converged


def test_undetermined_middle_model_is_skipped_not_taken_as_zero() -> None:
    """Hand calculation: 3+2 0.10, 5+4 metallic, 7+6 0.12 eV → value 0.12 ± 0.02 against
    3+2. Were the metal read as 0 the change would be 0.12 and not converged."""
    offsets = [_offsets(0.10, 0.30), _offsets(None, None), _offsets(0.12, 0.33)]
    valence = _by_quantity(converge(MODELS, offsets))["valence"]
    assert valence.value_ev == pytest.approx(0.12)
    assert valence.uncertainty_ev == pytest.approx(0.02)
    assert valence.converged
    assert "3+2" in valence.reason
    assert "5+4 skipped (metallic" in valence.reason


def test_unsorted_input_is_sorted_by_period() -> None:
    """Same hand case as the first test, models handed in thickest first."""
    offsets = [_offsets(0.30, -0.40), _offsets(0.18, 0.05), _offsets(0.15, 0.12)]
    result = _by_quantity(converge(MODELS[::-1], offsets[::-1]))
    assert result["valence"].value_ev == pytest.approx(0.15)
    assert result["valence"].uncertainty_ev == pytest.approx(0.03)
    assert result["valence"].model == "7+6"


def test_one_model_has_no_uncertainty_and_is_not_converged() -> None:
    valence = _by_quantity(converge(MODELS[:1], [_offsets(0.2, 0.1)]))["valence"]
    assert valence.value_ev == pytest.approx(0.2)
    assert valence.uncertainty_ev is None
    assert not valence.converged
    assert "only 3+2" in valence.reason


def test_duplicate_thickness_and_mismatched_lengths_are_refused() -> None:
    twin = SeriesModel("5+4 (shifted)", 5, 4, 26, 27.3)
    with pytest.raises(AlignmentSeriesError, match="same thickness"):
        converge([MODELS[1], twin], [_offsets(0.1, 0.1), _offsets(0.2, 0.2)])
    with pytest.raises(AlignmentSeriesError, match="one per model"):
        converge(MODELS, [_offsets(0.1, 0.1)])


def test_table_rows_markdown_and_json_round_trip() -> None:
    offsets = [_offsets(0.30, -0.40), _offsets(None, None), _offsets(0.15, 0.12)]
    table = SeriesTable.from_series(MODELS[::-1], offsets[::-1])
    assert [row.model for row in table.rows] == ["3+2", "5+4", "7+6"]
    lines = table.markdown().splitlines()
    assert lines[3] == "| 5+4 | 26 | 27.30 | projected_dos | n/d | n/d | undetermined |"
    stored = json.loads(json.dumps(table.as_dict()))
    assert stored["converged"][0] == table.converged[0].as_dict()
    assert set(stored["rows"][0]) == set(table.rows[0].as_dict())


def recorded_alignment(tmp_path: Path) -> dict[str, Any]:
    """``band_alignment`` of the recorded tiny CdS/ZnS run (A = ZnS, B = CdS), made by the
    electronic step's own analysis from the recorded projwfc.x and pp.x outputs laid out
    as the retrieved folder. Route 2's bulk references are given by hand (their recorded
    PBE gaps 0.48 / 1.27 eV, edges and mean potentials chosen): they fix numbers only."""
    from heterostructures.electronic.alignment_analysis import SiteLabels, analyse_alignment
    from heterostructures.electronic.band_offsets import BulkReference
    from workflows.mock.store import read_archive

    recordings = (("p", "projwfc.x", "b23bee7b131f7e10"), ("c", "pp.x", "d162899f13b5afd7"))
    for name, code, digest in recordings:
        for member, data in read_archive(MOCK / code / f"{digest}.tar.xz").items():
            (tmp_path / name / member).parent.mkdir(parents=True, exist_ok=True)
            (tmp_path / name / member).write_bytes(data)
    folder = tmp_path / "retrieved"
    folder.mkdir()
    for pdos in (tmp_path / "p").glob("aiida.pdos*"):
        shutil.copy(pdos, folder)
    shutil.copy(tmp_path / "p" / "out" / "aiida.save" / "atomic_proj.xml", folder)
    shutil.copy(tmp_path / "p" / ".mock" / "stdout", folder / "aiida.out")
    heights = [0.0, 0.259127 * 5.615, 0.518255 * 5.615, 0.759127 * 5.615]
    labels = SiteLabels(["CdS", "CdS", "ZnS", "ZnS"], [1] * 4, ["Cd", "S", "Zn", "S"], heights)
    references = {"CdS": BulkReference(1.0, 2.27, -3.0), "ZnS": BulkReference(0.5, 0.98, -2.0)}
    analysis = analyse_alignment(
        folder, labels, {"domains": ["ZnS", "CdS"]}, tmp_path / "c" / "aiida.fileout", references
    )
    return dict(json.loads(json.dumps(analysis.summary)))


def test_route_offsets_read_every_route_of_arecorded_alignment(tmp_path: Path) -> None:
    stored = recorded_alignment(tmp_path)
    routes = route_offsets(stored)
    assert set(routes) == {"projected_dos", "eigenvalues", "potential_lineup"}
    for name, result in routes.items():
        assert result.route == name
        assert result.valence_offset_ev == stored["routes"][name]["valence_offset_ev"]
        assert result.conduction_offset_ev == stored["routes"][name]["conduction_offset_ev"]
        assert result.alignment_type == stored["routes"][name]["alignment_type"]
    lineup = routes["potential_lineup"]
    assert lineup.valence_offset_ev is not None
    assert lineup.conduction_offset_ev is not None
    # Line-up identity: ΔE_V − ΔE_C = E_g(B) − E_g(A) of the bulk references = 1.27 − 0.48.
    assert lineup.valence_offset_ev - lineup.conduction_offset_ev == pytest.approx(0.79)
    assert lineup.uncertainty_ev == stored["potential_lineup"]["delta_v_uncertainty_ev"]
    assert "no potential plateau" in lineup.reason
    assert pbe_bulk_gaps(stored) == pytest.approx((0.48, 1.27))


def test_route_offsets_of_a_metallic_model_keep_its_reason() -> None:
    """The stored shape of a model without a gap (``analyse_alignment``'s metallic branch:
    status/alignment_type "undetermined", a reason, no routes)."""
    stored = {
        "domain_a": "CsPbBr3",
        "domain_b": "CdS",
        "status": "undetermined",
        "alignment_type": "undetermined",
        "reason": "metallic: highest occupied 7.1 eV ≥ lowest empty 7.0 eV",
    }
    routes = route_offsets(stored)
    assert set(routes) == {"projected_dos", "eigenvalues"}
    assert all(
        r.valence_offset_ev is None and r.reason.startswith("metallic") for r in routes.values()
    )
    assert pbe_bulk_gaps(stored) is None


def test_route_offsets_refuse_a_route_without_offsets() -> None:
    with pytest.raises(AlignmentSeriesError, match="lacks"):
        route_offsets({"routes": {"projected_dos": {"alignment_type": "II"}}})
