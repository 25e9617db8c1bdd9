"""Report rows for the gap peaks: which elements move at each, beside the paper's peaks.

Reads the study summary's ``peak_assignment`` (``janus.na_analysis`` with the MD
trajectory, :mod:`workflows.calcfunctions.peak_assignment`); studies without it get no row.
The paper's peaks come from :mod:`heterostructures.dynamics.paper_spectrum` and are
labelled as the paper's: a comparison, not a result.
"""

from __future__ import annotations

from typing import Any

from heterostructures.dynamics.paper_spectrum import PAPER_GAP_PEAKS


def _peak_text(peak: dict[str, Any]) -> str:
    """``'121: Cs 64 % (Pb 20 %, Br 9 %)'``; ``?`` marks a peak where no atom moves."""
    shares = sorted(peak["shares"].items(), key=lambda item: -item[1])
    leading = ", ".join(f"{element} {share:.0%}" for element, share in shares[:3] if share > 0)
    flag = " ?" if peak.get("low_weight") else ""
    return f"{peak['frequency_cm']:.0f}: {peak['assigned_to']}{flag} ({leading})"


def peak_rows(summary: dict[str, Any]) -> list[tuple[str, str]]:
    """One row with our peaks and their element shares, one with the paper's, when the
    study assigned its peaks; none otherwise."""
    assignment = summary.get("peak_assignment")
    if not assignment:
        return []
    ours = "; ".join(_peak_text(peak) for peak in assignment.get("peaks", [])) or "no peak"
    paper = "; ".join(
        f"{peak.low_cm:.0f}{f'–{peak.high_cm:.0f}' if peak.high_cm > peak.low_cm else ''}: "
        f"{peak.assignment}"
        for peak in PAPER_GAP_PEAKS
    )
    resolution = assignment.get("resolution_cm")
    return [
        (
            f"gap peaks by element (cm⁻¹, ± {resolution:.0f})" if resolution else "gap peaks",
            ours,
        ),
        ("paper's peaks (comparison, Fig. 4c text)", paper),
    ]
