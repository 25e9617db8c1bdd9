"""``heterostructures.units`` against the CODATA 2018 tables typed in by hand.

Reference: CODATA 2018 recommended values (NIST SP 961, physics.nist.gov/constants), the
set QE 6.7 uses in ``Modules/constants.f90``; the derived conversions are computed here
from the tabulated SI values, not from ASE.
"""

from __future__ import annotations

import pytest

from heterostructures import units

ELEMENTARY_CHARGE_C = 1.602176634e-19
HBAR_J_S = 1.054571817e-34
ATOMIC_MASS_KG = 1.66053906660e-27
SPEED_OF_LIGHT_M_PER_S = 299792458.0

CODATA_2018 = {
    "RYDBERG_EV": 13.605693122994,
    "HARTREE_EV": 27.211386245988,
    "BOHR_ANGSTROM": 0.529177210903,
    "BOLTZMANN_EV_PER_K": 8.617333262e-5,
    "HBAR_EV_FS": HBAR_J_S / ELEMENTARY_CHARGE_C * 1e15,
    "HBAR_MEV_FS": HBAR_J_S / ELEMENTARY_CHARGE_C * 1e18,
    "AMU_ANGSTROM2_PER_FS2": ATOMIC_MASS_KG * (1e-10 / 1e-15) ** 2 / ELEMENTARY_CHARGE_C,
    "SPEED_OF_LIGHT_CM_PER_FS": SPEED_OF_LIGHT_M_PER_S * 100 * 1e-15,
    "EV_PER_ANG2_IN_J_PER_M2": ELEMENTARY_CHARGE_C / 1e-20,
    "RY_PER_BOHR_IN_EV_PER_ANGSTROM": 13.605693122994 / 0.529177210903,
}


@pytest.mark.parametrize(("name", "expected"), sorted(CODATA_2018.items()))
def test_constant_matches_codata_2018(name: str, expected: float) -> None:
    """ASE derives Ry, Ha and bohr from the fundamental constants: ~1e-11 from the table."""
    assert getattr(units, name) == pytest.approx(expected, rel=1e-9)


def test_pw_time_unit_is_the_one_pw_x_prints() -> None:
    """pw.x 6.7 prints "Time step = 20.00 a.u., 0.9676 femto-seconds" (2 ħ/E_h per a.u.),
    and the value is pw.x's own AU_SEC digit for digit (the MD ``dt`` input depends on it)."""
    assert units.PW_HARTREE_TIME_S == 2.4188843265857e-17
    assert pytest.approx(0.9676, abs=5e-5) == 20.0 / units.FS_IN_PW_RYDBERG_TIME
    hbar_over_hartree_s = HBAR_J_S / (27.211386245988 * ELEMENTARY_CHARGE_C)
    assert pytest.approx(hbar_over_hartree_s, rel=1e-9) == units.PW_HARTREE_TIME_S


def test_hartree_is_two_rydberg() -> None:
    assert pytest.approx(2 * units.RYDBERG_EV, rel=1e-14) == units.HARTREE_EV
