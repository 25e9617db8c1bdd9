"""Physical constants and unit conversions, defined once, from ``ase.units`` (CODATA 2018).

Quantum ESPRESSO 6.7 uses CODATA 2018 (``Modules/constants.f90``), so the set is built
with ``ase.units.create_units("2018")`` rather than ASE's default (CODATA 2014). ASE
derives Rydberg, Hartree and Bohr from the fundamental constants; they agree with the
CODATA 2018 tables to ~1e-11 relative. Hand values (CODATA 2018) the tests compare with:

=========================  ==========================  ===============================
name                       value                        meaning
=========================  ==========================  ===============================
``RYDBERG_EV``             13.605693122994 eV           1 Ry (pw.x energies, pp.x cubes)
``HARTREE_EV``             27.211386245988 eV           1 Ha (QE's XML, wfc files)
``BOHR_ANGSTROM``          0.529177210903 Å             1 bohr (cube files, forces)
``HBAR_EV_FS``             0.6582119569 eV·fs           ħ
``BOLTZMANN_EV_PER_K``     8.617333262e-5 eV/K          k_B
``AMU_ANGSTROM2_PER_FS2``  103.6426965 eV               1 amu Å² fs⁻² (kinetic energy)
``SPEED_OF_LIGHT_CM_PER_FS`` 2.99792458e-5 cm/fs        c (wavenumbers ν̃ = ν / c)
``EV_PER_ANG2_IN_J_PER_M2`` 16.02176634 J/m²            1 eV/Å²
=========================  ==========================  ===============================

One exception: pw.x reads the MD step ``dt`` in Rydberg atomic units of time, 2 ħ/E_h,
and converts it with its own constant ``AU_SEC = 2.4188843265857e-17 s``. That value is
kept here digit for digit (ASE's derived one differs in the 11th digit), because ``dt``
is written into the pw.x input with 10 decimals, and the recorded runs the tests replay
are keyed on that input.
"""

from __future__ import annotations

from ase.units import create_units

_CODATA_2018 = create_units("2018")

RYDBERG_EV: float = _CODATA_2018["Rydberg"]
"""1 Ry in eV."""

HARTREE_EV: float = _CODATA_2018["Hartree"]
"""1 Ha in eV."""

BOHR_ANGSTROM: float = _CODATA_2018["Bohr"]
"""1 bohr in Å."""

RY_PER_BOHR_IN_EV_PER_ANGSTROM: float = RYDBERG_EV / BOHR_ANGSTROM
"""1 Ry/bohr (pw.x forces) in eV/Å."""

HBAR_EV_FS: float = _CODATA_2018["_hbar"] / _CODATA_2018["_e"] * 1e15
"""ħ in eV·fs: a coupling ħ·d (d in fs⁻¹) in eV, a phase E t / ħ (E in eV, t in fs)."""

HBAR_MEV_FS: float = 1e3 * HBAR_EV_FS
"""ħ in meV·fs."""

BOLTZMANN_EV_PER_K: float = _CODATA_2018["kB"]
"""k_B in eV/K."""

AMU_ANGSTROM2_PER_FS2: float = _CODATA_2018["_amu"] * 1e10 / _CODATA_2018["_e"]
"""1 amu·Å²/fs² in eV: ½ m v² with m in amu and v in Å/fs is ½ m v² × this (eV)."""

SPEED_OF_LIGHT_CM_PER_FS: float = _CODATA_2018["_c"] * 1e2 * 1e-15
"""c in cm/fs: a frequency ν (fs⁻¹) is ν / c cm⁻¹."""

EV_PER_ANG2_IN_J_PER_M2: float = _CODATA_2018["_e"] * 1e20
"""1 eV/Å² in J/m²."""

PW_HARTREE_TIME_S = 2.4188843265857e-17
"""ħ/E_h in s as pw.x 6.7 has it (``AU_SEC``); see the module docstring for why it is
not taken from ASE."""

FS_IN_PW_RYDBERG_TIME: float = 1.0e-15 / (2.0 * PW_HARTREE_TIME_S)
"""1 fs in pw.x's Rydberg atomic units of time (2 ħ/E_h): ≈ 20.6707."""
