"""Domain weights of Kohn–Sham states from plane-wave coefficients.

References: closed forms (a single plane wave; two plane waves along the normal), a
synthetic two-Gaussian state whose weights come from a direct numpy 3-D inverse FFT onto
a fine real-space grid, and the recorded QE 6.7 CdS wavefunctions (Γ-only and 2 k).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from heterostructures.electronic.domain_weights import (
    DomainWeightError,
    domain_partition,
    domain_weights,
    interval_integrals,
    line_density,
    line_density_coefficients,
)
from heterostructures.io.wavefunctions import Wavefunction, read_wavefunction, wavefunction_file
from tests.heterostructures.dynamics.test_nac import synthetic

FIXTURES = Path(__file__).parents[2] / "fixtures"


def _wavefunction(
    miller: np.ndarray, coefficients: np.ndarray, gamma_only: bool = False
) -> Wavefunction:
    """:func:`tests.heterostructures.dynamics.test_nac.synthetic` on the given Miller indices."""
    return synthetic(np.atleast_2d(coefficients), np.asarray(miller), gamma_only=gamma_only)


def test_single_plane_wave_is_uniform_along_the_normal() -> None:
    """Closed form: |e^{iG·r}|² is constant, so a slab holds its length's fraction."""
    wave = _wavefunction(np.array([[1, -2, 3]]), np.array([[1.0]]))
    partition = domain_partition([0.1, 0.5], ["a", "b"], [0, 0])
    # Cut midway between 0.1 and 0.5 (0.3) and between 0.5 and 1.1 (0.8): a owns 0.5 of it.
    np.testing.assert_allclose(domain_weights(wave, partition), [[0.5, 0.5]], atol=1e-14)
    partition = domain_partition([0.0, 0.2, 0.6], ["a", "a", "b"], [0, 1, 0])
    # a: layers at 0.0 and 0.2 → slabs (-0.2, 0.1) and (0.1, 0.4); b: (0.4, 0.8).
    np.testing.assert_allclose(domain_weights(wave, partition), [[0.6, 0.4]], atol=1e-14)


def test_two_plane_waves_along_the_normal_match_the_closed_form() -> None:
    """λ(x) = |a|² + |b|² + 2 Re(a* b e^{4πix}) for m₃ = 0 and 2: its integral by hand."""
    a, b = 0.6, 0.8j
    wave = _wavefunction(np.array([[0, 0, 0], [0, 0, 2]]), np.array([[a, b]]))
    start, stop = 0.13, 0.71
    oscillating = (np.exp(4j * np.pi * stop) - np.exp(4j * np.pi * start)) / (4j * np.pi)
    expected = (abs(a) ** 2 + abs(b) ** 2) * (stop - start) + 2 * np.real(
        np.conj(a) * b * oscillating
    )
    integral = interval_integrals(
        line_density_coefficients(wave), np.array([start]), np.array([stop])
    )
    assert integral[0, 0] == pytest.approx(expected, abs=1e-14)
    x = np.array([0.0, 0.2, 0.37])
    by_hand = abs(a) ** 2 + abs(b) ** 2 + 2 * np.real(np.conj(a) * b * np.exp(4j * np.pi * x))
    np.testing.assert_allclose(line_density(wave, x)[0], by_hand, atol=1e-13)


GRID = (6, 5, 24)


def _two_gaussian_state() -> tuple[np.ndarray, np.ndarray]:
    """A real state on a 6 × 5 × 24 grid: 0.8 of a Gaussian at x₃ = 0.25, 0.2 at 0.7
    (by amplitude²), with an in-plane modulation; returns (Miller, coefficients) of all
    grid plane waves below Nyquist, normalised."""
    x1, x2, x3 = np.meshgrid(*(np.arange(n) / n for n in GRID), indexing="ij")
    width = 0.05
    psi = np.sqrt(0.8) * np.exp(-(((x3 - 0.25) / width) ** 2) / 2) * (
        1 + 0.3 * np.cos(2 * np.pi * x1)
    ) + np.sqrt(0.2) * np.exp(-(((x3 - 0.7) / width) ** 2) / 2) * (1 + 0.2 * np.sin(2 * np.pi * x2))
    coefficients = np.fft.fftn(psi) / psi.size
    miller = np.stack(
        np.meshgrid(*(np.fft.fftfreq(n, 1.0 / n).astype(int) for n in GRID), indexing="ij"), -1
    ).reshape(-1, 3)
    coefficients = coefficients.reshape(-1)
    below_nyquist = np.all(2 * np.abs(miller) < np.array(GRID), axis=1)
    miller, coefficients = miller[below_nyquist], coefficients[below_nyquist]
    return miller, coefficients / np.linalg.norm(coefficients)


