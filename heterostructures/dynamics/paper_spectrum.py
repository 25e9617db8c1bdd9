"""The paper's gap spectral peaks and their literature assignments, for comparison only.

Qiu et al., Adv. Sci. 2023, 10, 2206560, main text on Fig. 4c (``../shared/seed``): "distortion
and vibration of [PbBr6]4− (33 and 72 cm−1), bending and stretching of Pb—Br bonds (130 and
200 cm−1), Cs atomic motions (110–130 cm−1), vibration in CdS (≈300 cm−1) ... Cd—Br
stretching at 365 cm−1". These numbers are never used in an analysis: reports and figures
draw them beside ours, labelled as the paper's.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PaperPeak:
    """One peak as the paper states it: wavenumber range (cm⁻¹), assignment, elements."""

    low_cm: float
    high_cm: float
    assignment: str
    elements: tuple[str, ...]

    @property
    def centre_cm(self) -> float:
        """Middle of the stated range (cm⁻¹)."""
        return 0.5 * (self.low_cm + self.high_cm)


PAPER_GAP_PEAKS: tuple[PaperPeak, ...] = (
    PaperPeak(33.0, 33.0, "[PbBr6]4- distortion/vibration", ("Pb", "Br")),
    PaperPeak(72.0, 72.0, "[PbBr6]4- distortion/vibration", ("Pb", "Br")),
    PaperPeak(110.0, 130.0, "Cs motions; Pb-Br bending (130)", ("Cs", "Pb", "Br")),
    PaperPeak(200.0, 200.0, "Pb-Br stretching", ("Pb", "Br")),
    PaperPeak(300.0, 300.0, "CdS vibration (approx.)", ("Cd", "S")),
    PaperPeak(365.0, 365.0, "Cd-Br stretching (interface)", ("Cd", "Br")),
)
"""The six peaks of the paper's Fig. 4c text, in ascending wavenumber."""
