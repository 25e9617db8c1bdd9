"""Throughput and memory of the NAC chain, vectorised vs a per-band loop, side by side.

Synthetic snapshots sized like the production target (default 100 bands × 5·10⁴ plane
waves, Γ-only and general k). Per pair the chain is: read one wfcN.dat (the other is held
from the previous step), overlap with Miller matching, tracking + phase correction, NAC.
The script extrapolates to ``--pairs`` pairs (target: 1000 pairs in ≤ 5 min on 2 cores)
and measures peak memory of the streaming walk for two trajectory lengths, showing that it
is bounded by one pair and not by the trajectory.

Usage: ``python benchmarks/bench_nac.py [--bands 100] [--plane-waves 50000] [--pairs 1000]``.
BLAS threads follow ``OPENBLAS_NUM_THREADS``/``OMP_NUM_THREADS``; on a machine shared with
other jobs, oversubscribed BLAS threads are several times slower than one thread, so the
load average is printed with the results.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
import tracemalloc
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import numpy as np

from heterostructures.dynamics.nac import (
    TrackingState,
    align_pair,
    couplings_from_wavefunctions,
    nonadiabatic_couplings,
    overlap_matrix,
)
from heterostructures.io.wavefunctions import Wavefunction, read_wavefunction


def synthetic_snapshot(
    rng: np.random.Generator, n_bands: int, n_plane_waves: int, gamma_only: bool
) -> Wavefunction:
    """Random normalised states on a half (Γ-only) or full Miller sphere of ≈ n_plane_waves."""
    radius = (3 * n_plane_waves * (2 if gamma_only else 1) / (4 * np.pi)) ** (1 / 3) + 2
    grid = np.arange(-int(radius), int(radius) + 1)
    miller = np.stack(np.meshgrid(grid, grid, grid, indexing="ij"), -1).reshape(-1, 3)
    miller = miller[np.argsort((miller**2).sum(axis=1), kind="stable")]
    if gamma_only:
        key = miller[:, 0] * 10**6 + miller[:, 1] * 10**3 + miller[:, 2]
        miller = miller[key >= 0]  # one of each ±G pair, G = 0 first
    miller = miller[:n_plane_waves].astype(np.int32)
    coefficients = rng.normal(size=(n_bands, 2 * n_plane_waves)).view(np.complex128)
    coefficients /= np.linalg.norm(coefficients, axis=1, keepdims=True)
    return Wavefunction(
        k_index=1,
        k_cartesian_per_bohr=np.zeros(3),
        spin_index=1,
        gamma_only=gamma_only,
        scale_factor=1.0,
        n_plane_waves_global=n_plane_waves,
        npol=1,
        n_bands_in_file=n_bands,
        reciprocal_vectors_per_bohr=np.eye(3),
        miller_indices=miller,
        coefficients=coefficients,
        band_window=(1, n_bands),
    )


def shuffled(wavefunction: Wavefunction, rng: np.random.Generator) -> Wavefunction:
    """Same states with plane waves in another order (forces the Miller matching path)."""
    order = rng.permutation(wavefunction.n_plane_waves)
    return replace(
        wavefunction,
        miller_indices=wavefunction.miller_indices[order],
        coefficients=np.ascontiguousarray(wavefunction.coefficients[:, order]),
    )


def loop_overlap(bra: Wavefunction, ket: Wavefunction, bra_rows: int | None = None) -> np.ndarray:
    """The straightforward version: dict Miller lookup, then one dot product per band pair.

    ``bra_rows`` limits the loop to the first rows (timing a subset, scaled up after).
    """
    position = {tuple(g): n for n, g in enumerate(ket.miller_indices.tolist())}
    order = np.array([position[tuple(g)] for g in bra.miller_indices.tolist()])
    zero = position[(0, 0, 0)]
    rows = bra.n_bands if bra_rows is None else bra_rows
    overlap = np.zeros((rows, ket.n_bands), dtype=complex)
    for i in range(rows):
        for j in range(ket.n_bands):
            value = np.vdot(bra.coefficients[i], ket.coefficients[j, order])
            if bra.gamma_only:
                g0_term = bra.coefficients[i, 0].conj() * ket.coefficients[j, zero]
                value = 2 * value.real - g0_term.real
            overlap[i, j] = value
    return overlap.real if bra.gamma_only else overlap


def best_time_s(function: Callable[[], object], repeats: int) -> float:
    """Best wall time of ``repeats`` calls (s): the least perturbed by the shared machine."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return min(times)


