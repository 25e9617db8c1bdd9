"""Electron-transfer dynamics by surface hopping on a precomputed NA Hamiltonian.

The electron is propagated coherently along the MD trajectory in the classical-path
approximation (:mod:`heterostructures.propagation`: H = diag(E) − iħ D, energies E_i(t)
in eV, NAC d_ij in fs⁻¹, one exact exponential per sub-step); this module adds the hops.

Hopping (both methods vectorised over all trajectories, one seeded ``numpy`` Generator,
bit-for-bit reproducible):

* FSSH (Tully, J. Chem. Phys. 93, 1061 (1990)): from the active state a to j with
  probability g_aj = δt · max(0, −2 Re(c_j* d_ja c_a)) / |c_a|², flux averaged over the
  step. With no nuclear back-reaction in the CPA there is no kinetic energy to rescale,
  so an upward hop (ΔE > 0) is accepted with the Boltzmann factor exp(−ΔE/k_B T)
  (detailed balance, as in PYXAID; Prezhdo and co-workers).
* DISH (Jaeger, Fischer, Prezhdo, J. Chem. Phys. 137, 22A545 (2012)): coherent
  propagation interrupted by decoherence events. State i decoheres when the time since
  its last event exceeds τ_i, 1/τ_i = Σ_j |c_j|²/τ_ij, with τ_ij the pure-dephasing
  times of each pair (:func:`heterostructures.spectra.dephasing_time_matrix`). At most
  one event per step (a random eligible state, as in Hefei-NAMD): the wavefunction
  collapses onto that state with probability |c_i|² times the Boltzmann factor of the
  implied hop (then the active state becomes i), otherwise state i is projected out.

Populations are the fractions of trajectories on each active state; the mean |c_i|² is
returned too. Trajectories start at ``n_initial_times`` evenly spaced MD steps; with
``allow_recycling`` the series is looped (segment index modulo its length, a jump at
each wrap) to reach times longer than the MD, and the result says so.

Measured on a two-level model (gap 0.05 eV, fluctuating NAC, 300 K, tests): DISH reaches
the Boltzmann ratio within 10 %; FSSH, having no decoherence, keeps ≈ 1.3× the Boltzmann
upper population (the known overcoherence of CPA-FSSH): prefer DISH for long times.

Why not ``mudslide`` (PyPI 0.12.0, source read): ``SurfaceHoppingMD`` propagates nuclei
(positions, velocities, masses, forces), builds the electronic propagator from a model's
derivative-coupling *vectors* contracted with the velocity and accepts hops by
kinetic-energy rescaling; there is no model for a precomputed E(t)/d_ij(t) series, no
Boltzmann acceptance, no DISH, and one Python object per trajectory. Its coherent
integrator served as a cross-check of :mod:`heterostructures.propagation` instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from heterostructures.propagation import DynamicsInputError, NaHamiltonian, segment_propagators
from heterostructures.propagation import propagate_amplitudes as propagate_amplitudes

KB_EV_PER_K = 8.617333262e-5


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

    def __post_init__(self) -> None:
        if not self.temperature_k >= 0:
            raise DynamicsInputError(f"temperature must be ≥ 0 K, got {self.temperature_k}")
        if self.method not in ("fssh", "dish"):
            raise DynamicsInputError(f"method must be 'fssh' or 'dish', got {self.method!r}")
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
    """

    method: str
    times_fs: NDArray
    state_populations: NDArray
    coherent_populations: NDArray
    donor_population: NDArray
    mean_energy_ev: NDArray
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


def _boltzmann_acceptance(gap_ev: NDArray, temperature_k: float) -> NDArray:
    upward = np.maximum(gap_ev, 0.0)
    if temperature_k == 0:
        return (upward == 0).astype(float)
    return np.exp(-upward / (KB_EV_PER_K * temperature_k))


def _fssh_probabilities(
    before: NDArray, after: NDArray, active: NDArray, nac: NDArray, dt_fs: float
) -> NDArray:
    """Cumulative fewest-switches hop probabilities (ntraj × nbands) out of ``active``."""
    rows = np.arange(active.size)
    coupling_into = nac[rows, :, active]
    flux = sum(  # −2 Re(c_j* d_ja c_a), averaged over the step's two ends
        -np.real(coeffs.conj() * coupling_into * coeffs[rows, active][:, None])
        for coeffs in (before, after)
    )
    population = np.maximum(np.abs(before[rows, active]) ** 2, 1e-300)
    probability = dt_fs * np.maximum(flux, 0.0) / population[:, None]
    probability[rows, active] = 0.0
    return np.cumsum(probability, axis=1)


