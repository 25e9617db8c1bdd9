"""Overlaps, phase correction, tracking and NAC: real pw.x CdS snapshots and analytic models."""

from __future__ import annotations

import shutil
from dataclasses import replace
from itertools import pairwise
from pathlib import Path

import numpy as np
import pytest

from heterostructures.dynamics.nac import (
    NacSeries,
    SnapshotMismatchError,
    check_same_cutoff,
    couplings_from_overlaps,
    couplings_from_snapshots,
    couplings_from_wavefunctions,
    lowdin_orthonormalize,
    overlap_between_runs,
    overlap_matrix,
    plane_wave_permutation,
    read_snapshot,
)
from heterostructures.io.wavefunctions import (
    BandWindowError,
    Wavefunction,
    read_wavefunction,
    wavefunction_file,
)
from heterostructures.units import HBAR_MEV_FS

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
GAMMA_0 = FIXTURES / "qe67_wfc_cds_nc_gamma" / "snapshot_0"
GAMMA_1 = FIXTURES / "qe67_wfc_cds_nc_gamma" / "snapshot_1"
TWO_K = FIXTURES / "qe67_wfc_cds_nc_2k" / "snapshot_0"
PAW = FIXTURES / "qe67_wfc_cds_paw_gamma" / "snapshot_0"
PAW_1 = FIXTURES / "qe67_wfc_cds_paw_gamma" / "snapshot_1"
PREFIX = "cds"
ALL_BANDS = (1, 12)


def read(run: Path, k_index: int = 1) -> Wavefunction:
    return read_wavefunction(wavefunction_file(run, PREFIX, k_index))


def with_band_factor(wavefunction: Wavefunction, band: int, factor: complex) -> Wavefunction:
    coefficients = wavefunction.coefficients.copy()
    coefficients[band] *= factor
    return replace(wavefunction, coefficients=coefficients)


def synthetic(
    coefficients: np.ndarray,
    miller: np.ndarray | None = None,
    npol: int = 1,
    gamma_only: bool = False,
) -> Wavefunction:
    """A wavefunction on a 7×7×7 Miller grid (or the given Miller indices); general k
    unless ``gamma_only`` (then only the half sphere is stored, as pw.x does at Γ)."""
    grid = np.arange(-3, 4)
    if miller is None:
        miller = np.stack(np.meshgrid(grid, grid, grid, indexing="ij"), -1).reshape(-1, 3)
    return Wavefunction(
        k_index=1,
        k_cartesian_per_bohr=np.zeros(3),
        spin_index=1,
        gamma_only=gamma_only,
        scale_factor=1.0,
        n_plane_waves_global=miller.shape[0],
        npol=npol,
        n_bands_in_file=coefficients.shape[0],
        reciprocal_vectors_per_bohr=np.eye(3),
        miller_indices=miller.astype(np.int32),
        coefficients=coefficients.astype(np.complex128),
        band_window=(1, coefficients.shape[0]),
    )


