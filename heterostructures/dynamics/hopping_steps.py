"""One MD step of hops for a whole ensemble of trajectories: FSSH and DISH kernels.

The mutable state of all trajectories of a surface-hopping run (amplitudes, active
states, DISH coherence clocks, one seeded ``numpy`` Generator) and the two hop rules
applied once per MD step, vectorised over trajectories; the methods and their
references are described in :mod:`heterostructures.dynamics.surface_hopping`, which
drives them. Energies in eV, times in fs, NAC in fs⁻¹, temperatures in K.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from heterostructures.dynamics.propagation import DynamicsInputError
from heterostructures.units import BOLTZMANN_EV_PER_K


def _boltzmann_acceptance(gap_ev: NDArray, temperature_k: float) -> NDArray:
    upward = np.maximum(gap_ev, 0.0)
    if temperature_k == 0:
        return (upward == 0).astype(float)
    return np.exp(-upward / (BOLTZMANN_EV_PER_K * temperature_k))


def _fssh_flux(coefficients: NDArray, active: NDArray, nac: NDArray) -> NDArray:
    """Flux b_ja = −2 Re(c_j* d_ja c_a) (fs⁻¹) out of ``active`` (ntraj × nbands)."""
    rows = np.arange(active.size)
    coupling_into = nac[rows, :, active]
    return np.asarray(
        -2.0 * np.real(coefficients.conj() * coupling_into * coefficients[rows, active][:, None])
    )


def _fssh_probabilities(
    substep_coefficients: list[NDArray], active: NDArray, nac: NDArray, dt_sub_fs: float
) -> NDArray:
    """Cumulative hop probabilities (ntraj × nbands) out of ``active`` over one MD step.

    ``substep_coefficients``: c at the sub-step boundaries t, t+δt, …, t+dt. Each
    sub-step adds δt × max(0, mean flux of its two ends); the sum is divided by the
    population of the active state at t.
    """
    rows = np.arange(active.size)
    fluxes = [_fssh_flux(c, active, nac) for c in substep_coefficients]
    integral = sum(
        dt_sub_fs * np.maximum(0.5 * (start + end), 0.0)
        for start, end in itertools.pairwise(fluxes)
    )
    population = np.maximum(np.abs(substep_coefficients[0][rows, active]) ** 2, 1e-300)
    probability = np.asarray(integral) / population[:, None]
    probability[rows, active] = 0.0
    return np.cumsum(probability, axis=1)


@dataclass
class Ensemble:
    """Mutable state of all trajectories during one run (amplitudes, active states,
    DISH coherence clocks) and the running ensemble sums that become the result."""

    coefficients: NDArray
    active: NDArray
    elapsed_fs: NDArray
    dt_fs: float
    temperature_k: float
    rng: np.random.Generator

    @classmethod
    def start(
        cls, ntraj: int, nbands: int, initial_state: int, dt_fs: float, temperature_k: float,
        seed: int | None,
    ) -> Ensemble:  # fmt: skip
        """All trajectories on ``initial_state``, clocks at zero, a fresh seeded RNG."""
        initial = np.full(ntraj, initial_state)
        return cls(
            coefficients=np.eye(nbands, dtype=complex)[initial],
            active=initial,
            elapsed_fs=np.zeros((ntraj, nbands)),
            dt_fs=dt_fs,
            temperature_k=temperature_k,
            rng=np.random.default_rng(seed),
        )

    @property
    def rows(self) -> NDArray:
        return np.arange(self.active.size)

    def fssh_step(self, substeps: list[NDArray], nac: NDArray, energies_end: NDArray) -> None:
        """Hop once with the flux integrated over ``substeps`` (c at t, …, t + dt)."""
        dt_sub = self.dt_fs / (len(substeps) - 1)
        cumulative = _fssh_probabilities(substeps, self.active, nac, dt_sub)
        draws = self.rng.random((self.active.size, 2))
        hops = draws[:, 0] < cumulative[:, -1]
        target = np.argmax(draws[:, 0][:, None] < cumulative, axis=1)
        gap = energies_end[self.rows, target] - energies_end[self.rows, self.active]
        accepted = hops & (draws[:, 1] < _boltzmann_acceptance(gap, self.temperature_k))
        self.active = np.where(accepted, target, self.active)
        self.coefficients = substeps[-1]

    def dish_step(
        self, after: NDArray, rates_per_fs: NDArray, energies_end: NDArray, stochastic: bool
    ) -> None:
        rows, populations = self.rows, np.abs(after) ** 2
        self.elapsed_fs += self.dt_fs
        eligible = decoherence_eligible(
            self.elapsed_fs, populations @ rates_per_fs, self.rng if stochastic else None
        )
        which = np.argmax(self.rng.random(after.shape) * eligible, axis=1)
        event = eligible.any(axis=1)
        self.elapsed_fs[rows[event], which[event]] = 0.0
        gap = energies_end[rows, which] - energies_end[rows, self.active]
        collapse_probability = populations[rows, which] * _boltzmann_acceptance(
            gap, self.temperature_k
        )
        collapse = event & (self.rng.random(rows.size) < collapse_probability)
        project_out = event & ~collapse
        new = after.copy()
        new[rows[project_out], which[project_out]] = 0.0
        norms = np.linalg.norm(new, axis=1)
        new /= np.where(norms > 0, norms, 1.0)[:, None]
        emptied = project_out & (norms < 1e-12)  # nothing left: fall back on the active state
        collapsing = collapse | emptied
        new[collapsing] = 0.0
        new[rows[collapsing], np.where(emptied, self.active, which)[collapsing]] = 1.0
        self.active = np.where(collapse, which, self.active)
        self.coefficients = new


def decoherence_eligible(
    elapsed_fs: NDArray, rates_per_fs: NDArray, rng: np.random.Generator | None
) -> NDArray:
    """States whose coherence clock (fs) reached τ_i = 1/rate_i (``rng`` None) or a fresh
    exponential waiting time of mean τ_i (Libra's stochastic option)."""
    threshold = 1.0 if rng is None else rng.exponential(1.0, size=elapsed_fs.shape)
    return np.asarray(elapsed_fs * rates_per_fs >= threshold)


def decoherence_rates(times_fs: ArrayLike | None, nbands: int) -> NDArray:
    if times_fs is None:
        raise DynamicsInputError(
            "DISH needs decoherence_times_fs (nbands × nbands, fs), e.g. from "
            "heterostructures.dynamics.dephasing.dephasing_time_matrix(energies, dt)"
        )
    times = np.asarray(times_fs, dtype=float)
    if times.shape != (nbands, nbands) or np.any(times <= 0) or np.any(np.isnan(times)):
        raise DynamicsInputError(
            f"decoherence_times_fs must be a {nbands} × {nbands} matrix of positive times (fs)"
        )
    rates = 1.0 / times
    np.fill_diagonal(rates, 0.0)
    return 0.5 * (rates + rates.T)
