"""Electron-transfer dynamics by surface hopping on a precomputed NA Hamiltonian.

The electron is propagated coherently along the MD trajectory in the classical-path
approximation (:mod:`heterostructures.dynamics.propagation`: H = diag(E) − iħ D, energies E_i(t)
in eV, NAC d_ij in fs⁻¹, one exact exponential per sub-step); this module adds the hops.

Hopping (both methods vectorised over all trajectories, one seeded ``numpy`` Generator,
bit-for-bit reproducible):

* FSSH (Tully, J. Chem. Phys. 93, 1061 (1990)): once per MD step, from the active state
  a to j with probability g_aj = Σ_s δt · max(0, b_ja(s)) / |c_a(t)|², the flux
  b_ja = −2 Re(c_j* d_ja c_a) integrated over the ``substeps`` electronic sub-steps δt
  (trapezoid on each) and divided by the population at the start of the step (Tully's
  integrated form: in a two-state case with one-way flux the fraction of trajectories
  on a then follows |c_a|² exactly; one flux evaluation per MD step does not). With
  no nuclear back-reaction in the CPA there is no kinetic energy to rescale, so an
  upward hop (ΔE > 0) is accepted with the Boltzmann factor exp(−ΔE/k_B T) (detailed
  balance, as in PYXAID; Prezhdo and co-workers).
* DISH (Jaeger, Fischer, Prezhdo, J. Chem. Phys. 137, 22A545 (2012)): coherent
  propagation interrupted by decoherence events. State i decoheres when the time since
  its last event exceeds τ_i, 1/τ_i = Σ_j |c_j|²/τ_ij, with τ_ij the pure-dephasing
  times of each pair (:func:`heterostructures.dynamics.dephasing.dephasing_time_matrix`). At most
  one event per step (a random eligible state, as in Hefei-NAMD): the wavefunction
  collapses onto that state with probability |c_i|² times the Boltzmann factor of the
  implied hop (then the active state becomes i), otherwise state i is projected out.
  ``dish_events="deterministic"`` (PYXAID ``check_decoherence``): state i is eligible
  once its clock reaches τ_i. ``"stochastic"`` (Libra ``decoherence_event`` option 1,
  "as intended by the original DISH paper"): eligible when its clock exceeds a waiting
  time drawn afresh each step from the exponential distribution of mean τ_i.

Populations are the fractions of trajectories on each active state; the mean |c_i|² is
returned too, and P_IS(t) and E(t) of each initial time (the units the τ bootstrap of
:func:`heterostructures.dynamics.fits.fit_transfer_and_relaxation` resamples). Trajectories
start at ``n_initial_times`` evenly spaced MD steps; with ``allow_recycling`` the series
is looped (segment index modulo its length, a jump at each wrap) to reach times longer
than the MD, and the result says so.

Measured on a two-level model (gap 0.05 eV, fluctuating NAC, 300 K, tests): DISH reaches
the Boltzmann ratio within 10 %; FSSH, having no decoherence, keeps ≈ 1.3× the Boltzmann
upper population (the known overcoherence of CPA-FSSH): prefer DISH for long times.

Why not ``mudslide`` (PyPI 0.12.0, source read): it propagates nuclei and accepts hops
by kinetic-energy rescaling; no precomputed E(t)/d_ij(t) series, no Boltzmann
acceptance, no DISH. Its coherent integrator cross-checks :mod:`.propagation` instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from heterostructures.dynamics.hopping_steps import Ensemble, decoherence_rates
from heterostructures.dynamics.propagation import (
    DynamicsInputError,
    NaHamiltonian,
    segment_propagators,
    substep_propagators,
)
from heterostructures.dynamics.propagation import propagate_amplitudes as propagate_amplitudes
from heterostructures.units import BOLTZMANN_EV_PER_K


@dataclass(frozen=True)
class HoppingSettings:
    """What to simulate. States are band indices into the Hamiltonian's band window.

    ``initial_state``: where the electron starts (the IS); ``final_state``: the FS, whose
    energy is the zero of E(t); ``donor_states``: the states counted in P_IS(t) (default:
    the initial state only). ``n_steps``: simulated MD steps per trajectory;
    ``n_initial_times`` × ``n_realisations`` trajectories in all. T in K (T = 0 forbids
    upward hops).
    """

    initial_state: int
    final_state: int
    n_steps: int
    donor_states: tuple[int, ...] = ()
    method: Literal["fssh", "dish"] = "fssh"
    temperature_k: float = 300.0
    n_initial_times: int = 10
    n_realisations: int = 100
    seed: int = 0
    allow_recycling: bool = False
    substeps: int = 1
    dish_events: Literal["deterministic", "stochastic"] = "deterministic"

    def __post_init__(self) -> None:
        if not self.temperature_k >= 0:
            raise DynamicsInputError(f"temperature must be ≥ 0 K, got {self.temperature_k}")
        if self.method not in ("fssh", "dish"):
            raise DynamicsInputError(f"method must be 'fssh' or 'dish', got {self.method!r}")
        if self.dish_events not in ("deterministic", "stochastic"):
            raise DynamicsInputError(
                f"dish_events must be 'deterministic' or 'stochastic', got {self.dish_events!r}"
            )
        for name in ("n_steps", "n_initial_times", "n_realisations", "substeps"):
            if getattr(self, name) < 1:
                raise DynamicsInputError(f"{name} must be ≥ 1, got {getattr(self, name)}")


@dataclass(frozen=True)
class HoppingResult:
    """Ensemble averages over all trajectories at ``times_fs`` (0 … n_steps·dt).

    ``state_populations`` (n_times × nbands): fraction of trajectories on each active
    state; ``coherent_populations``: mean |c_i|²; ``donor_population``: P_IS(t), summed
    over the donor states; ``mean_energy_ev``: ⟨E_active − E_final⟩ (eV).
    ``initial_steps``: MD step of each initial time. ``recycled``: the Hamiltonian series
    was looped to cover the simulated time (``note`` says how often).
    ``donor_population_by_start``, ``energy_by_start_ev`` (n_times × n_initial_times) and
    ``state_populations_by_start`` (n_times × n_initial_times × nbands): the same curves
    per initial time, each averaged over its realisations.
    """

    method: str
    times_fs: NDArray
    state_populations: NDArray
    coherent_populations: NDArray
    donor_population: NDArray
    mean_energy_ev: NDArray
    donor_population_by_start: NDArray
    energy_by_start_ev: NDArray
    state_populations_by_start: NDArray
    initial_steps: NDArray
    n_realisations: int
    temperature_k: float
    seed: int
    recycled: bool
    note: str

    @property
    def n_trajectories(self) -> int:
        return int(self.initial_steps.size * self.n_realisations)


def _initial_steps(hamiltonian: NaHamiltonian, settings: HoppingSettings) -> NDArray:
    nseg, nsteps, ninit = hamiltonian.nsegments, settings.n_steps, settings.n_initial_times
    if settings.allow_recycling:
        return np.linspace(0, nseg, ninit, endpoint=False).astype(int)
    if nseg - nsteps + 1 < ninit:
        raise DynamicsInputError(
            f"{ninit} initial times × {nsteps} steps do not fit in {nseg} Hamiltonian "
            f"segments ({nseg * hamiltonian.dt_fs:g} fs): simulate ≤ {nseg - ninit + 1} "
            "steps, use fewer initial times, or set allow_recycling=True"
        )
    return np.linspace(0, nseg - nsteps, ninit).round().astype(int)


def boltzmann_energy_ev(energies_ev: ArrayLike, final_state: int, temperature_k: float) -> float:
    """Detailed-balance E∞ (eV): Σ ε_i e^(−ε_i/k_BT) / Σ e^(−ε_i/k_BT), ε_i the time-mean
    energy of state i relative to the final state — where E(t) levels off at T."""
    mean = np.asarray(energies_ev, dtype=float).mean(axis=0)
    relative = mean - mean[final_state]
    if temperature_k == 0:
        return float(relative.min())
    weights = np.exp(-(relative - relative.min()) / (BOLTZMANN_EV_PER_K * temperature_k))
    return float(np.sum(relative * weights) / np.sum(weights))


def _check_states(settings: HoppingSettings, nbands: int) -> tuple[int, ...]:
    donors = settings.donor_states or (settings.initial_state,)
    for state in (settings.initial_state, settings.final_state, *donors):
        if not 0 <= state < nbands:
            raise DynamicsInputError(
                f"state index {state} is outside the band window 0..{nbands - 1}"
            )
    return donors


def run_surface_hopping(
    hamiltonian: NaHamiltonian,
    settings: HoppingSettings,
    *,
    decoherence_times_fs: ArrayLike | None = None,
    propagators: NDArray | None = None,
) -> HoppingResult:
    """Run FSSH or DISH for all initial times × realisations at once (see module doc).

    ``propagators`` may be passed to reuse them across runs (matching
    ``settings.substeps``): :func:`substep_propagators` for FSSH (segment propagators
    are taken as one sub-step), :func:`segment_propagators` for DISH.
    """
    donors = _check_states(settings, hamiltonian.nbands)
    is_dish = settings.method == "dish"
    rates = decoherence_rates(decoherence_times_fs, hamiltonian.nbands) if is_dish else None
    if propagators is None:
        propagators = (
            segment_propagators(hamiltonian, settings.substeps)
            if is_dish
            else substep_propagators(hamiltonian, settings.substeps)
        )
    if not is_dish and propagators.ndim == 3:
        propagators = propagators[:, None]
    starts = _initial_steps(hamiltonian, settings)
    curves = _propagate_ensemble(
        hamiltonian, settings, propagators, rates, np.repeat(starts, settings.n_realisations)
    )
    return HoppingResult(
        method=settings.method,
        times_fs=hamiltonian.dt_fs * np.arange(settings.n_steps + 1),
        state_populations=curves.populations,
        coherent_populations=curves.coherent,
        donor_population=curves.populations[:, list(donors)].sum(axis=1),
        mean_energy_ev=curves.energy_by_start.mean(axis=1),
        donor_population_by_start=curves.donor_by_start,
        energy_by_start_ev=curves.energy_by_start,
        state_populations_by_start=curves.by_start,
        initial_steps=starts,
        n_realisations=settings.n_realisations,
        temperature_k=settings.temperature_k,
        seed=settings.seed,
        recycled=int(starts.max()) + settings.n_steps > hamiltonian.nsegments,
        note=_recycling_note(hamiltonian, int(starts.max()) + settings.n_steps),
    )


def _recycling_note(hamiltonian: NaHamiltonian, furthest_segment: int) -> str:
    if furthest_segment <= hamiltonian.nsegments:
        return "no recycling: every trajectory stays within the MD trajectory"
    return (
        f"Hamiltonian series of {hamiltonian.nsegments} segments "
        f"({hamiltonian.nsegments * hamiltonian.dt_fs:g} fs) recycled: trajectories run up "
        f"to {furthest_segment / hamiltonian.nsegments:.2f} times its length"
    )


@dataclass(frozen=True)
class _Curves:
    """Ensemble curves of one run: populations and mean |c|² (n_times × nbands), P_IS and
    E − E_final per initial time (n_times × n_initial_times), populations per initial
    time (n_times × n_initial_times × nbands)."""

    populations: NDArray
    coherent: NDArray
    donor_by_start: NDArray
    energy_by_start: NDArray
    by_start: NDArray


def _propagate_ensemble(
    hamiltonian: NaHamiltonian,
    settings: HoppingSettings,
    propagators: NDArray,
    rates_per_fs: NDArray | None,
    segments: NDArray,
) -> _Curves:
    """Hop every trajectory (starting at MD step ``segments``) for ``n_steps`` steps: FSSH
    (sub-step propagators) when ``rates_per_fs`` is None, else DISH (segment ones)."""
    ntraj, nbands, ntimes = segments.size, hamiltonian.nbands, settings.n_steps + 1
    groups = (ntraj // settings.n_realisations, settings.n_realisations)
    is_donor = np.isin(np.arange(nbands), settings.donor_states or (settings.initial_state,))
    ensemble = Ensemble.start(
        ntraj,
        nbands,
        settings.initial_state,
        hamiltonian.dt_fs,
        settings.temperature_k,
        settings.seed,
    )
    populations, coherent = np.empty((ntimes, nbands)), np.empty((ntimes, nbands))
    energy, by_start = np.empty((ntimes, groups[0])), np.empty((ntimes, groups[0], nbands))
    energies = hamiltonian.energies_ev[segments % hamiltonian.nsegments]
    for step in range(ntimes):
        if step > 0:
            segment = (segments + step - 1) % hamiltonian.nsegments
            energies = hamiltonian.energies_ev[segment + 1]
            if rates_per_fs is None:
                substeps = [ensemble.coefficients]
                for sub in range(propagators.shape[1]):
                    substeps.append(
                        np.einsum("tij,tj->ti", propagators[segment, sub], substeps[-1])
                    )
                ensemble.fssh_step(substeps, hamiltonian.nac_per_fs[segment], energies)
            else:
                after = np.einsum("tij,tj->ti", propagators[segment], ensemble.coefficients)
                stochastic = settings.dish_events == "stochastic"
                ensemble.dish_step(after, rates_per_fs, energies, stochastic)
        populations[step] = np.bincount(ensemble.active, minlength=nbands) / ntraj
        coherent[step] = np.mean(np.abs(ensemble.coefficients) ** 2, axis=0)
        active_energy = energies[ensemble.rows, ensemble.active]
        relative = active_energy - energies[:, settings.final_state]
        energy[step] = relative.reshape(groups).mean(axis=1)
        by_start[step] = np.eye(nbands)[ensemble.active].reshape(*groups, nbands).mean(axis=1)
    return _Curves(populations, coherent, by_start[:, :, is_donor].sum(axis=2), energy, by_start)
