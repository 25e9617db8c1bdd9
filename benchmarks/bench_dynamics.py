"""Surface hopping: vectorised ensemble engine vs a per-trajectory loop, side by side.

Both use the same engine (:func:`heterostructures.dynamics.surface_hopping.run_surface_hopping`)
and the
same precomputed step propagators; the loop calls it once per trajectory (one initial
time, one realisation), which is how a straightforward implementation runs. The model is
a synthetic NA Hamiltonian of the demo's shape (fluctuating energies, smooth random NAC).

Run: ``.work/venv/bin/python benchmarks/bench_dynamics.py [--bands 10] [--loop 100]``.
The loop is timed on ``--loop`` trajectories and its per-trajectory cost is scaled to the
full ensemble; the ensemble averages of both runs are printed so they can be compared.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import replace

import numpy as np
from numpy.typing import NDArray

from heterostructures.dynamics.dephasing import dephasing_time_matrix
from heterostructures.dynamics.surface_hopping import (
    HoppingSettings,
    NaHamiltonian,
    run_surface_hopping,
    segment_propagators,
)


def synthetic_hamiltonian(nsteps: int, nbands: int, seed: int = 0) -> NaHamiltonian:
    """Bands 0.05 eV apart with 0.02 eV correlated noise; NAC ~0.01 fs⁻¹, antisymmetric."""
    rng = np.random.default_rng(seed)
    kernel = np.exp(-0.5 * (np.arange(-20, 21) / 5.0) ** 2)
    kernel /= np.sqrt(np.sum(kernel**2))

    def smooth(shape: tuple[int, ...]) -> NDArray:
        noise = rng.standard_normal(shape)
        return np.apply_along_axis(lambda x: np.convolve(x, kernel, mode="same"), 0, noise)

    energies = 0.05 * np.arange(nbands) + 0.02 * smooth((nsteps, nbands))
    raw = 0.01 * smooth((nsteps - 1, nbands, nbands))
    return NaHamiltonian.from_arrays(energies, raw - raw.transpose(0, 2, 1), 1.0)


def time_vectorised(
    hamiltonian: NaHamiltonian, settings: HoppingSettings, extra: dict, propagators: NDArray
) -> tuple[float, NDArray]:
    start = time.perf_counter()
    result = run_surface_hopping(hamiltonian, settings, propagators=propagators, **extra)
    return time.perf_counter() - start, result.donor_population


def time_loop(
    hamiltonian: NaHamiltonian,
    settings: HoppingSettings,
    extra: dict,
    propagators: NDArray,
    n_loop: int,
) -> tuple[float, NDArray]:
    """Per-trajectory runs: each starts at its own initial time on a sliced series."""
    starts = np.linspace(0, hamiltonian.nsegments - settings.n_steps, settings.n_initial_times)
    sliced = {
        int(t0): NaHamiltonian(
            hamiltonian.energies_ev[int(t0) :], hamiltonian.nac_per_fs[int(t0) :], hamiltonian.dt_fs
        )
        for t0 in starts.round()
    }
    single = replace(settings, n_initial_times=1, n_realisations=1)
    populations = []
    begin = time.perf_counter()
    for index in range(n_loop):
        t0 = int(starts.round()[index % starts.size])
        run = run_surface_hopping(
            sliced[t0], replace(single, seed=index), propagators=propagators[t0:], **extra
        )
        populations.append(run.donor_population)
    return time.perf_counter() - begin, np.mean(populations, axis=0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bands", type=int, default=10)
    parser.add_argument("--md-steps", type=int, default=1000)
    parser.add_argument("--steps", type=int, default=500, help="simulated steps per trajectory")
    parser.add_argument("--loop", type=int, default=100, help="trajectories timed in the loop")
    args = parser.parse_args()
    hamiltonian = synthetic_hamiltonian(args.md_steps, args.bands)
    propagators = segment_propagators(hamiltonian)
    decoherence = dephasing_time_matrix(hamiltonian.energies_ev, hamiltonian.dt_fs)
    top = args.bands - 1
    print(f"NA Hamiltonian: {args.md_steps} MD steps × {args.bands} bands; {args.steps} fs runs")
    for method in ("fssh", "dish"):
        settings = HoppingSettings(
            initial_state=top, final_state=0, n_steps=args.steps, method=method,
            n_initial_times=10, n_realisations=100, seed=1,
        )  # fmt: skip
        extra = {"decoherence_times_fs": decoherence} if method == "dish" else {}
        n_traj = settings.n_initial_times * settings.n_realisations
        vector_s, vector_p = time_vectorised(hamiltonian, settings, extra, propagators)
        loop_s, loop_p = time_loop(hamiltonian, settings, extra, propagators, args.loop)
        loop_full = loop_s / args.loop * n_traj
        print(
            f"{method.upper()}: vectorised {n_traj} trajectories {vector_s:.2f} s | loop "
            f"{args.loop} trajectories {loop_s:.2f} s → {loop_full:.1f} s for {n_traj} | "
            f"speed-up {loop_full / vector_s:.0f}×"
        )
        marks = [args.steps // 4, args.steps // 2, args.steps]
        print(
            f"  P_IS at {marks} fs: vectorised {np.round(vector_p[marks], 3).tolist()}, "
            f"loop {np.round(loop_p[marks], 3).tolist()} (stochastic, {args.loop} trajectories)"
        )


if __name__ == "__main__":
    main()
