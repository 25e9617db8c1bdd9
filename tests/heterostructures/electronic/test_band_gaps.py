"""Gap-corrected offsets, the choice of gaps for the type verdict, the cited gaps.

References: closed forms worked by hand in each test (ΔE_C = ΔE_V + E_g^A − E_g^B and
the edges E_VBM(A) = ΔE_V, E_CBM(A) = ΔE_V + E_g^A, E_VBM(B) = 0, E_CBM(B) = E_g^B, whose
type is read off by eye: straddling = I, staggered = II, broken = III); the paper's own
levels (Qiu et al. 2023, section 2.2: CsPbBr3 CB −1.0 / VB 1.4 V, CdS CB −0.9 / VB 1.6 V
vs RHE) converted by hand with E = −e·U.
"""

from __future__ import annotations

import json

import pytest

from heterostructures.electronic.band_gaps import (
    EXPERIMENTAL_GAPS,
    PAPER_LEVELS,
    BandGapError,
    experimental_gap,
    gap_corrected,
    has_cited_gaps,
    type_verdict,
)


@pytest.mark.parametrize(
    ("valence", "gap_a", "gap_b", "conduction", "kind"),
    [
        # A's gap inside B's: VBM_A 0.5 > 0, CBM_A 2.0 < 3.0 → straddling.
        (0.5, 1.5, 3.0, -1.0, "I"),
        # A higher in both edges: VBM 0.5 > 0, CBM 2.5 > 1.5 → staggered.
        (0.5, 2.0, 1.5, 1.0, "II"),
        # A below in both: VBM −0.4, CBM 0.8 < 1.0 (still above VBM_B = 0) → staggered.
        (-0.4, 1.2, 1.0, -0.2, "II"),
        # A's VBM 1.2 above B's CBM 1.0 → broken gap.
        (1.2, 1.0, 1.0, 1.2, "III"),
    ],
)
def test_closed_form_offsets_and_types(
    valence: float, gap_a: float, gap_b: float, conduction: float, kind: str
) -> None:
    result = gap_corrected(valence, gap_a, gap_b, "experiment")
    assert result.conduction_offset_ev == pytest.approx(conduction)
    assert result.alignment_type == kind
    assert result.valence_offset_ev == valence
    assert "experiment" in result.note


def test_paper_levels_give_type_ii_with_cds_cb_below_by_0_1_ev() -> None:
    """Hand calculation: E = −U, so ΔE_V = −1.4 − (−1.6) = +0.2 eV, gaps 1.4 + 1.0 = 2.4
    and 1.6 + 0.9 = 2.5 eV, ΔE_C = 0.2 + 2.4 − 2.5 = +0.1 eV (= −1.0 V vs −0.9 V): type II,
    the CdS CBM 0.1 eV below the CsPbBr3 CBM as the paper states."""
    by_hand = gap_corrected(0.2, 2.4, 2.5, "paper")
    assert by_hand.conduction_offset_ev == pytest.approx(0.1)
    assert by_hand.alignment_type == "II"
    paper = PAPER_LEVELS.offsets()
    assert paper.valence_offset_ev == pytest.approx(0.2)
    assert (paper.gap_a_ev, paper.gap_b_ev) == pytest.approx((2.4, 2.5))
    assert paper.conduction_offset_ev == pytest.approx(0.1)
    assert paper.alignment_type == "II"
    assert (PAPER_LEVELS.a.material, PAPER_LEVELS.b.material) == ("CsPbBr3", "CdS")
    assert "not a result" in PAPER_LEVELS.statement
    assert json.loads(json.dumps(PAPER_LEVELS.as_dict()))["offsets"]["gap_source"] == "paper"


def test_verdict_prefers_experiment_then_hse06_then_pbe_never_the_paper() -> None:
    """PBE gaps 1.5 / 1.1 eV make ΔE_V = −0.1 type I (ΔE_C = +0.3); measured 2.29 / 2.37 eV
    give ΔE_C = −0.1 + 2.29 − 2.37 = −0.18 eV, type II: the verdict follows experiment."""
    pbe = gap_corrected(-0.1, 1.5, 1.1, "PBE")
    hse = gap_corrected(-0.1, 2.0, 2.2, "HSE06")
    experiment = gap_corrected(-0.1, 2.29, 2.37, "experiment")
    paper = PAPER_LEVELS.offsets()
    assert (pbe.alignment_type, experiment.alignment_type) == ("I", "II")
    chosen, why = type_verdict([pbe, hse, experiment, paper])
    assert chosen is experiment
    assert why.startswith("type II with experiment gaps")
    chosen, why = type_verdict([pbe, hse, paper])
    assert chosen is hse
    assert "experiment gaps not available" in why
    chosen, why = type_verdict([pbe])
    assert chosen is pbe
    assert "least reliable" in why
    with pytest.raises(BandGapError, match="comparison"):
        type_verdict([paper])
    with pytest.raises(BandGapError, match="one per source"):
        type_verdict([pbe, pbe])


def test_bad_gaps_are_refused() -> None:
    with pytest.raises(BandGapError, match="positive"):
        gap_corrected(0.1, -1.0, 2.0, "PBE")
    with pytest.raises(BandGapError, match="gap source"):
        gap_corrected(0.1, 1.0, 2.0, "GW")


def test_experimental_gaps_cover_the_models_materials_with_citations() -> None:
    assert set(EXPERIMENTAL_GAPS) == {"CsPbCl3", "CsPbBr3", "CsPbI3", "CdS", "ZnS"}
    for gap in EXPERIMENTAL_GAPS.values():
        assert 1.0 < gap.gap_ev < 4.0
        assert gap.source
        assert gap.note
        assert json.loads(json.dumps(gap.as_dict())) == gap.as_dict()
    # Halide trend Cl > Br > I and the sulfides ZnS > CdS (textbook orderings).
    gaps = {name: gap.gap_ev for name, gap in EXPERIMENTAL_GAPS.items()}
    assert gaps["CsPbCl3"] > gaps["CsPbBr3"] > gaps["CsPbI3"]
    assert gaps["ZnS"] > gaps["CdS"]
    assert experimental_gap("CdS").phase == "zinc blende"
    assert "wurtzite" in experimental_gap("CdS").note
    with pytest.raises(BandGapError, match="known materials: CdS, CsPbBr3"):
        experimental_gap("GaAs")


def test_a_pair_without_a_cited_gap_is_known_as_such() -> None:
    """CdTe (reachable with --chalcogenide-a) has no cited gap: the series then corrects
    with PBE/HSE06 only instead of failing to build."""
    assert has_cited_gaps("CsPbBr3", "CdS")
    assert not has_cited_gaps("CsPbBr3", "CdTe")