@dataclass
class _Ensemble:
    """Mutable state of all trajectories during one run (amplitudes, active states,
    DISH coherence clocks) and the running ensemble sums that become the result."""

    coefficients: NDArray
    active: NDArray
    elapsed_fs: NDArray
    dt_fs: float
    temperature_k: float
    rng: np.random.Generator

    @classmethod
    def start(cls, ntraj: int, nbands: int, settings: HoppingSettings, dt_fs: float) -> _Ensemble:
        """All trajectories on the initial state, clocks at zero, a fresh seeded RNG."""
        initial = np.full(ntraj, settings.initial_state)
        return cls(
            coefficients=np.eye(nbands, dtype=complex)[initial],
            active=initial,
            elapsed_fs=np.zeros((ntraj, nbands)),
            dt_fs=dt_fs,
            temperature_k=settings.temperature_k,
            rng=np.random.default_rng(settings.seed),
        )

    @property
    def rows(self) -> NDArray:
        return np.arange(self.active.size)

    def fssh_step(self, after: NDArray, nac: NDArray, energies_end: NDArray) -> None:
        cumulative = _fssh_probabilities(self.coefficients, after, self.active, nac, self.dt_fs)
        draws = self.rng.random((self.active.size, 2))
        hops = draws[:, 0] < cumulative[:, -1]
        target = np.argmax(draws[:, 0][:, None] < cumulative, axis=1)
        gap = energies_end[self.rows, target] - energies_end[self.rows, self.active]
        accepted = hops & (draws[:, 1] < _boltzmann_acceptance(gap, self.temperature_k))
        self.active = np.where(accepted, target, self.active)
        self.coefficients = after

    def dish_step(self, after: NDArray, rates_per_fs: NDArray, energies_end: NDArray) -> None:
        rows, populations = self.rows, np.abs(after) ** 2
        self.elapsed_fs += self.dt_fs
        eligible = self.elapsed_fs * (populations @ rates_per_fs) >= 1.0
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


def _decoherence_rates(times_fs: ArrayLike | None, nbands: int) -> NDArray:
    if times_fs is None:
        raise DynamicsInputError(
            "DISH needs decoherence_times_fs (nbands × nbands, fs), e.g. from "
            "heterostructures.spectra.dephasing_time_matrix(energies, dt)"
        )
    times = np.asarray(times_fs, dtype=float)
    if times.shape != (nbands, nbands) or np.any(times <= 0) or np.any(np.isnan(times)):
        raise DynamicsInputError(
            f"decoherence_times_fs must be a {nbands} × {nbands} matrix of positive times (fs)"
        )
    rates = 1.0 / times
    np.fill_diagonal(rates, 0.0)
    return 0.5 * (rates + rates.T)


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

    ``propagators`` from :func:`segment_propagators` may be passed to reuse them across
    runs (they must match ``settings.substeps``).
    """
    donors = _check_states(settings, hamiltonian.nbands)
    is_dish = settings.method == "dish"
    rates = _decoherence_rates(decoherence_times_fs, hamiltonian.nbands) if is_dish else None
    if propagators is None:
        propagators = segment_propagators(hamiltonian, settings.substeps)
    starts = _initial_steps(hamiltonian, settings)
    populations, coherent, energy = _propagate_ensemble(
        hamiltonian, settings, propagators, rates, np.repeat(starts, settings.n_realisations)
    )
    return HoppingResult(
        method=settings.method,
        times_fs=hamiltonian.dt_fs * np.arange(settings.n_steps + 1),
        state_populations=populations,
        coherent_populations=coherent,
        donor_population=populations[:, list(donors)].sum(axis=1),
        mean_energy_ev=energy,
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


def _propagate_ensemble(
    hamiltonian: NaHamiltonian,
    settings: HoppingSettings,
    propagators: NDArray,
    rates_per_fs: NDArray | None,
    segments: NDArray,
) -> tuple[NDArray, NDArray, NDArray]:
    """Hop every trajectory (starting at MD step ``segments``) for ``n_steps`` steps: FSSH
    when ``rates_per_fs`` is None, else DISH. Returns the state populations and mean
    |c_i|² (n_times × nbands) and ⟨E_active − E_final⟩ (n_times, eV)."""
    ntraj, nbands, ntimes = segments.size, hamiltonian.nbands, settings.n_steps + 1
    ensemble = _Ensemble.start(ntraj, nbands, settings, hamiltonian.dt_fs)
    populations, coherent, energy = np.empty((ntimes, nbands)), np.empty((ntimes, nbands)), []
    energies = hamiltonian.energies_ev[segments % hamiltonian.nsegments]
    for step in range(ntimes):
        if step > 0:
            segment = (segments + step - 1) % hamiltonian.nsegments
            after = np.einsum("tij,tj->ti", propagators[segment], ensemble.coefficients)
            energies = hamiltonian.energies_ev[segment + 1]
            if rates_per_fs is None:
                ensemble.fssh_step(after, hamiltonian.nac_per_fs[segment], energies)
            else:
                ensemble.dish_step(after, rates_per_fs, energies)
        populations[step] = np.bincount(ensemble.active, minlength=nbands) / ntraj
        coherent[step] = np.mean(np.abs(ensemble.coefficients) ** 2, axis=0)
        active_energy = energies[ensemble.rows, ensemble.active]
        energy.append(float(np.mean(active_energy - energies[:, settings.final_state])))
    return populations, coherent, np.asarray(energy)