def _real_space_line_density(miller: np.ndarray, coefficients: np.ndarray, n3: int) -> np.ndarray:
    """Direct reference: the state on a (6, 5, n3) grid by numpy's 3-D inverse FFT, |ψ|²
    averaged over each plane of constant x₃ (= λ per unit fractional length)."""
    grid = np.zeros((GRID[0], GRID[1], n3), dtype=complex)
    grid[miller[:, 0], miller[:, 1], miller[:, 2]] = coefficients
    psi = np.fft.ifftn(grid) * grid.size
    return np.asarray((np.abs(psi) ** 2).mean(axis=(0, 1)))


def test_two_gaussian_state_matches_a_real_space_fft() -> None:
    miller, coefficients = _two_gaussian_state()
    wave = _wavefunction(miller, coefficients)
    x = np.arange(GRID[2]) / GRID[2]
    reference = _real_space_line_density(miller, coefficients, GRID[2])
    np.testing.assert_allclose(line_density(wave, x)[0], reference, atol=1e-12)
    partition = domain_partition([0.2, 0.3, 0.7], ["cds", "cds", "perovskite"], [0, 1, 0])
    # Cuts at 0.5 and 0.95 (midway 0.7 → 1.2): the fine real-space grid sums the same slabs.
    fine = 24 * 64
    density = _real_space_line_density(miller, coefficients, fine)
    z = np.arange(fine) / fine
    in_perovskite = (z >= 0.5) & (z < 0.95)
    expected = [density[~in_perovskite].sum() / fine, density[in_perovskite].sum() / fine]
    weights = domain_weights(wave, partition)
    np.testing.assert_allclose(weights[0], expected, atol=1e-6)
    assert weights[0, 0] == pytest.approx(0.8, abs=0.01)


def test_gamma_only_half_sphere_gives_the_full_sphere_weights() -> None:
    """A real state stored as QE's Γ-only half sphere (c(−G) = c(G)* dropped) must give
    the weights of the full sphere: the −G partners are restored."""
    miller, coefficients = _two_gaussian_state()
    full = domain_weights(
        _wavefunction(miller, coefficients), domain_partition([0.2, 0.7], ["a", "b"], [0, 0])
    )
    keys = miller[:, 2] * 10_000 + miller[:, 1] * 100 + miller[:, 0]
    half = keys >= 0
    gamma = _wavefunction(miller[half], coefficients[half], gamma_only=True)
    weights = domain_weights(gamma, domain_partition([0.2, 0.7], ["a", "b"], [0, 0]))
    np.testing.assert_allclose(weights, full, atol=1e-12)
    assert line_density_coefficients(gamma)[0, 0].real == pytest.approx(1.0, abs=1e-12)


@pytest.mark.parametrize(
    "run", ["qe67_wfc_cds_nc_gamma/snapshot_0", "qe67_wfc_cds_nc_2k/snapshot_0"]
)
def test_recorded_cds_weights_sum_to_one_and_match_a_real_space_fft(run: str) -> None:
    """Recorded pw.x states (NC, orthonormal): rows sum to 1; the Cd/S split agrees with
    |ψ|² on a real-space grid from numpy's 3-D inverse FFT of the same coefficients."""
    wave = read_wavefunction(wavefunction_file(FIXTURES / run, "cds", 1))
    if wave.gamma_only:
        nonzero = wave.miller_indices.any(axis=1)
        miller = np.vstack([wave.miller_indices, -wave.miller_indices[nonzero]])
        coefficients = np.hstack([wave.coefficients, wave.coefficients[:, nonzero].conj()])
    else:
        miller, coefficients = wave.miller_indices, wave.coefficients
    partition = domain_partition([0.0, 0.25], ["Cd", "S"], [0, 0])
    weights = domain_weights(wave, partition)
    np.testing.assert_allclose(weights.sum(axis=1), 1.0, atol=1e-10)
    assert np.all((weights > -1e-12) & (weights < 1 + 1e-12))
    shape = 2 * np.abs(miller).max(axis=0) + 1
    fine = int(shape[2]) * 64
    grid = np.zeros((int(shape[0]), int(shape[1]), fine), dtype=complex)
    density = np.empty((wave.n_bands, fine))
    z = (np.arange(fine) + 0.5) / fine
    for band in range(wave.n_bands):
        grid[:] = 0
        grid[miller[:, 0], miller[:, 1], miller[:, 2]] = coefficients[band]
        # Evaluate at cell-centred planes: shift by half a fine step via the phase.
        phase = np.exp(1j * np.pi * np.fft.fftfreq(fine, 1.0 / fine) / fine)
        psi = np.fft.ifftn(grid * phase[None, None, :]) * grid.size
        density[band] = (np.abs(psi) ** 2).mean(axis=(0, 1))
    on_s = (z >= 0.125) & (z < 0.625)
    expected_s = density[:, on_s].sum(axis=1) / density.sum(axis=1)
    np.testing.assert_allclose(weights[:, 1], expected_s, atol=1e-5)  # measured 1.2e-6


def test_labels_must_match_positions() -> None:
    with pytest.raises(DomainWeightError, match="2 positions but 1 labels"):
        domain_partition([0.1, 0.2], ["a"], [0])
