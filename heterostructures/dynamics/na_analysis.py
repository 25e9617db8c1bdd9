"""The NA analysis of one NA Hamiltonian as stored summaries: gap spectrum and hopping run.

What ``janus.na_analysis`` records, computed from plain arrays: the IS–FS gap, its
spectral density with peaks (cm⁻¹) and its pure dephasing (the paper's Fig. 4c), and
surface-hopping populations with the τ_ET / τ_relax fits (Fig. 4d). Energies in eV,
times in fs, NAC in fs⁻¹. The summaries are JSON-safe (``inf`` written as None); the AiiDA
layer only turns nodes into these arrays and the results into nodes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from heterostructures.dynamics.dephasing import (
    CONVENTIONS,
    PureDephasing,
    dephasing_time_matrix,
    pure_dephasing,
)
from heterostructures.dynamics.fits import fit_transfer_and_relaxation
from heterostructures.dynamics.spectra import (
    GapSeries,
    SpectralDensity,
    find_spectral_peaks,
    gap_fluctuation,
    spectral_density,
)
from heterostructures.dynamics.surface_hopping import (
    HoppingResult,
    HoppingSettings,
    NaHamiltonian,
    boltzmann_energy_ev,
    run_surface_hopping,
)
from heterostructures.electronic.domain_populations import (
    domain_population_by_start,
    normalised_to_start,
)
from heterostructures.storable import json_safe

SPECTRAL_CONVENTIONS = {
    "power": "periodogram (dt/N)|FT δE|^2 = FT of the biased un-normalised ACF",
    "acf": "FT of the lag-windowed un-normalised ACF",
}


def tracked_domain_weights(weights: np.ndarray, band_order: np.ndarray) -> np.ndarray:
    """Per-snapshot domain weights (n_snapshots × n_b × n_domains, band order) reordered to
    the tracked state labels of :func:`heterostructures.dynamics.nac.couplings_from_overlaps`."""
    return np.asarray(np.take_along_axis(np.asarray(weights), band_order[:, :, None], axis=1))


@dataclass(frozen=True)
class GapSpectrum:
    """Gap series, spectral density and pure dephasing of one IS/FS pair, with the summary."""

    gap: GapSeries
    density: SpectralDensity
    dephasing: PureDephasing
    summary: dict[str, Any]


def analyse_gap_spectrum(
    energies_ev: np.ndarray, dt_fs: float, initial: int, final: int, options: dict[str, Any]
) -> GapSpectrum:
    """IS–FS gap, its spectral density (peaks in cm⁻¹) and pure dephasing (Fig. 4c).

    ``options``: ``required_resolution_cm``, ``prominence_fraction``, ``max_frequency_cm``,
    ``spectral_method`` (``power``, default, or ``acf``), ``dephasing_convention``
    (``pyxaid``, ``libra``, ``gaussian_sigma``) and ``n_bootstrap``. A spectrum too coarse
    for the requested resolution is flagged ``resolved: False``, not rejected.
    """
    gap = gap_fluctuation(energies_ev, dt_fs, initial, final)
    density = spectral_density(
        gap.fluctuation_ev,
        dt_fs,
        method=options.get("spectral_method", "power"),
        required_resolution_cm=options["required_resolution_cm"],
        on_unresolved="flag",
    )
    peaks = find_spectral_peaks(
        density,
        prominence_fraction=options["prominence_fraction"],
        max_frequency_cm=options.get("max_frequency_cm"),
    )
    convention = options.get("dephasing_convention", "pyxaid")
    dephasing = pure_dephasing(
        gap.fluctuation_ev,
        dt_fs,
        convention=convention,
        n_bootstrap=options.get("n_bootstrap", 200),
    )
    summary = {
        "mean_gap_ev": gap.mean_gap_ev,
        "gap_std_ev": float(gap.fluctuation_ev.std()),
        "peaks_cm": [peak.frequency_cm for peak in peaks],
        "peak_intensities": [peak.intensity for peak in peaks],
        "resolution_cm": density.resolution_cm,
        "resolved": density.resolved,
        "resolution_note": density.resolution_note,
        "trajectory_length_fs": density.trajectory_length_fs,
        "spectral_convention": SPECTRAL_CONVENTIONS[density.method],
        "lag_window": density.lag_window,
        "dephasing": dephasing.fit.as_dict(),
        "dephasing_convention": convention,
        "dephasing_convention_note": CONVENTIONS[convention],
        "dephasing_tau_by_convention_fs": dephasing.tau_by_convention_fs,
        "dephasing_short_time_tau_fs": dephasing.short_time_tau_fs,
    }
    return GapSpectrum(gap, density, dephasing, json_safe(summary))


@dataclass(frozen=True)
class DomainWeights:
    """Tracked domain weights of an NA Hamiltonian (n_snapshots × n_b × n_domains)."""

    weights: np.ndarray
    domains: list[str]


@dataclass(frozen=True)
class HoppingRun:
    """A surface-hopping run, the population τ_ET was fitted to (mean over initial times)
    with its standard error (:func:`standard_error_over_starts`), and the summary."""

    result: HoppingResult
    transfer_population: np.ndarray
    transfer_population_sem: np.ndarray
    summary: dict[str, Any]


def standard_error_over_starts(by_start: np.ndarray) -> np.ndarray:
    """Standard error of the mean curve (n_times), from its curves per initial time
    (n_times × n_initial_times): s/√n, s the sample standard deviation (ddof 1).

    Why the initial times: trajectories started at one MD step share its stretch of the
    NA Hamiltonian, so they are not independent draws; the starts are the units the τ_ET
    bootstrap resamples too (:func:`heterostructures.dynamics.fits.fit_transfer_and_relaxation`).
    NaN everywhere with a single initial time (no spread to measure).
    """
    curves = np.asarray(by_start, dtype=float)
    if curves.ndim != 2:
        raise ValueError(f"curves per start must be n_times × n_starts, got {curves.shape}")
    n_starts = curves.shape[1]
    if n_starts < 2:
        return np.full(curves.shape[0], np.nan)
    return np.asarray(curves.std(axis=1, ddof=1) / np.sqrt(n_starts))


def hopping_settings(
    states: dict[str, Any], options: dict[str, Any], dt_fs: float
) -> HoppingSettings:
    """:class:`HoppingSettings` from the stored ``states`` and ``settings`` dictionaries."""
    return HoppingSettings(
        initial_state=states["initial"],
        final_state=states["final"],
        donor_states=tuple(states["donors"]),
        n_steps=max(1, round(options["simulation_time_fs"] / dt_fs)),
        method=options["method"],
        temperature_k=options["temperature_k"],
        n_initial_times=options["n_initial_times"],
        n_realisations=options["n_realisations"],
        seed=options["seed"],
        allow_recycling=options["allow_recycling"],
        substeps=options["substeps"],
        dish_events=options.get("dish_events", "deterministic"),
    )


def relaxation_asymptote(
    options: dict[str, Any], energies_ev: np.ndarray, hopping: HoppingSettings
) -> tuple[str, float | None]:
    """E∞ (eV) for the E(t) fit: fitted (None), detailed balance, or the paper's 0."""
    mode = options.get("relaxation_asymptote", "free")
    if mode == "boltzmann":
        return mode, boltzmann_energy_ev(energies_ev, hopping.final_state, hopping.temperature_k)
    return mode, (0.0 if mode == "zero" else None)


