"""Gauge fingerprints: the phase between two runs of one structure from a few coefficients.

Reference: the full plane-wave overlap ⟨other_b|reference_b⟩ of the recorded real pw.x 6.7
wavefunctions (tests/fixtures/qe67_wfc_cds_nc_gamma, via ``overlap_matrix``), whose sign
is the phase the fingerprint must find.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from heterostructures.dynamics.nac import overlap_matrix, read_snapshot
from heterostructures.io.wavefunctions import Wavefunction, gauge_fingerprint, relative_phases

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "qe67_wfc_cds_nc_gamma"
WINDOW = (8, 11)
SIGNS = np.array([1.0, -1.0, -1.0, 1.0])


def _window(snapshot: int) -> Wavefunction:
    return read_snapshot(FIXTURE / f"snapshot_{snapshot}", "cds", WINDOW)[1]


def test_signs_flipped_per_band_are_found() -> None:
    """The same run with bands 9 and 10 negated: the phases are exactly those signs."""
    wavefunction = _window(0)
    flipped = replace(wavefunction, coefficients=SIGNS[:, None] * wavefunction.coefficients)
    fingerprints = (gauge_fingerprint(flipped), gauge_fingerprint(wavefunction))
    np.testing.assert_allclose(relative_phases(*fingerprints, gamma_only=True), SIGNS, atol=1e-12)
    # Without the Γ-only rule the same signs come back as unit complex numbers.
    np.testing.assert_allclose(relative_phases(*fingerprints), SIGNS, atol=1e-12)
    # As a batch job stores them (int16 Miller indices, complex64 coefficients): the same.
    stored = [(m.astype(np.int16), c.astype(np.complex64)) for m, c in fingerprints]
    np.testing.assert_array_equal(relative_phases(stored[0], stored[1], gamma_only=True), SIGNS)


def test_phase_between_neighbouring_snapshots_matches_full_overlap() -> None:
    """Two runs of slightly different structures (S moved 0.01 crystal units): for each band
    that stays itself (|⟨ψ_b(1)|ψ_b(0)⟩| > 0.9; the split valence triplet mixes) the
    fingerprint's sign equals the sign of the full overlap."""
    reference, other = _window(0), _window(1)
    other = replace(other, coefficients=SIGNS[:, None] * other.coefficients)
    full = np.diagonal(overlap_matrix(other, reference))
    kept = np.flatnonzero(np.abs(full) > 0.9)
    assert len(kept) == 3  # measured |S_bb| 0.98, 0.09, 0.99, 0.97
    reference, other = (replace(w, coefficients=w.coefficients[kept]) for w in (reference, other))
    fingerprints = (gauge_fingerprint(reference), gauge_fingerprint(other))
    np.testing.assert_array_equal(
        relative_phases(*fingerprints, gamma_only=True), np.sign(full[kept])
    )
    assert set(np.sign(full[kept])) == {1.0, -1.0}  # both signs met


def test_different_states_are_refused() -> None:
    """Bands swapped in one run: no common phase, a ValueError naming the band."""
    wavefunction = _window(0)
    swapped = replace(wavefunction, coefficients=wavefunction.coefficients[[1, 0, 2, 3]])
    with pytest.raises(ValueError, match="band 0 of the window is not the same state"):
        relative_phases(gauge_fingerprint(wavefunction), gauge_fingerprint(swapped))
