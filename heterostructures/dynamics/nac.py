"""Overlaps, phase correction, state tracking and non-adiabatic couplings (NAC).

Between consecutive snapshots t and t+dt of a trajectory this module computes the overlap
matrix S_ij = ⟨i(t)|j(t+dt)⟩ of the Kohn–Sham states in a band window, with plane waves
matched by Miller index (one BLAS product per pair), and the NAC in the finite-difference
form of Hammes-Schiffer and Tully,

    d_ij(t + dt/2) ≈ [⟨i(t)|j(t+dt)⟩ − ⟨i(t+dt)|j(t)⟩] / (2 dt)   (fs⁻¹),

which is anti-Hermitian (antisymmetric for Γ-only, real wavefunctions). ħ·d in meV is the
coupling as an energy.

Conventions, in the order applied at each pair:

* Orthonormality: norm-conserving pseudo-wavefunctions are orthonormal in the plane-wave
  metric. PAW/ultrasoft ones are orthonormal only with the augmentation S matrix, which
  ``wfcN.dat`` does not hold; ``orthonormalize=True`` applies Löwdin (symmetric)
  orthonormalisation within the band window at every snapshot, the usual approximation.
* Tracking: with ``track_states=True`` each state label follows the band of maximum
  |overlap|² through crossings (``scipy.optimize.linear_sum_assignment``); energies and
  couplings are then reported per label, not per energy rank.
* Phase: each state's arbitrary phase (a sign for Γ-only) is fixed so that the diagonal
  ⟨i(t)|i(t+dt)⟩ is real and positive, propagated from the first snapshot onward.

Entry points: ``couplings_from_snapshots`` (pw.x outdirs in trajectory order),
``couplings_from_wavefunctions`` (any lazy stream of snapshots), and, for workflows that
delete wavefunction files as they go, ``overlap_between_runs`` per pair followed by
``couplings_from_overlaps`` on the stored matrices. All give the same ``NacSeries``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
from scipy.optimize import linear_sum_assignment

from heterostructures.io.wavefunctions import (
    BandWindow,
    Wavefunction,
    band_structure_of_run,
    read_wavefunction,
    validate_band_window,
    wavefunction_file,
)
from heterostructures.units import HBAR_MEV_FS


class SnapshotMismatchError(ValueError):
    """Two snapshots cannot be overlapped: different basis, cell, k-point or cutoff."""


CUTOFF_TOLERANCE_RY = 1e-6
"""Largest difference (Ry) between two snapshots' ``ecutwfc`` still called the same cutoff:
pw.x echoes the input cutoff, so equal inputs agree to rounding (~1e-14 Ry)."""


def check_same_cutoff(cutoff_ry: float, reference_ry: float, snapshot: str) -> None:
    """Raise ``SnapshotMismatchError`` when ``snapshot`` ran with another ``ecutwfc`` (Ry)
    than the first: plane-wave sets of different cutoffs cannot be overlapped. Both values
    in Ry (convert aiida-quantumespresso's ``wfc_cutoff``, which is in eV, first)."""
    if abs(cutoff_ry - reference_ry) > CUTOFF_TOLERANCE_RY:
        raise SnapshotMismatchError(
            f"{snapshot} has ecutwfc = {cutoff_ry} Ry but the first snapshot has "
            f"{reference_ry} Ry: run every snapshot with the same cutoff"
        )


def plane_wave_permutation(reference_miller: np.ndarray, other_miller: np.ndarray) -> np.ndarray:
    """Return ``p`` with ``other_miller[p] == reference_miller`` (vectorised, no dict).

    Each Miller triple is packed into one int64 key; keys of ``other`` are sorted once and
    the reference keys located by binary search. Raises ``SnapshotMismatchError`` when the
    two plane-wave sets differ (different cutoff, cell or k-point).
    """
    if reference_miller.shape != other_miller.shape:
        raise SnapshotMismatchError(
            f"plane-wave sets differ in size ({reference_miller.shape[0]} vs "
            f"{other_miller.shape[0]}): snapshots need the same ecutwfc, cell and k-point"
        )
    span = int(max(np.abs(reference_miller).max(), np.abs(other_miller).max())) + 1
    width = 2 * span + 1

    def packed(miller: np.ndarray) -> np.ndarray:
        shifted = miller.astype(np.int64) + span
        return (shifted[:, 0] * width + shifted[:, 1]) * width + shifted[:, 2]

    other_keys = packed(other_miller)
    order = np.argsort(other_keys, kind="stable")
    reference_keys = packed(reference_miller)
    position = np.searchsorted(other_keys[order], reference_keys)
    position = np.minimum(position, order.size - 1)
    permutation = order[position]
    if not np.array_equal(other_keys[permutation], reference_keys):
        raise SnapshotMismatchError(
            "plane-wave sets have the same size but different Miller indices: snapshots need "
            "the same ecutwfc, cell and k-point"
        )
    return permutation


def _check_compatible(bra: Wavefunction, ket: Wavefunction) -> None:
    facts = {
        "gamma_only": (bra.gamma_only, ket.gamma_only),
        "npol": (bra.npol, ket.npol),
        "spin index": (bra.spin_index, ket.spin_index),
    }
    for name, (left, right) in facts.items():
        if left != right:
            raise SnapshotMismatchError(f"snapshots differ in {name}: {left} vs {right}")
    if not np.allclose(bra.k_cartesian_per_bohr, ket.k_cartesian_per_bohr, atol=1e-8):
        raise SnapshotMismatchError(
            f"k-points differ: {bra.k_cartesian_per_bohr} vs {ket.k_cartesian_per_bohr} bohr⁻¹"
        )
    scale = np.abs(bra.reciprocal_vectors_per_bohr).max()
    if not np.allclose(
        bra.reciprocal_vectors_per_bohr, ket.reciprocal_vectors_per_bohr, rtol=0, atol=1e-8 * scale
    ):
        raise SnapshotMismatchError(
            "reciprocal cells differ between snapshots: overlaps need a fixed cell (NVE/NVT)"
        )


def _aligned_coefficients(bra: Wavefunction, ket: Wavefunction) -> np.ndarray:
    """Ket coefficients with plane waves reordered to the bra's Miller order."""
    if np.array_equal(bra.miller_indices, ket.miller_indices):
        return ket.coefficients
    permutation = plane_wave_permutation(bra.miller_indices, ket.miller_indices)
    spinor_offsets = ket.n_plane_waves * np.arange(ket.npol)
    return ket.coefficients[:, (spinor_offsets[:, None] + permutation[None, :]).ravel()]


def _gamma_index(wavefunction: Wavefunction) -> np.ndarray:
    """Column positions of G = 0 (one per spinor component)."""
    zero = np.flatnonzero(~wavefunction.miller_indices.any(axis=1))
    if zero.size != 1:
        raise SnapshotMismatchError("gamma_only wavefunction without a unique G = 0 plane wave")
    return zero[0] + wavefunction.n_plane_waves * np.arange(wavefunction.npol)


def overlap_matrix(bra: Wavefunction, ket: Wavefunction) -> np.ndarray:
    """S_ij = ⟨bra_i|ket_j⟩ over all matched plane waves (and spinor components).

    Complex128 for general k; float64 for Γ-only, where ⟨a|b⟩ = 2 Re Σ_{G≠0} a*b + a₀b₀
    is one real matrix product on the (re, im) pairs.
    """
    _check_compatible(bra, ket)
    ket_coefficients = _aligned_coefficients(bra, ket)
    if not bra.gamma_only:
        return np.asarray(bra.coefficients.conj() @ ket_coefficients.T)
    bra_pairs = bra.coefficients.view(np.float64)
    ket_pairs = np.ascontiguousarray(ket_coefficients).view(np.float64)
    overlap = 2.0 * (bra_pairs @ ket_pairs.T)
    zero = _gamma_index(bra)
    overlap -= (bra.coefficients[:, zero].conj() @ ket_coefficients[:, zero].T).real
    return np.asarray(overlap)


def lowdin_orthonormalize(wavefunction: Wavefunction) -> Wavefunction:
    """Symmetrically orthonormalise the window: |i'⟩ = Σ_j |j⟩ (S^{-1/2})_ji.

    Of all orthonormal sets spanning the window, Löwdin's stays closest to the input states,
    so band character and phases are preserved as far as possible.
    """
    overlap = overlap_matrix(wavefunction, wavefunction)
    eigenvalues, eigenvectors = np.linalg.eigh(overlap)
    if eigenvalues.min() <= 1e-10 * eigenvalues.max():
        raise ValueError("states in the band window are linearly dependent: cannot orthonormalise")
    inverse_root = (eigenvectors / np.sqrt(eigenvalues)) @ eigenvectors.conj().T
    coefficients = inverse_root.T @ wavefunction.coefficients
    return replace(wavefunction, coefficients=np.ascontiguousarray(coefficients))


def nonadiabatic_couplings(overlap: np.ndarray, dt_fs: float) -> np.ndarray:
    """d_ij = [S_ij − conj(S_ji)] / (2 dt) in fs⁻¹, from S_ij = ⟨i(t)|j(t+dt)⟩.

    Uses ⟨i(t+dt)|j(t)⟩ = conj(⟨j(t)|i(t+dt)⟩), so one overlap matrix per pair suffices.
    """
    _require_positive_time_step(dt_fs)
    return np.asarray((overlap - overlap.conj().T) / (2.0 * dt_fs))


def _require_positive_time_step(dt_fs: float) -> None:
    if not dt_fs > 0:
        raise ValueError(f"time step dt_fs must be positive (fs), got {dt_fs}")


@dataclass(frozen=True, eq=False)
class TrackingState:
    """Which window band each state label occupies at a snapshot, and its phase factor."""

    band_order: np.ndarray
    """(n_states,) int: 0-based window position of each label."""
    phases: np.ndarray
    """(n_states,) unit-modulus factors (±1 for Γ-only) applied to each label's state."""

    @classmethod
    def initial(cls, n_states: int, dtype: np.dtype | type = np.float64) -> TrackingState:
        """Labels equal to the band order and unit phases at the first snapshot."""
        return cls(np.arange(n_states), np.ones(n_states, dtype=dtype))


def align_pair(
    raw_overlap: np.ndarray, previous: TrackingState, track_states: bool = True
) -> tuple[np.ndarray, TrackingState]:
    """Relabel and re-phase S_ij = ⟨i(t)|j(t+dt)⟩ (bands in energy order at both times).

    Rows take the labels and phases already fixed at t; columns are assigned to labels by
    maximum total |S|² (when tracking) and their phases chosen so the diagonal is real and
    positive. Returns the corrected label × label overlap and the state at t+dt.
    """
    rows = previous.phases.conj()[:, None] * raw_overlap[previous.band_order, :]
    if track_states:
        _, band_order = linear_sum_assignment(-(np.abs(rows) ** 2))
    else:
        band_order = np.arange(raw_overlap.shape[1])
    labelled = rows[:, band_order]
    diagonal = np.diagonal(labelled)
    magnitude = np.abs(diagonal)
    unit = np.where(magnitude > 1e-12, diagonal / np.where(magnitude > 0, magnitude, 1), 1)
    phases = unit.conj().astype(raw_overlap.dtype)
    return labelled * phases[None, :], TrackingState(np.asarray(band_order), phases)


@dataclass(frozen=True, eq=False)
class NacSeries:
    """Energies, overlaps and NAC along a trajectory, per tracked state label.

    Pair n couples snapshots n and n+1 and is centred at t = (n + ½)·dt.
    """

    dt_fs: float
    band_window: BandWindow
    energies_ev: np.ndarray
    """(n_snapshots, n_states) Kohn–Sham energies (eV) of each label."""
    band_order: np.ndarray
    """(n_snapshots, n_states) 0-based window position of each label at each snapshot."""
    overlaps: np.ndarray
    """(n_pairs, n_states, n_states) phase-corrected ⟨i(t)|j(t+dt)⟩."""
    nac_per_fs: np.ndarray
    """(n_pairs, n_states, n_states) d_ij(t + dt/2) in fs⁻¹ (anti-Hermitian)."""

    @property
    def nac_mev(self) -> np.ndarray:
        """Couplings as energies ħ·d_ij in meV."""
        return HBAR_MEV_FS * self.nac_per_fs

    @property
    def midpoint_times_fs(self) -> np.ndarray:
        """(n_pairs,) times t + dt/2 of the couplings, fs, from the first snapshot."""
        return (np.arange(self.nac_per_fs.shape[0]) + 0.5) * self.dt_fs


def couplings_from_overlaps(
    raw_overlaps: Sequence[np.ndarray] | np.ndarray,
    energies_ev: np.ndarray,
    dt_fs: float,
    band_window: BandWindow,
    *,
    track_states: bool = True,
) -> NacSeries:
    """Track, phase-correct and differentiate raw pair overlaps into a ``NacSeries``.

    ``raw_overlaps[n]`` is ⟨i(t_n)|j(t_{n+1})⟩ with bands in pw.x (energy) order at both
    times and ``energies_ev[n]`` the window energies of snapshot n, as stored per pair by a
    workflow that deletes wavefunction files once they have been overlapped.
    """
    raw = np.asarray(raw_overlaps)
    energies = np.asarray(energies_ev, dtype=float)
    _require_positive_time_step(dt_fs)
    if raw.ndim != 3 or raw.shape[0] == 0 or raw.shape[1] != raw.shape[2]:
        raise ValueError(f"need ≥ 1 square overlap matrix (n_pairs, n, n), got shape {raw.shape}")
    if energies.shape != (raw.shape[0] + 1, raw.shape[1]):
        raise ValueError(
            f"energies shape {energies.shape} does not match {raw.shape[0]} pairs of "
            f"{raw.shape[1]} states: need (n_pairs + 1, n_states)"
        )
    state = TrackingState.initial(raw.shape[1], raw.dtype)
    orders, corrected = [state.band_order], np.empty_like(raw)
    for pair, overlap in enumerate(raw):
        corrected[pair], state = align_pair(overlap, state, track_states)
        orders.append(state.band_order)
    band_order = np.array(orders)
    return NacSeries(
        dt_fs=dt_fs,
        band_window=band_window,
        energies_ev=np.take_along_axis(energies, band_order, axis=1),
        band_order=band_order,
        overlaps=corrected,
        nac_per_fs=np.array([nonadiabatic_couplings(s, dt_fs) for s in corrected]),
    )


def couplings_from_wavefunctions(
    snapshots: Iterable[tuple[np.ndarray, Wavefunction]],
    dt_fs: float,
    *,
    track_states: bool = True,
    orthonormalize: bool = False,
) -> NacSeries:
    """Walk (energies eV, wavefunction) snapshots, holding only one consecutive pair.

    ``snapshots`` may be a lazy generator: each wavefunction is released once it has been
    overlapped with the next, so memory is two snapshots plus n_pairs × n_states² numbers.
    """
    _require_positive_time_step(dt_fs)
    energy_rows: list[np.ndarray] = []
    raw_overlaps: list[np.ndarray] = []
    previous: Wavefunction | None = None
    for energies, current in snapshots:
        wavefunction = lowdin_orthonormalize(current) if orthonormalize else current
        if previous is not None:
            raw_overlaps.append(overlap_matrix(previous, wavefunction))
        energy_rows.append(np.asarray(energies))
        previous = wavefunction
    if previous is None or not raw_overlaps:
        raise ValueError(f"{len(energy_rows)} snapshot(s) given: need at least two")
    return couplings_from_overlaps(
        raw_overlaps, np.array(energy_rows), dt_fs, previous.band_window, track_states=track_states
    )


def read_snapshot(
    outdir: Path | str, prefix: str, band_window: BandWindow, k_index: int = 1
) -> tuple[np.ndarray, Wavefunction]:
    """Window energies (eV) and wavefunction of one pw.x run in ``<outdir>/<prefix>.save``."""
    bands = band_structure_of_run(outdir, prefix)
    if not 1 <= k_index <= bands.energies_ev.shape[0]:
        raise ValueError(f"k_index {k_index} not in 1..{bands.energies_ev.shape[0]} ({outdir})")
    first, last = validate_band_window(band_window, bands.n_bands, str(outdir))
    wavefunction = read_wavefunction(wavefunction_file(outdir, prefix, k_index), (first, last))
    return bands.energies_ev[k_index - 1, first - 1 : last], wavefunction


def _snapshot_reader(
    snapshot_dirs: Sequence[Path], band_window: BandWindow, prefix: str, k_index: int
) -> Iterator[tuple[np.ndarray, Wavefunction]]:
    """Yield ``read_snapshot`` per pw.x outdir, checking every cutoff against the first."""
    reference_cutoff: float | None = None
    for directory in snapshot_dirs:
        cutoff = band_structure_of_run(directory, prefix).ecutwfc_ry
        if reference_cutoff is None:
            reference_cutoff = cutoff
        check_same_cutoff(cutoff, reference_cutoff, str(directory))
        yield read_snapshot(directory, prefix, band_window, k_index)


def overlap_between_runs(
    outdir_now: Path | str,
    outdir_next: Path | str,
    band_window: BandWindow,
    prefix: str,
    *,
    k_index: int = 1,
    orthonormalize: bool = False,
) -> np.ndarray:
    """Raw ⟨i(t)|j(t+dt)⟩ (bands in energy order) of two pw.x runs, for per-pair storage."""
    pair = list(
        _snapshot_reader([Path(outdir_now), Path(outdir_next)], band_window, prefix, k_index)
    )
    bra, ket = (lowdin_orthonormalize(w) if orthonormalize else w for _, w in pair)
    return overlap_matrix(bra, ket)


def couplings_from_snapshots(
    snapshot_dirs: Sequence[Path | str],
    band_window: BandWindow,
    dt_fs: float,
    prefix: str,
    *,
    k_index: int = 1,
    track_states: bool = True,
    orthonormalize: bool = False,
) -> NacSeries:
    """NAC series from pw.x output directories in trajectory order, ``dt_fs`` apart.

    Each directory holds ``<prefix>.save/`` with ``data-file-schema.xml`` and
    ``wfc<k_index>.dat``; ``band_window`` is 1-based inclusive as in pw.x. Use
    ``orthonormalize=True`` for PAW/ultrasoft runs (see the module docstring).
    """
    _require_positive_time_step(dt_fs)
    directories = [Path(d) for d in snapshot_dirs]
    if len(directories) < 2:
        raise ValueError(f"need at least two snapshot directories, got {len(directories)}")
    return couplings_from_wavefunctions(
        _snapshot_reader(directories, band_window, prefix, k_index),
        dt_fs,
        track_states=track_states,
        orthonormalize=orthonormalize,
    )
