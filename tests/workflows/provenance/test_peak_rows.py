"""Report rows of the gap-peak assignment. Reference: a hand-made summary (shares chosen
here) and the paper's peaks as quoted in heterostructures/dynamics/paper_spectrum.py."""

from __future__ import annotations

from workflows.provenance.peak_rows import peak_rows
from workflows.provenance.report import summary_table


def _summary() -> dict:
    return {
        "peak_assignment": {
            "resolution_cm": 33.4,
            "peaks": [
                {
                    "frequency_cm": 120.1,
                    "shares": {"Cs": 0.64, "Pb": 0.2, "Br": 0.16, "Cd": 0.0},
                    "assigned_to": "Cs",
                    "weight": 1.3,
                    "low_weight": False,
                },
                {
                    "frequency_cm": 400.4,
                    "shares": {"Cs": 0.3, "Pb": 0.3, "Br": 0.4},
                    "assigned_to": "mixed",
                    "weight": 0.05,
                    "low_weight": True,
                },
            ],
        }
    }


def test_rows_give_our_shares_and_the_papers_peaks_apart() -> None:
    (ours_name, ours), (paper_name, paper) = peak_rows(_summary())
    assert ours_name == "gap peaks by element (cm⁻¹, ± 33)"
    assert ours == "120: Cs (Cs 64%, Pb 20%, Br 16%); 400: mixed ? (Br 40%, Cs 30%, Pb 30%)"
    assert "comparison" in paper_name
    assert paper.startswith("33: [PbBr6]4- distortion")
    assert "110–130: Cs motions" in paper


def test_a_study_without_assignment_has_no_row() -> None:
    assert peak_rows({}) == []
    assert "gap peaks by element" not in summary_table({})
    assert "gap peaks by element" in summary_table(_summary())
