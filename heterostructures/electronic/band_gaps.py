"""Bulk band gaps from experiment and gap-corrected band offsets (A − B convention, eV).

PBE without spin–orbit coupling places valence bands well enough for offsets (ΔE_V from a
line-up or projected edges) but misplaces conduction bands: the CdS gap is about half the
measured one, and the CsPbBr3 gap is right only because the missing spin–orbit coupling
cancels PBE's underestimate. The standard remedy keeps the computed ΔE_V and rebuilds
ΔE_C from bulk gaps, ΔE_C = ΔE_V + (E_g^A − E_g^B) (:func:`gap_corrected`), with the
gaps from PBE, from a hybrid functional (HSE06) or from experiment
(:data:`EXPERIMENTAL_GAPS`); :func:`type_verdict` says which one decides the type.

:data:`PAPER_LEVELS` holds the band levels the paper states (vs RHE); they are a
comparison only and never enter a result. Sign convention as
:data:`heterostructures.electronic.band_offsets.SIGN_CONVENTION`. No AiiDA.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from heterostructures.electronic.band_offsets import classify_alignment


class BandGapError(ValueError):
    """A gap or a gap correction that cannot be used; the message says what to fix."""


GAP_SOURCES = ("PBE", "experiment", "HSE06", "paper")
VERDICT_PRIORITY = ("experiment", "HSE06", "PBE")


@dataclass(frozen=True)
class BandGap:
    """A cited bulk band gap (eV) and the phase/temperature (K) it was measured for.

    ``temperature_k`` is None when the source says "room temperature" without a number.
    ``note`` says how the measured phase relates to the phase of our models.
    """

    material: str
    phase: str
    gap_ev: float
    temperature_k: float | None
    source: str
    note: str = ""

    def as_dict(self) -> dict[str, Any]:
        """JSON-safe fields (keys = field names)."""
        return asdict(self)


_GAPS = (
    BandGap(
        "CsPbCl3",
        "thin film (thermally evaporated), room-temperature phase",
        2.99,
        None,
        "S. Khan, P. J. Cegielski, M. Runkel, T. Riedl, M. Mohammadi, M. C. Lemme, 'Complex "
        "optical constants of CsPbCl3 perovskite thin films determined by spectroscopic "
        "ellipsometry', APL Energy 3, 026108 (2025); arXiv:2412.05618 (optical gap ≈ 2.99 eV "
        "from ellipsometry and absorption; verified in the abstract; DOI not verified)",
        "the models use cubic CsPbCl3, which is a high-temperature phase; no measured "
        "room-temperature gap of the cubic phase exists",
    ),
    BandGap(
        "CsPbBr3",
        "orthorhombic (Pnma) single crystal",
        2.29,
        None,
        "H. Zhang, X. Liu, J. Dong, H. Yu, C. Zhou, B. Zhang, Y. Xu, W. Jie, 'Centimeter-Sized "
        "Inorganic Lead Halide Perovskite CsPbBr3 Crystals Grown by an Improved Solution "
        "Method', Cryst. Growth Des. (2017) ('room temperature bandgap … ∼2.29 eV by the "
        "transmission spectra', verified in the abstract; volume, pages and DOI not verified)",
        "the models use the cubic (pseudo-cubic a) cell, which exists only above the "
        "tetragonal–cubic transition; room-temperature CsPbBr3 is orthorhombic",
    ),
    BandGap(
        "CsPbI3",
        "γ (orthorhombic, GdFeO3-type) single crystal",
        1.63,
        None,
        "D. B. Straus, S. Guo, R. J. Cava, 'Kinetically Stable Single Crystals of "
        "Perovskite-Phase CsPbI3', J. Am. Chem. Soc. (2019); arXiv:1905.12486 (bulk optical "
        "gap 1.63(3) eV, ~90 meV below thin-film values; verified in the abstract; volume, "
        "pages and DOI not verified)",
        "the models use cubic α-CsPbI3, stable only at high temperature; the cited value is "
        "the room-temperature γ phase",
    ),
    BandGap(
        "CdS",
        "zinc blende",
        2.37,
        None,
        "experimental value tabulated in 'Revisiting the Zinc-Blende/Wurtzite "
        "Heterocrystalline Structure in CdS', Adv. Condens. Matter Phys. 2014, article "
        "361328, Table 1 (its ref. [35]; wurtzite 2.48 eV, its ref. [36]); verified in that "
        "table; authors and the primary references not verified, temperature not stated",
        "zinc blende is the phase of the models; the cited wurtzite gap is 0.11 eV larger "
        "(2.48 eV), so a wurtzite value would overstate the ZB gap by about 0.1 eV",
    ),
    BandGap(
        "ZnS",
        "zinc blende (sphalerite)",
        3.54,
        300.0,
        "'3.54 eV (cubic, 300 K), 3.91 eV (hexagonal, 300 K)': infobox of the Wikipedia "
        "article 'Zinc sulfide' (read on a mirror) and H. Lohninger, 'Zinc Sulfide', "
        "General Chemistry (vias.org); no primary journal source verified",
        "zinc blende is the phase of the models; wurtzite ZnS is 0.37 eV wider (3.91 eV)",
    ),
)
EXPERIMENTAL_GAPS: dict[str, BandGap] = {gap.material: gap for gap in _GAPS}


def experimental_gap(material: str) -> BandGap:
    """The cited room-temperature bulk gap of ``material`` (e.g. "CdS")."""
    try:
        return EXPERIMENTAL_GAPS[material]
    except KeyError:
        known = ", ".join(sorted(EXPERIMENTAL_GAPS))
        raise BandGapError(
            f"no cited experimental gap for {material!r}; known materials: {known}"
        ) from None


def has_cited_gaps(*materials: str) -> bool:
    """True when every material has a cited gap: a pair without one (e.g. CdTe, reachable
    with ``--chalcogenide-a``) gets PBE (and HSE06 when asked) corrections only."""
    return all(material in EXPERIMENTAL_GAPS for material in materials)


@dataclass(frozen=True)
class GapCorrectedOffsets:
    """Offsets A − B (eV) with ΔE_C rebuilt from ΔE_V and the bulk gaps of one source."""

    gap_source: str
    gap_a_ev: float
    gap_b_ev: float
    valence_offset_ev: float
    conduction_offset_ev: float
    alignment_type: str
    note: str

    def as_dict(self) -> dict[str, Any]:
        """JSON-safe fields (keys = field names)."""
        return asdict(self)


def _check_gap(name: str, gap_ev: float) -> None:
    if not math.isfinite(gap_ev) or gap_ev <= 0.0:
        raise BandGapError(f"{name} = {gap_ev} eV: a gap correction needs a positive bulk gap")


def gap_corrected(
    valence_offset_ev: float, gap_a_ev: float, gap_b_ev: float, gap_source: str
) -> GapCorrectedOffsets:
    """ΔE_C = ΔE_V + (E_g^A − E_g^B) (eV) and the alignment type of the rebuilt edges.

    With E_VBM(A) = ΔE_V and E_VBM(B) = 0 the edges are E_CBM(A) = ΔE_V + E_g^A and
    E_CBM(B) = E_g^B; the type comes from
    :func:`heterostructures.electronic.band_offsets.classify_alignment` on them.
    """
    if gap_source not in GAP_SOURCES:
        raise BandGapError(f"gap source {gap_source!r}: use one of {', '.join(GAP_SOURCES)}")
    if not math.isfinite(valence_offset_ev):
        raise BandGapError(f"ΔE_V = {valence_offset_ev} eV: a gap correction needs a number")
    _check_gap("E_g^A", gap_a_ev)
    _check_gap("E_g^B", gap_b_ev)
    conduction = valence_offset_ev + gap_a_ev - gap_b_ev
    kind = classify_alignment(valence_offset_ev, valence_offset_ev + gap_a_ev, 0.0, gap_b_ev)
    note = (
        f"ΔE_C = ΔE_V + E_g^A − E_g^B = {valence_offset_ev:+.3f} + {gap_a_ev:.3f} − "
        f"{gap_b_ev:.3f} = {conduction:+.3f} eV, bulk gaps from {gap_source}"
    )
    return GapCorrectedOffsets(
        gap_source, gap_a_ev, gap_b_ev, valence_offset_ev, conduction, kind, note
    )


def type_verdict(corrections: Sequence[GapCorrectedOffsets]) -> tuple[GapCorrectedOffsets, str]:
    """The correction whose type is reported, and why (experiment > HSE06 > PBE).

    The gaps are what PBE gets wrong, so measured gaps win when available, then the
    hybrid functional, then PBE itself; ΔE_V always stays the computed one. The paper's
    own levels (source "paper") are a comparison and never chosen.
    """
    by_source: dict[str, GapCorrectedOffsets] = {}
    for correction in corrections:
        if correction.gap_source in by_source:
            raise BandGapError(
                f"two corrections with gaps from {correction.gap_source}: pass one per source"
            )
        by_source[correction.gap_source] = correction
    for rank, source in enumerate(VERDICT_PRIORITY):
        if source in by_source:
            chosen = by_source[source]
            missing = [s for s in VERDICT_PRIORITY[:rank] if s not in by_source]
            why = _VERDICT_REASONS[source]
            if missing:
                why += f" ({', '.join(missing)} gaps not available)"
            return chosen, f"type {chosen.alignment_type} with {source} gaps: {why}"
    raise BandGapError(
        f"no correction with gaps from {', '.join(VERDICT_PRIORITY)} "
        f"(got {sorted(by_source)}): the paper's levels are a comparison, not a verdict"
    )


_VERDICT_REASONS = {
    "experiment": "measured bulk gaps replace the PBE gaps, which PBE gets wrong; "
    "ΔE_V from PBE is kept",
    "HSE06": "hybrid-functional gaps are closer to experiment than PBE; ΔE_V from PBE is kept",
    "PBE": "only PBE gaps are available; PBE without spin–orbit underestimates gaps, so "
    "ΔE_C and the type are the least reliable",
}


@dataclass(frozen=True)
class ElectrodeLevels:
    """Band edges on the electrochemical scale (V vs RHE) as a paper states them.

    An electron at potential U has energy −e·U relative to the RHE level, so the edge
    energies in eV are the negated potentials.
    """

    material: str
    conduction_v_rhe: float
    valence_v_rhe: float

    @property
    def gap_ev(self) -> float:
        """E_CBM − E_VBM (eV) = U_VB − U_CB (V)."""
        return self.valence_v_rhe - self.conduction_v_rhe

    @property
    def valence_energy_ev(self) -> float:
        """VBM energy relative to the RHE level (eV)."""
        return -self.valence_v_rhe


@dataclass(frozen=True)
class PaperLevels:
    """The paper's stated band levels of A (perovskite) and B (chalcogenide): a comparison."""

    a: ElectrodeLevels
    b: ElectrodeLevels
    location: str
    statement: str

    def offsets(self) -> GapCorrectedOffsets:
        """The paper's levels as offsets A − B (eV), labelled as the paper's statement."""
        valence = self.a.valence_energy_ev - self.b.valence_energy_ev
        return gap_corrected(valence, self.a.gap_ev, self.b.gap_ev, "paper")

    def as_dict(self) -> dict[str, Any]:
        """JSON-safe fields plus the derived offsets."""
        return asdict(self) | {"offsets": self.offsets().as_dict()}


PAPER_LEVELS = PaperLevels(
    a=ElectrodeLevels("CsPbBr3", conduction_v_rhe=-1.0, valence_v_rhe=1.4),
    b=ElectrodeLevels("CdS", conduction_v_rhe=-0.9, valence_v_rhe=1.6),
    location=(
        "Qiu et al., Adv. Sci. 2023, 10, 2206560, section 2.2 'Optical Properties of Janus "
        "NCs and the Rapid Charge Transfer across the Type II Heterostructures', paragraph on "
        "Figure 3c (seed text qiu2023_advsci_csPbBr3_cds_janus.txt, line 73)"
    ),
    statement=(
        "the paper's statement, not a result of this pipeline: CdS CB about −0.9 eV, VB "
        "1.6 eV; CsPbBr3 CB −1.0 eV, VB 1.4 eV vs RHE, 'based on reported data and DFT "
        "calculations'"
    ),
)