def transfer_by_start(
    result: HoppingResult, donor: str | None, weights: DomainWeights | None
) -> tuple[np.ndarray, str, str | None]:
    """What τ_ET is fitted to, per initial time (n_times × n_initial_times: the units the
    τ bootstrap resamples), its label and the donor domain (None for P_IS).

    The donor-domain population P_D(t) = Σ_i P_i(t) w_i^D(t), each start projected along
    its own walk through the snapshots (exact), when the NA Hamiltonian has domain
    weights and ``donor`` names a domain; else P_IS(t) of the donor states (relaxation
    inside the donor then counts as transfer).
    """
    if donor is None or weights is None:
        label = "P_IS(t) of the donor states (no domain weights)"
        return result.donor_population_by_start, label, None
    by_start = domain_population_by_start(
        result.state_populations_by_start,
        weights.weights,
        weights.domains,
        donor,
        result.initial_steps,
    )
    label = f"P_{donor}(t)/P_{donor}(0), P_{donor} = sum_i P_i(t) w_i^{donor}(t) (domain-projected)"
    return normalised_to_start(by_start), label, donor


def analyse_hopping(
    hamiltonian: NaHamiltonian,
    states: dict[str, Any],
    options: dict[str, Any],
    weights: DomainWeights | None = None,
) -> HoppingRun:
    """Populations and E(t) by FSSH/DISH in the classical-path approximation, τ fits (Fig. 4d).

    ``states``: ``initial``, ``final``, ``donors`` (0-based window indices), optional
    ``donor_domain`` (τ_ET then fitted to the domain-projected population), ``character``
    and ``carrier_window`` (copied to the summary). ``options``: the
    :func:`hopping_settings` keys, ``dephasing_convention`` (DISH decoherence times),
    ``relaxation_asymptote`` (``free``, ``boltzmann`` or ``zero``) and ``n_bootstrap``.
    """
    energies = hamiltonian.energies_ev
    hopping = hopping_settings(states, options, hamiltonian.dt_fs)
    convention = options.get("dephasing_convention", "pyxaid")
    dish = hopping.method == "dish"
    decoherence = dephasing_time_matrix(energies, hamiltonian.dt_fs, convention) if dish else None
    result = run_surface_hopping(hamiltonian, hopping, decoherence_times_fs=decoherence)
    by_start, label, domain = transfer_by_start(result, states.get("donor_domain"), weights)
    asymptote_mode, asymptote = relaxation_asymptote(options, energies, hopping)
    fits = fit_transfer_and_relaxation(
        result.times_fs,
        by_start,
        result.energy_by_start_ev,
        asymptote_ev=asymptote,
        n_bootstrap=options.get("n_bootstrap", 200),
        seed=hopping.seed,
    )
    summary = {
        "dephasing_convention": convention if dish else None,
        "dish_events": hopping.dish_events if dish else None,
        "substeps": hopping.substeps,
        "relaxation_asymptote": asymptote_mode,
        "relaxation_asymptote_ev": fits.relaxation.asymptote,
        "n_bootstrap": fits.n_bootstrap,
        "method": result.method,
        "n_trajectories": result.n_trajectories,
        "temperature_k": result.temperature_k,
        "seed": result.seed,
        "recycled": result.recycled,
        "note": result.note,
        "transfer": fits.transfer.as_dict(),
        "transfer_population": label,
        "transfer_domain": domain,
        "transfer_population_uncertainty": "standard error over the initial times",
        "carrier_window": states.get("carrier_window"),
        "state_character": states.get("character"),
        "relaxation": fits.relaxation.as_dict(),
    }
    return HoppingRun(result, by_start.mean(axis=1), standard_error_over_starts(by_start), summary)
