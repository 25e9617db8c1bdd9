"""Domain-projected populations and the donor/acceptor character of the IS and FS.

Why: P_IS(t), the population of one adiabatic state, counts relaxation among several
donor states as transfer. The transferred fraction is the population of the *donor
domain*: P_D(t) = Σ_i P_i(t) w_i^D(t), with w_i^D(t) the share of state i on domain D at
the snapshot the trajectory is at (:mod:`heterostructures.electronic.domain_weights`, per snapshot
and tracked state label).

Surface hopping (:mod:`heterostructures.dynamics.surface_hopping`) starts trajectories at several MD
steps t₀, and each start walks its own way along the snapshot series (step 0 at snapshot
t₀ mod n_seg, step s ≥ 1 at ((t₀ + s − 1) mod n_seg) + 1 with n_seg = n_snapshots − 1
segments, looped when recycled). The projection is therefore done per start, with that
start's populations and the weights along its walk, and only then averaged:
P_D(t) = (1/n₀) Σ_t₀ Σ_i P_i^t₀(t) w_i^D(snapshot(t₀, t)). Averaging the weights over the
starts first would drop the correlation between where a trajectory started and which
state it occupies; populations already averaged over several starts are refused.

The mapping of IS and FS to the domains holds at a snapshot when the IS has more than
``threshold`` (0.5) of its weight on the donor and the FS on the acceptor.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

CHARACTER_THRESHOLD = 0.5


class DomainPopulationError(ValueError):
    """Weights, populations and states do not fit together."""


@dataclass(frozen=True)
class CharacterCheck:
    """Fractions of snapshots where the IS keeps donor and the FS acceptor character."""

    initial_on_donor: float
    final_on_acceptor: float
    held: float
    """Fraction of snapshots where both hold."""
    n_snapshots: int
    threshold: float
    donor: str
    acceptor: str

    @property
    def broken(self) -> float:
        """Fraction of snapshots where the IS or the FS lost its character."""
        return 1.0 - self.held

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON with the broken fraction."""
        return {**asdict(self), "broken": self.broken}


def _check_weights(weights: NDArray, domains: list[str], *names: str) -> list[int]:
    if weights.ndim != 3 or weights.shape[2] != len(domains):
        raise DomainPopulationError(
            f"weights must be n_snapshots × n_states × {len(domains)} domains, got {weights.shape}"
        )
    missing = [name for name in names if name not in domains]
    if missing:
        raise DomainPopulationError(f"domains {missing} not among the labelled {domains}")
    return [domains.index(name) for name in names]


def state_character(
    weights: ArrayLike,
    domains: list[str],
    initial: int,
    final: int,
    donor: str,
    acceptor: str,
    threshold: float = CHARACTER_THRESHOLD,
) -> CharacterCheck:
    """Check IS (window index ``initial``) on ``donor`` and FS on ``acceptor`` per snapshot."""
    values = np.asarray(weights, dtype=float)
    donor_index, acceptor_index = _check_weights(values, domains, donor, acceptor)
    initial_ok = values[:, initial, donor_index] > threshold
    final_ok = values[:, final, acceptor_index] > threshold
    return CharacterCheck(
        initial_on_donor=float(initial_ok.mean()),
        final_on_acceptor=float(final_ok.mean()),
        held=float((initial_ok & final_ok).mean()),
        n_snapshots=int(values.shape[0]),
        threshold=threshold,
        donor=donor,
        acceptor=acceptor,
    )


def trajectory_snapshots(initial_steps: ArrayLike, n_steps: int, n_snapshots: int) -> NDArray:
    """Snapshot index (n_starts × n_steps+1) of each start at each hopping step."""
    starts = np.asarray(initial_steps, dtype=int)[:, None]
    n_segments = n_snapshots - 1
    if n_segments < 1:
        raise DomainPopulationError(f"need ≥ 2 snapshots, got {n_snapshots}")
    steps = np.arange(n_steps + 1)[None, :]
    later = (starts + steps - 1) % n_segments + 1
    return np.where(steps == 0, starts % n_segments, later)


def domain_population_by_start(
    state_populations_by_start: ArrayLike,
    weights: ArrayLike,
    domains: list[str],
    domain: str,
    initial_steps: ArrayLike,
) -> NDArray:
    """P_D(t) of each start (n_times × n_starts): Σ_i P_i^t₀(t) w_i^D(snapshot(t₀, t)).

    ``state_populations_by_start`` (n_times × n_starts × n_states, e.g.
    ``HoppingResult.state_populations_by_start``), ``weights`` (n_snapshots × n_states ×
    n_domains), ``initial_steps`` the MD step of each start (``HoppingResult.initial_steps``).
    Each column is exact for its start: the τ bootstrap resamples these columns.
    """
    populations = np.asarray(state_populations_by_start, dtype=float)
    values = np.asarray(weights, dtype=float)
    starts = np.asarray(initial_steps, dtype=int).reshape(-1)
    (index,) = _check_weights(values, domains, domain)
    if populations.ndim != 3 or populations.shape[1:] != (starts.size, values.shape[1]):
        raise DomainPopulationError(
            f"populations by start must be n_times × {starts.size} starts × "
            f"{values.shape[1]} states (weights {values.shape}), got {populations.shape}"
        )
    snapshots = trajectory_snapshots(starts, populations.shape[0] - 1, values.shape[0])
    along_walk = values[snapshots.T, :, index]  # n_times × n_starts × n_states
    return np.asarray((populations * along_walk).sum(axis=2))


def domain_population(
    state_populations: ArrayLike,
    weights: ArrayLike,
    domains: list[str],
    domain: str,
    initial_steps: ArrayLike,
) -> NDArray:
    """P_D(t) = Σ_i P_i(t) w_i^D(t) (n_times): the population of ``domain``, exact.

    ``state_populations``: n_times × n_states for a single start (``initial_steps`` one MD
    step), or n_times × n_starts × n_states, one slice per start (then the mean of
    :func:`domain_population_by_start` over the starts). Populations averaged over several
    starts cannot be projected exactly and are refused.
    """
    populations = np.asarray(state_populations, dtype=float)
    starts = np.asarray(initial_steps, dtype=int).reshape(-1)
    if populations.ndim == 2:
        if starts.size != 1:
            raise DomainPopulationError(
                f"populations averaged over {starts.size} starts cannot be projected on the "
                "domains exactly: pass the populations per start (n_times × n_starts × "
                "n_states, HoppingResult.state_populations_by_start)"
            )
        populations = populations[:, None, :]
    by_start = domain_population_by_start(populations, weights, domains, domain, starts)
    return np.asarray(by_start.mean(axis=1))


def normalised_to_start(population_by_start: np.ndarray) -> np.ndarray:
    """Each start's population divided by its value at t = 0 (n_times × n_starts).

    Why: an IS only partly on the donor starts at P_D(0) = w_IS^D < 1; the τ_ET fit
    P(t) = exp(−t/τ) has amplitude 1, so an unnormalised constant P_D = 0.8 (no transfer
    at all) would be fitted as a decay. Normalising per start makes τ_ET the decay of
    what was on the donor at t = 0. A start with no donor weight cannot be normalised.
    """
    populations = np.asarray(population_by_start, dtype=float)
    start = populations[0]
    if np.any(start <= 0.0):
        raise DomainPopulationError(
            "a hopping start has no weight on the donor domain at t = 0: the IS is not on "
            "the donor (check the site labels or pick another initial state)"
        )
    return populations / start