def write_wfc_dat(path: Path, wavefunction: Wavefunction) -> None:
    """Write ``wavefunction`` in the QE >= 6.4 wfcN.dat record layout."""
    records = [
        np.array([1], "<i4").tobytes()
        + np.zeros(3, "<f8").tobytes()
        + np.array([1, int(wavefunction.gamma_only)], "<i4").tobytes()
        + np.array([1.0], "<f8").tobytes(),
        np.array([wavefunction.n_plane_waves] * 2 + [1, wavefunction.n_bands], "<i4").tobytes(),
        np.eye(3).astype("<f8").tobytes(),
        wavefunction.miller_indices.astype("<i4").tobytes(),
        *(row.tobytes() for row in wavefunction.coefficients),
    ]
    with path.open("wb") as stream:
        for payload in records:
            marker = np.array([len(payload)], "<i4").tobytes()
            stream.write(marker + payload + marker)


def pair_step(previous: Wavefunction, current: Wavefunction) -> np.ndarray:
    """Everything done per pair after reading: overlap, tracking + phase, NAC."""
    state = TrackingState.initial(previous.n_bands, np.float64 if previous.gamma_only else complex)
    corrected, _ = align_pair(overlap_matrix(previous, current), state)
    return nonadiabatic_couplings(corrected, 1.0)


def streaming_peak_mb(bra: Wavefunction, ket: Wavefunction, n_snapshots: int) -> float:
    """Peak traced memory (MB) of the streaming walk over ``n_snapshots`` lazy snapshots."""

    def snapshots() -> Iterator[tuple[np.ndarray, Wavefunction]]:
        for step in range(n_snapshots):
            source = bra if step % 2 == 0 else ket
            yield np.zeros(source.n_bands), replace(source, coefficients=source.coefficients.copy())

    tracemalloc.start()
    couplings_from_wavefunctions(snapshots(), 1.0)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak / 1e6


def report(label: str, seconds: float, pairs: int) -> None:
    print(f"  {label:<44s} {seconds * 1e3:9.1f} ms/pair  → {seconds * pairs / 60:7.2f} min")


def benchmark(
    n_bands: int, n_plane_waves: int, pairs: int, repeats: int, loop_bands: int, gamma_only: bool
) -> None:
    rng = np.random.default_rng(0)
    bra = synthetic_snapshot(rng, n_bands, n_plane_waves, gamma_only)
    ket = shuffled(synthetic_snapshot(rng, n_bands, n_plane_waves, gamma_only), rng)
    same_order = replace(ket, miller_indices=bra.miller_indices)
    kind = "Γ-only" if gamma_only else "general k"
    print(f"\n{kind}: {n_bands} bands × {bra.n_plane_waves} plane waves; minutes for {pairs} pairs")
    loop_rows = min(loop_bands, n_bands)
    start = time.perf_counter()
    loop_rows_overlap = loop_overlap(bra, ket, loop_rows)
    loop = (time.perf_counter() - start) * n_bands / loop_rows
    np.testing.assert_allclose(overlap_matrix(bra, ket)[:loop_rows], loop_rows_overlap, atol=1e-12)
    vectorised = best_time_s(lambda: overlap_matrix(bra, ket), repeats)
    report(f"per-band loop overlap (timed on {loop_rows} rows)", loop, pairs)
    report("vectorised overlap, plane waves shuffled", vectorised, pairs)
    report(
        "vectorised overlap, same plane-wave order",
        best_time_s(lambda: overlap_matrix(bra, same_order), repeats),
        pairs,
    )
    full_step = best_time_s(lambda: pair_step(bra, same_order), repeats)
    report("overlap + tracking + phase + NAC (same order)", full_step, pairs)
    print(f"  speed-up of the vectorised overlap over the loop: {loop / vectorised:.0f}×")
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "wfc1.dat"
        write_wfc_dat(path, ket)
        reading = best_time_s(lambda: read_wavefunction(path), repeats)
    report("read one wfc1.dat (page cache)", reading, pairs)
    report("whole chain per pair (read + step)", reading + full_step, pairs)
    pair_mb = 2 * bra.coefficients.nbytes / 1e6
    peaks = [streaming_peak_mb(bra, ket, n) for n in (3, 6)]
    print(
        f"  memory: one pair of coefficient arrays = {pair_mb:.0f} MB; streaming peak "
        f"{peaks[0]:.0f} MB for 3 snapshots, {peaks[1]:.0f} MB for 6 (bounded by the pair)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bands", type=int, default=100)
    parser.add_argument("--plane-waves", type=int, default=50_000)
    parser.add_argument("--pairs", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--loop-bands", type=int, default=5, help="bra rows timed in the loop")
    arguments = parser.parse_args()
    threads = {
        name: os.environ.get(name, "unset") for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS")
    }
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    print(f"cores: {os.cpu_count()}, load average {load}, BLAS threading: {threads}")
    for gamma_only in (True, False):
        benchmark(
            arguments.bands,
            arguments.plane_waves,
            arguments.pairs,
            arguments.repeats,
            arguments.loop_bands,
            gamma_only,
        )


if __name__ == "__main__":
    main()