def orthonormal_basis(n_states: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    raw = rng.normal(size=(343, n_states)) + 1j * rng.normal(size=(343, n_states))
    return np.linalg.qr(raw)[0].T


def rotated_pair(theta: float, basis: np.ndarray) -> np.ndarray:
    """States A = cos θ a + sin θ b, B = −sin θ a + cos θ b, plus a spectator c."""
    a, b, c = basis
    return np.array(
        [np.cos(theta) * a + np.sin(theta) * b, -np.sin(theta) * a + np.cos(theta) * b, c]
    )


@pytest.mark.parametrize(("run", "k_index"), [(GAMMA_0, 1), (TWO_K, 1), (TWO_K, 2)])
def test_overlap_of_a_snapshot_with_itself_is_identity(run: Path, k_index: int) -> None:
    series = couplings_from_snapshots([run, run], ALL_BANDS, 1.0, PREFIX, k_index=k_index)
    np.testing.assert_allclose(series.overlaps[0], np.eye(12), atol=1e-10)
    np.testing.assert_allclose(series.nac_per_fs[0], 0.0, atol=1e-10)
    assert series.overlaps.dtype == (np.float64 if run == GAMMA_0 else np.complex128)


def test_displaced_snapshot_keeps_isolated_band_and_antisymmetric_nac() -> None:
    """A 0.04 Å displacement barely changes the isolated S-3s band; NAC is antisymmetric."""
    series = couplings_from_snapshots([GAMMA_0, GAMMA_1], ALL_BANDS, 1.0, PREFIX)
    overlap = series.overlaps[0]
    assert overlap[0, 0] > 0.99
    assert np.sum(overlap[0] ** 2) == pytest.approx(1.0, abs=1e-3)
    assert np.all(np.diagonal(overlap) > 0)
    np.testing.assert_allclose(series.nac_per_fs[0], -series.nac_per_fs[0].T, atol=1e-15)
    assert np.abs(series.nac_per_fs).max() > 1e-3
    np.testing.assert_allclose(series.nac_mev, HBAR_MEV_FS * series.nac_per_fs)
    half_step = couplings_from_snapshots([GAMMA_0, GAMMA_1], ALL_BANDS, 0.5, PREFIX)
    np.testing.assert_allclose(half_step.nac_per_fs, 2 * series.nac_per_fs)


def test_plane_wave_reordering_does_not_change_overlaps() -> None:
    """Shuffling the plane waves (G = 0 included) of one file leaves ⟨i(t)|j(t+dt)⟩ unchanged."""
    before, after = read(GAMMA_0), read(GAMMA_1)
    shuffle = np.random.default_rng(7).permutation(after.n_plane_waves)
    shuffled = replace(
        after,
        miller_indices=after.miller_indices[shuffle],
        coefficients=np.ascontiguousarray(after.coefficients[:, shuffle]),
    )
    assert shuffle[0] != 0
    np.testing.assert_allclose(
        overlap_matrix(before, shuffled), overlap_matrix(before, after), atol=1e-13
    )
    np.testing.assert_array_equal(
        shuffled.miller_indices[
            plane_wave_permutation(after.miller_indices, shuffled.miller_indices)
        ],
        after.miller_indices,
    )


def test_spinor_plane_wave_reordering_does_not_change_overlaps() -> None:
    """Noncollinear (npol = 2): both spinor halves are matched with the same permutation."""
    rng = np.random.default_rng(5)
    miller = synthetic(orthonormal_basis(1)).miller_indices
    n = miller.shape[0]
    state = synthetic(rng.normal(size=(4, 2 * n)) + 1j * rng.normal(size=(4, 2 * n)), miller, 2)
    shuffle = rng.permutation(n)
    up, down = state.coefficients[:, :n], state.coefficients[:, n:]
    shuffled = replace(
        state,
        miller_indices=miller[shuffle],
        coefficients=np.concatenate([up[:, shuffle], down[:, shuffle]], axis=1),
    )
    expected = up.conj() @ up.T + down.conj() @ down.T
    np.testing.assert_allclose(overlap_matrix(state, shuffled), expected, rtol=1e-12)


def test_sign_flipped_state_is_corrected() -> None:
    reference = couplings_from_snapshots([GAMMA_0, GAMMA_1], ALL_BANDS, 1.0, PREFIX)
    flipped = with_band_factor(read(GAMMA_1), band=4, factor=-1.0)
    energies = reference.energies_ev[0]
    series = couplings_from_wavefunctions([(energies, read(GAMMA_0)), (energies, flipped)], 1.0)
    np.testing.assert_allclose(series.overlaps, reference.overlaps, atol=1e-14)
    np.testing.assert_allclose(series.nac_per_fs, reference.nac_per_fs, atol=1e-14)


def test_complex_phase_is_corrected() -> None:
    """General k: a state multiplied by e^{iφ} is brought back to a real positive diagonal."""
    state = read(TWO_K, k_index=2)
    twisted = with_band_factor(state, band=6, factor=np.exp(0.7j))
    energies = np.zeros(12)
    series = couplings_from_wavefunctions([(energies, state), (energies, twisted)], 1.0)
    np.testing.assert_allclose(series.overlaps[0], np.eye(12), atol=1e-10)


def test_phase_is_propagated_along_the_trajectory() -> None:
    """Going 0 → 1 → 0 (second copy sign-flipped) gives S(1→0) = S(0→1)ᵀ and reversed NAC."""
    first, second = read(GAMMA_0), read(GAMMA_1)
    back = with_band_factor(first, band=2, factor=-1.0)
    energies = np.zeros(12)
    series = couplings_from_wavefunctions([(energies, w) for w in (first, second, back)], 1.0)
    np.testing.assert_allclose(series.overlaps[1], series.overlaps[0].T, atol=1e-13)
    np.testing.assert_allclose(series.nac_per_fs[1], -series.nac_per_fs[0], atol=1e-13)
    np.testing.assert_array_equal(series.band_order[2], np.arange(12))


def test_lowdin_makes_paw_overlaps_orthonormal() -> None:
    paw = read(PAW)
    assert np.abs(overlap_matrix(paw, paw) - np.eye(12)).max() > 0.05
    orthonormal = lowdin_orthonormalize(paw)
    np.testing.assert_allclose(overlap_matrix(orthonormal, orthonormal), np.eye(12), atol=1e-12)
    series = couplings_from_snapshots([PAW, PAW], ALL_BANDS, 1.0, PREFIX, orthonormalize=True)
    np.testing.assert_allclose(series.overlaps[0], np.eye(12), atol=1e-12)


def test_lowdin_paw_couplings_agree_with_norm_conserving_ones() -> None:
    """Between degenerate groups at Γ (coupling norms are invariant inside a group): the
    VBM → CBM coupling of Löwdin-PAW matches NC within 25 %; raw PAW couples the Cd-4d t2
    set to the VBM spuriously (non-orthogonality), which Löwdin removes."""
    groups = {"s": [0], "d_t2": [1, 2, 3], "vbm": [6, 7, 8], "cbm": [9]}

    def group_coupling(series: NacSeries, first: str, second: str) -> float:
        return float(np.linalg.norm(series.nac_per_fs[0][np.ix_(groups[first], groups[second])]))

    window, options = (1, 10), {"track_states": False}
    nc = couplings_from_snapshots([GAMMA_0, GAMMA_1], window, 1.0, PREFIX, **options)
    paw = couplings_from_snapshots(
        [PAW, PAW_1], window, 1.0, PREFIX, orthonormalize=True, **options
    )
    raw = couplings_from_snapshots([PAW, PAW_1], window, 1.0, PREFIX, **options)
    assert group_coupling(paw, "vbm", "cbm") == pytest.approx(
        group_coupling(nc, "vbm", "cbm"), rel=0.25
    )
    assert group_coupling(paw, "s", "vbm") == pytest.approx(group_coupling(nc, "s", "vbm"), rel=0.4)
    assert group_coupling(nc, "d_t2", "vbm") < 0.01
    assert group_coupling(paw, "d_t2", "vbm") < 0.01
    assert group_coupling(raw, "d_t2", "vbm") > 0.05


def test_lowdin_leaves_norm_conserving_states_unchanged() -> None:
    state = read(TWO_K, k_index=2)
    np.testing.assert_allclose(
        lowdin_orthonormalize(state).coefficients, state.coefficients, atol=1e-9
    )


def test_uniformly_rotating_pair_gives_the_analytic_coupling() -> None:
    """θ(t) = ωt mixing A and B: d_AB = −sin(ω dt)/dt exactly, d_BA = −d_AB, c uncoupled."""
    omega_per_fs, dt_fs = 0.02, 0.5
    basis = orthonormal_basis(3)
    snapshots = [
        (np.array([0.0, 1.0, 2.0]), synthetic(rotated_pair(omega_per_fs * dt_fs * n, basis)))
        for n in range(5)
    ]
    series = couplings_from_wavefunctions(snapshots, dt_fs)
    expected = -np.sin(omega_per_fs * dt_fs) / dt_fs
    np.testing.assert_allclose(series.nac_per_fs[:, 0, 1], expected, rtol=1e-12)
    np.testing.assert_allclose(series.nac_per_fs[:, 1, 0], -expected, rtol=1e-12)
    np.testing.assert_allclose(series.nac_per_fs[:, 2, :2], 0.0, atol=1e-14)
    np.testing.assert_allclose(series.midpoint_times_fs, [0.25, 0.75, 1.25, 1.75])


def test_tracking_follows_states_through_a_crossing() -> None:
    """A rises and B falls through each other; energy-ordered bands swap at the last step."""
    basis = orthonormal_basis(3, seed=1)
    energies_a, energies_b = [0.0, 0.4, 0.8], [1.0, 0.6, 0.2]
    rng = np.random.default_rng(2)
    snapshots = []
    for step in range(3):
        states = rotated_pair(0.05 * step, basis) * np.exp(1j * rng.uniform(0, 2 * np.pi, (3, 1)))
        energies = np.array([energies_a[step], energies_b[step], 2.0])
        order = np.argsort(energies)  # pw.x lists bands by energy
        snapshots.append((energies[order], synthetic(states[order])))
    tracked = couplings_from_wavefunctions(snapshots, 1.0)
    np.testing.assert_array_equal(tracked.band_order[-1], [1, 0, 2])
    np.testing.assert_allclose(tracked.energies_ev[:, 0], energies_a)
    np.testing.assert_allclose(tracked.energies_ev[:, 1], energies_b)
    np.testing.assert_allclose(tracked.nac_per_fs[1], tracked.nac_per_fs[0], atol=1e-12)
    adiabatic = couplings_from_wavefunctions(snapshots, 1.0, track_states=False)
    assert np.abs(np.diagonal(adiabatic.overlaps[1])[:2]).max() < 0.1


def test_stored_pair_overlaps_give_the_same_series_as_streaming() -> None:
    """Workflow path (overlap per pair, stored, then post-processed) equals the streaming one."""
    runs = [GAMMA_0, GAMMA_1, GAMMA_0]
    window = (2, 10)
    streamed = couplings_from_snapshots(runs, window, 1.0, PREFIX)
    stored = [overlap_between_runs(a, b, window, PREFIX) for a, b in pairwise(runs)]
    energies = np.array([read_snapshot(run, PREFIX, window)[0] for run in runs])
    replayed = couplings_from_overlaps(stored, energies, 1.0, window)
    for field in ("energies_ev", "band_order", "overlaps", "nac_per_fs"):
        np.testing.assert_array_equal(getattr(replayed, field), getattr(streamed, field))
    assert replayed.band_window == streamed.band_window == window
    with pytest.raises(ValueError, match=r"need \(n_pairs \+ 1, n_states\)"):
        couplings_from_overlaps(stored, energies[:2], 1.0, window)


def test_mismatched_cutoffs_are_rejected(tmp_path: Path) -> None:
    other = tmp_path / "snapshot_1"
    shutil.copytree(GAMMA_1, other)
    xml = other / "cds.save" / "data-file-schema.xml"
    xml.write_text(xml.read_text().replace("<ecutwfc>1.25", "<ecutwfc>1.5"))
    with pytest.raises(SnapshotMismatchError, match=r"ecutwfc = 30\.0 Ry.*same cutoff"):
        couplings_from_snapshots([GAMMA_0, other], ALL_BANDS, 1.0, PREFIX)


def test_cutoff_check_works_in_rydberg() -> None:
    """The tolerance is 1e-6 Ry: 5e-7 Ry apart is the same cutoff, 2e-6 Ry is not. The
    snapshot workchain used to compare aiida-quantumespresso's ``wfc_cutoff`` (eV) with
    this Ry tolerance; reference: CODATA 2018, 1 Ry = 13.605693122994 eV."""
    check_same_cutoff(30.0 + 5e-7, 30.0, "snapshot 1")
    with pytest.raises(SnapshotMismatchError, match=r"snapshot 1 has ecutwfc = 30\.000002 Ry"):
        check_same_cutoff(30.000002, 30.0, "snapshot 1")


def test_different_basis_sets_are_rejected() -> None:
    with pytest.raises(SnapshotMismatchError, match="gamma_only"):
        couplings_from_snapshots([GAMMA_0, TWO_K], ALL_BANDS, 1.0, PREFIX)
    base = synthetic(orthonormal_basis(3))
    moved = replace(base, miller_indices=base.miller_indices + np.array([0, 0, 7], np.int32))
    with pytest.raises(SnapshotMismatchError, match="different Miller indices"):
        overlap_matrix(base, moved)
    smaller = synthetic(base.coefficients[:, :300], base.miller_indices[:300])
    with pytest.raises(SnapshotMismatchError, match="differ in size"):
        overlap_matrix(base, smaller)
    strained = replace(base, reciprocal_vectors_per_bohr=1.01 * np.eye(3))
    with pytest.raises(SnapshotMismatchError, match="reciprocal cells"):
        overlap_matrix(base, strained)


def test_bad_requests_are_rejected(tmp_path: Path) -> None:
    with pytest.raises(BandWindowError, match=r"\(1, 13\).*nbnd"):
        couplings_from_snapshots([GAMMA_0, GAMMA_1], (1, 13), 1.0, PREFIX)
    with pytest.raises(FileNotFoundError, match=r"no pw\.x save directory"):
        couplings_from_snapshots([GAMMA_0, tmp_path], ALL_BANDS, 1.0, PREFIX)
    with pytest.raises(ValueError, match="at least two"):
        couplings_from_snapshots([GAMMA_0], ALL_BANDS, 1.0, PREFIX)
    with pytest.raises(ValueError, match="dt_fs must be positive"):
        couplings_from_snapshots([GAMMA_0, GAMMA_1], ALL_BANDS, 0.0, PREFIX)
