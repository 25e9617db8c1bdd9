"""Per-step Kohn–Sham energies of a real pw.x 6.7 MD run (tests/fixtures/qe67_md_cds_gap_series).

Independent reference: 24 separate pw.x SCF runs, each from scratch at the geometry of one
MD step with the MD's own inputs (README of the fixture). The MD run started each SCF from
second-order extrapolated density and wavefunctions; both converge to conv_thr 1e-10 Ry, so
their energies must agree to pw.x's print precision (1e-4 eV).
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from heterostructures.dynamics.dephasing import pure_dephasing
from heterostructures.dynamics.spectra import gap_fluctuation, spectral_density
from heterostructures.io.pw_md_eigenvalues import (
    EigenvalueParseError,
    MdEigenvalues,
    band_window_energies,
    merge_md_eigenvalues,
    parse_md_eigenvalues,
)
from heterostructures.io.pw_md_output import parse_pw_md_stdout

FIXTURE = Path(__file__).parents[2] / "fixtures" / "qe67_md_cds_gap_series"
N_STEPS = 24
N_BANDS = 14
PRINT_PRECISION_EV = 1e-4
CELL_ANG = np.array([[0.0, 2.915, 2.915], [2.915, 0.0, 2.915], [2.915, 2.915, 0.0]])
RY_TO_EV = 13.605693122994


def _md() -> MdEigenvalues:
    return parse_md_eigenvalues((FIXTURE / "md.out").read_text())


def _scf_energies(step: int) -> tuple[np.ndarray, float]:
    """Band energies (eV) and total energy (Ry) of the separate SCF at MD step ``step``.

    Read with a plain regex, not with the module under test: the last k block of the run.
    """
    text = (FIXTURE / f"scf_{step:03d}.out").read_text()
    body = text.split("bands (ev):")[-1].split("occupation numbers")[0]
    energy = re.search(r"^!\s+total energy\s+=\s+(-?\d+\.\d+) Ry", text, re.MULTILINE)
    assert energy is not None
    return np.array([float(x) for x in re.findall(r"-?\d+\.\d{4}", body)]), float(energy[1])


def test_every_md_step_has_its_eigenvalues() -> None:
    md = _md()
    assert md.steps.tolist() == list(range(N_STEPS))
    assert md.eigenvalues_ev.shape == (N_STEPS, 1, N_BANDS)
    assert md.n_bands == N_BANDS


def test_md_gaps_equal_separate_scf_at_the_same_geometry() -> None:
    """Every band and every gap of every step equals the separate SCF's within 2e-4 eV;
    the SCF's total energy equals the MD step's (checks the step alignment too)."""
    md = _md()
    trajectory = parse_pw_md_stdout((FIXTURE / "md.out").read_text(), 2, CELL_ANG)
    scf = [_scf_energies(step) for step in range(N_STEPS)]
    bands = np.array([energies for energies, _ in scf])
    np.testing.assert_allclose(md.eigenvalues_ev[:, 0, :], bands, atol=1.5 * PRINT_PRECISION_EV)
    for upper, lower in ((10, 9), (11, 10), (12, 9)):
        md_gap = md.eigenvalues_ev[:, 0, upper - 1] - md.eigenvalues_ev[:, 0, lower - 1]
        scf_gap = bands[:, upper - 1] - bands[:, lower - 1]
        np.testing.assert_allclose(md_gap, scf_gap, atol=2 * PRINT_PRECISION_EV)
    totals_ev = np.array([total for _, total in scf]) * RY_TO_EV
    np.testing.assert_allclose(trajectory.potential_energy_ev, totals_ev, atol=1e-6)
    assert np.ptp(md.eigenvalues_ev[:, 0, 10] - md.eigenvalues_ev[:, 0, 9]) > 0.05, "gap moves"


def test_default_verbosity_prints_every_step_too() -> None:
    """QE 6.7 prints the energies after each converged SCF at low verbosity (< 100 k).

    pw.x seeds its 'initial' velocities from the clock, so only step 0 (the input
    geometry) is the same in both runs."""
    low = parse_md_eigenvalues((FIXTURE / "md_low_verbosity.out").read_text())
    assert low.steps.tolist() == [0, 1, 2]
    assert low.eigenvalues_ev.shape == (3, 1, N_BANDS)
    np.testing.assert_allclose(low.eigenvalues_ev[0], _md().eigenvalues_ev[0], atol=1e-12)


def test_restart_chunks_merge_by_step_and_gaps_are_errors() -> None:
    md = _md()
    first = MdEigenvalues(steps=md.steps[:10], eigenvalues_ev=md.eigenvalues_ev[:10])
    second = MdEigenvalues(steps=md.steps[9:], eigenvalues_ev=md.eigenvalues_ev[9:])
    merged = merge_md_eigenvalues([first, second])
    assert merged.steps.tolist() == list(range(N_STEPS))
    np.testing.assert_array_equal(merged.eigenvalues_ev, md.eigenvalues_ev)
    late = MdEigenvalues(steps=md.steps[12:], eigenvalues_ev=md.eigenvalues_ev[12:])
    with pytest.raises(EigenvalueParseError, match="not contiguous"):
        merge_md_eigenvalues([first, late])


def test_no_eigenvalues_and_a_window_beyond_nbnd_are_clear_errors() -> None:
    with pytest.raises(EigenvalueParseError, match="verbosity='high'"):
        parse_md_eigenvalues("Entering Dynamics:    iteration =     1\n")
    with pytest.raises(EigenvalueParseError, match="raise empty_bands"):
        band_window_energies(_md(), 9, N_BANDS + 1)


def test_spectral_density_and_dephasing_from_md_equal_those_from_the_scfs() -> None:
    """Same frames, gap of bands 11 and 10 from the MD's own energies vs the separate SCFs:
    the spectral density (power) and the dephasing function agree (the reference series
    differs only by the 1e-4 eV rounding of the printout)."""
    window_md = band_window_energies(_md(), 9, 12)
    window_scf = np.array([_scf_energies(step)[0][8:12] for step in range(N_STEPS)])
    gaps = [gap_fluctuation(window, 1.0, 2, 1) for window in (window_md, window_scf)]
    np.testing.assert_allclose(gaps[0].gap_ev, gaps[1].gap_ev, atol=2 * PRINT_PRECISION_EV)
    densities = [spectral_density(gap.fluctuation_ev, 1.0) for gap in gaps]
    np.testing.assert_allclose(densities[0].frequencies_cm, densities[1].frequencies_cm)
    scale = densities[1].intensity.max()
    np.testing.assert_allclose(densities[0].intensity, densities[1].intensity, atol=0.02 * scale)
    dephasing = [pure_dephasing(gap.fluctuation_ev, 1.0, n_bootstrap=0) for gap in gaps]
    np.testing.assert_allclose(dephasing[0].dephasing, dephasing[1].dephasing, atol=1e-3)
    np.testing.assert_allclose(dephasing[0].acf_ev2, dephasing[1].acf_ev2, rtol=0.02)
