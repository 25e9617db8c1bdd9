"""Offline pseudopotential generation: repaired, reproducible, valid UPF files."""

from __future__ import annotations

from pathlib import Path

import pytest

from workflows.setup.paths import PROFILES_DIR
from workflows.setup.upf import (
    MAX_UPF_LINE,
    PseudoGenerationError,
    generate_upf,
    make_reproducible,
    summarise_upf,
    wrap_long_lines,
)

PAW_VALENCE = {
    "Cs": 9,
    "Pb": 14,
    "Br": 7,
    "Cl": 7,
    "I": 7,
    "Cd": 12,
    "Zn": 12,
    "S": 6,
    "Se": 6,
    "Te": 6,
}
# pslibrary's NC collection has no semicore states for Cs (5s5p) and Pb (5d).
EXPECTED_VALENCE = {"paw": PAW_VALENCE, "nc": PAW_VALENCE | {"Cs": 1, "Pb": 4}}


def test_wrap_keeps_numbers_and_tags() -> None:
    numbers = " ".join(f"{x:.10E}" for x in range(300))
    tag = "<PP_HEADER " + "x" * 1200 + "/>"
    wrapped = wrap_long_lines(f"{tag}\n{numbers}\n")
    lines = wrapped.splitlines()
    assert lines[0] == tag, "tag lines must never be re-wrapped"
    assert all(len(line) <= MAX_UPF_LINE for line in lines[1:])
    assert " ".join(lines[1:]).split() == numbers.split()


def test_date_stamp_replaced() -> None:
    text = 'date="26Nov2026"\n    Generation date: 26Nov2026\n'
    fixed = make_reproducible(text)
    assert "26Nov2026" not in fixed


@pytest.mark.real_qe
@pytest.mark.parametrize("flavour", ["paw", "nc"])
def test_generated_library_valence(flavour: str, tmp_path: Path) -> None:
    """Every input yields a UPF QE 6.7 can read, with the pslibrary valence."""
    for ld1_input in sorted((PROFILES_DIR / "pseudos" / flavour).glob("*.in")):
        summary = summarise_upf(generate_upf(ld1_input, tmp_path))
        assert summary.z_valence == EXPECTED_VALENCE[flavour][summary.element]
        if flavour == "paw":
            assert 15 < summary.wfc_cutoff_ry < 60
            assert summary.rho_cutoff_ry > summary.wfc_cutoff_ry


@pytest.mark.real_qe
def test_generation_is_byte_reproducible(tmp_path: Path) -> None:
    ld1_input = PROFILES_DIR / "pseudos" / "paw" / "S.pbe-nl-kjpaw_psl.1.0.0.in"
    first = generate_upf(ld1_input, tmp_path / "a").read_bytes()
    second = generate_upf(ld1_input, tmp_path / "b").read_bytes()
    assert first == second


def test_broken_upf_is_rejected_with_fix(tmp_path: Path) -> None:
    broken = tmp_path / "X.UPF"
    broken.write_text(
        '<UPF version="2.0.1">\n<PP_HEADER element="Cs" pseudo_type="PAW" '
        'z_valence="-3.0" wfc_cutoff="0" rho_cutoff="0"/>\n'
    )
    with pytest.raises(PseudoGenerationError, match="z_valence"):
        summarise_upf(broken)
    long_line = tmp_path / "Y.UPF"
    long_line.write_text('<UPF version="2.0.1">\n<PP_HEADER/>\n' + "1.0 " * 400 + "\n")
    with pytest.raises(PseudoGenerationError, match="longer than 1000"):
        summarise_upf(long_line)
    (tmp_path / "Z.UPF").write_text("garbage")
    with pytest.raises(PseudoGenerationError, match="not a UPF"):
        summarise_upf(tmp_path / "Z.UPF")
