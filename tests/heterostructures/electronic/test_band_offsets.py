"""Band offsets and alignment type from edges and from the potential line-up (eV).

References: hand arithmetic written out in each test (ΔE = (E_edge − V̄)_A − (E_edge −
V̄)_B + ΔV; the k-extrema of a hand-made band table); the projected-DOS route on
synthetic DOS is in ``test_projected_dos.py``.
"""

from __future__ import annotations

import numpy as np
import pytest

from heterostructures.electronic.band_offsets import BulkReference, bulk_reference, lineup_offsets
from heterostructures.electronic.projected_dos import ElectronicStructureError


def test_potential_lineup_formula() -> None:
    # A: VBM 1.0 eV above its mean potential 0.5; B: VBM 2.0 above 1.0; interface step ΔV 0.3.
    a = BulkReference(vbm_ev=1.5, cbm_ev=3.5, mean_potential_ev=0.5)
    b = BulkReference(vbm_ev=3.0, cbm_ev=4.5, mean_potential_ev=1.0)
    result = lineup_offsets(a, b, delta_v_ev=0.3)
    assert result.valence_offset_ev == pytest.approx((1.5 - 0.5) - (3.0 - 1.0) + 0.3)
    assert result.conduction_offset_ev == pytest.approx((3.5 - 0.5) - (4.5 - 1.0) + 0.3)
    assert result.alignment_type == "II"


def test_bulk_reference_edges_from_eigenvalues() -> None:
    """VBM = top of band n_e/2 over k, CBM = bottom of the next; V̄ passed through."""
    bands = np.array([[-3.0, 1.0, 2.5, 4.0], [-2.0, 0.5, 3.0, 3.5]])
    reference = bulk_reference(bands, n_electrons=4.0, mean_potential_ev=-1.5)
    assert (reference.vbm_ev, reference.cbm_ev) == (1.0, 2.5)
    assert reference.mean_potential_ev == -1.5


@pytest.mark.parametrize(
    ("electrons", "n_bands", "message"),
    [(5.0, 4, "odd count"), (8.0, 4, "empty bands"), (4.0, 4, "metallic")],
)
def test_bulk_reference_refuses_what_has_no_edges(
    electrons: float, n_bands: int, message: str
) -> None:
    bands = np.array([[-3.0, 0.0, 0.01, 4.0]])[:, :n_bands]
    with pytest.raises(ElectronicStructureError, match=message):
        bulk_reference(bands, electrons, 0.0)


def test_stored_results_use_the_field_names() -> None:
    """One vocabulary: a stored result's keys are its fields (plus derived values).

    Reference: hand arithmetic on the given edges (gap 2.1 − 0.4 eV; E_edge − V̄)."""
    from dataclasses import fields

    from heterostructures.electronic.band_offsets import OffsetResult
    from heterostructures.electronic.projected_dos import BandEdges

    edges = BandEdges("A", "pdos", 0.4, 2.1, 1.0, 1e-3)
    stored = edges.as_dict()
    assert {field.name for field in fields(BandEdges)} <= set(stored)
    assert stored["gap_ev"] == pytest.approx(1.7)
    assert stored["metallic"] is False
    reference = BulkReference(vbm_ev=1.0, cbm_ev=2.5, mean_potential_ev=-3.0).as_dict()
    assert reference["gap_ev"] == pytest.approx(1.5)
    assert reference["vbm_minus_potential_ev"] == pytest.approx(4.0)
    assert reference["cbm_minus_potential_ev"] == pytest.approx(5.5)
    offsets = OffsetResult("pdos", 0.1, -0.2, "II")
    assert offsets.as_dict() == {
        "route": "pdos",
        "valence_offset_ev": 0.1,
        "conduction_offset_ev": -0.2,
        "alignment_type": "II",
        "reason": "",
    }
