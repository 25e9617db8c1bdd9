"""Calcfunctions of the non-adiabatic (NA) analysis: provenance around ``heterostructures``.

Snapshot side (``janus.na_snapshots``): a trajectory frame as a structure, the overlap of
two snapshots read from their pw.x remote folders, and the NA Hamiltonian assembled from
the per-pair overlaps. Only small arrays are stored: per pair an n_b × n_b overlap and the
window energies (eV); the wavefunction files stay on the computer that ran pw.x and are
copied through the computer's transport into a temporary folder only while overlapped.

Analysis side (``janus.na_analysis``): gap spectral density and pure dephasing
(:mod:`heterostructures.dynamics.spectra`), surface-hopping populations and decay fits
(:mod:`heterostructures.dynamics.surface_hopping`, :mod:`heterostructures.dynamics.fits`), and the
two figures.
"""

from __future__ import annotations

import tempfile
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
from aiida import orm
from aiida.engine import calcfunction

from heterostructures.dynamics.fits import DecayFit
from heterostructures.dynamics.nac import (
    couplings_from_overlaps,
    overlap_between_runs,
    read_snapshot,
)
from heterostructures.electronic.domain_weights import domain_partition, domain_weights
from heterostructures.io.wavefunctions import band_structure_of_run, validate_band_window

SPECTRAL_CONVENTIONS = {
    "power": "periodogram (dt/N)|FT δE|^2 = FT of the biased un-normalised ACF",
    "acf": "FT of the lag-windowed un-normalised ACF",
}
SAVE_FILES = ("data-file-schema.xml", "wfc1.dat", "wfc1.hdf5")
PW_OUTDIR = "out"


@calcfunction
def trajectory_frame(trajectory: orm.TrajectoryData, index: orm.Int) -> orm.StructureData:
    """The structure (Å) of frame ``index`` (0-based array index) of an MD trajectory."""
    structure: orm.StructureData = trajectory.get_step_structure(index.value)
    return structure


def _copy_save_files(remote: orm.RemoteData, prefix: str, target: Path) -> Path:
    """Copy ``<remote>/out/<prefix>.save/{xml, wfc1}`` into ``target``; return the outdir."""
    save = Path(remote.get_remote_path()) / PW_OUTDIR / f"{prefix}.save"
    local = target / f"{prefix}.save"
    local.mkdir(parents=True)
    with remote.get_authinfo().get_transport() as transport:
        present = set(transport.listdir(str(save))) if transport.isdir(str(save)) else set()
        for name in SAVE_FILES:
            if name in present:
                transport.getfile(str(save / name), str(local / name))
    return target


def _window_domain_weights(
    folder: Path, prefix: str, window: tuple[int, int], structure: orm.StructureData, labels: dict
) -> tuple[np.ndarray, list[str]]:
    """Domain weights (n_b × n_domains) of the window bands of one snapshot, and the domains."""
    partition = domain_partition(
        structure.get_ase().get_scaled_positions(wrap=False)[:, 2],
        labels["domain"],
        labels["layer"],
    )
    _, wavefunction = read_snapshot(folder, prefix, window)
    return domain_weights(wavefunction, partition), list(partition.domains)


@calcfunction
def snapshot_pair_overlap(
    bra: orm.RemoteData,
    ket: orm.RemoteData,
    settings: orm.Dict,
    bra_structure: orm.StructureData | None = None,
    ket_structure: orm.StructureData | None = None,
    site_labels: orm.Dict | None = None,
) -> orm.ArrayData:
    """Raw ⟨i(t)|j(t+dt)⟩ of the band window and both snapshots' window energies (eV).

    ``settings``: ``band_window`` (first, last; 1-based inclusive), ``prefix``,
    ``orthonormalize`` (Löwdin, for PAW). With both structures and the interface
    ``site_labels`` also each window band's weight on each domain at both snapshots
    (:mod:`heterostructures.electronic.domain_weights`). Raises ``SnapshotMismatchError`` (different
    cutoff or basis), ``BandWindowError`` or ``FileNotFoundError`` (no wavefunctions).
    """
    options = settings.get_dict()
    prefix = options["prefix"]
    with tempfile.TemporaryDirectory() as scratch:
        folders = [
            _copy_save_files(remote, prefix, Path(scratch) / name)
            for name, remote in (("bra", bra), ("ket", ket))
        ]
        overlap = overlap_between_runs(
            folders[0],
            folders[1],
            tuple(options["band_window"]),
            prefix,
            orthonormalize=options.get("orthonormalize", False),
        )
        bands = [band_structure_of_run(folder, prefix) for folder in folders]
        first, last = validate_band_window(tuple(options["band_window"]), bands[0].n_bands, "bra")
        node = orm.ArrayData()
        if bra_structure is not None and ket_structure is not None and site_labels is not None:
            for name, folder, structure in (
                ("bra", folders[0], bra_structure),
                ("ket", folders[1], ket_structure),
            ):
                weights, domains = _window_domain_weights(
                    folder, prefix, (first, last), structure, site_labels.get_dict()
                )
                node.set_array(f"domain_weights_{name}", weights)
            node.base.attributes.set("domains", domains)
    node.set_array("overlap", overlap)
    node.set_array("energies_bra_ev", bands[0].energies_ev[0, first - 1 : last])
    node.set_array("energies_ket_ev", bands[1].energies_ev[0, first - 1 : last])
    node.base.attributes.set("ecutwfc_ry", bands[0].ecutwfc_ry)
    node.base.attributes.set("band_window", [first, last])
    return node


@calcfunction
def assemble_na_hamiltonian(settings: orm.Dict, **pairs: orm.ArrayData) -> dict[str, orm.Data]:
    """Phase-corrected, state-tracked NA Hamiltonian from the per-pair overlaps.

    ``pairs`` are keyed ``pair_NNNN`` in trajectory order; ``settings`` holds
    ``dt_fs``, ``band_window``, ``track_states`` and the chain layout (copied to the Dict).
    Arrays: ``energies_ev`` (n_snapshots × n_b, eV), ``overlaps`` and ``nac_per_fs``
    (n_pairs × n_b × n_b; NAC in fs⁻¹ at the pair midpoints), ``band_order``, ``times_fs``
    and, when every pair has them, ``domain_weights`` (n_snapshots × n_b × n_domains, per
    tracked label; the ``domains`` attribute names the last axis).
    """
    options = settings.get_dict()
    ordered = [pairs[key] for key in sorted(pairs)]
    energies = [pair.get_array("energies_bra_ev") for pair in ordered]
    energies.append(ordered[-1].get_array("energies_ket_ev"))
    series = couplings_from_overlaps(
        [pair.get_array("overlap") for pair in ordered],
        np.array(energies),
        options["dt_fs"],
        tuple(options["band_window"]),
        track_states=options["track_states"],
    )
    hamiltonian = orm.ArrayData()
    hamiltonian.set_array("energies_ev", series.energies_ev)
    hamiltonian.set_array("overlaps", series.overlaps)
    hamiltonian.set_array("nac_per_fs", series.nac_per_fs)
    hamiltonian.set_array("band_order", series.band_order)
    hamiltonian.set_array("times_fs", options["dt_fs"] * np.arange(len(energies)))
    if all("domain_weights_bra" in pair.get_arraynames() for pair in ordered):
        weights = [pair.get_array("domain_weights_bra") for pair in ordered]
        weights.append(ordered[-1].get_array("domain_weights_ket"))
        per_label = np.take_along_axis(np.array(weights), series.band_order[:, :, None], axis=1)
        hamiltonian.set_array("domain_weights", per_label)
        hamiltonian.base.attributes.set("domains", ordered[0].base.attributes.get("domains"))
    hamiltonian.base.attributes.set("dt_fs", options["dt_fs"])
    hamiltonian.base.attributes.set("band_window", list(series.band_window))
    hamiltonian.base.attributes.set(
        "units", "energies eV (per tracked state label), NAC fs^-1 at pair midpoints, times fs"
    )
    return {"na_hamiltonian": hamiltonian, "na_parameters": orm.Dict(options)}


def fit_summary(fit: DecayFit) -> dict[str, Any]:
    """A decay fit as plain JSON (``inf`` written as None), with its one-line summary."""
    values = {
        key: (None if isinstance(value, float) and not np.isfinite(value) else value)
        for key, value in asdict(fit).items()
    }
    return {**values, "summary": fit.summary()}


def _hamiltonian_arrays(na_hamiltonian: orm.ArrayData) -> tuple[np.ndarray, np.ndarray, float]:
    return (
        na_hamiltonian.get_array("energies_ev"),
        na_hamiltonian.get_array("nac_per_fs"),
        float(na_hamiltonian.base.attributes.get("dt_fs")),
    )


def _array_node(units: str, **arrays: np.ndarray) -> orm.ArrayData:
    node = orm.ArrayData()
    for name, values in arrays.items():
        node.set_array(name, np.asarray(values))
    node.base.attributes.set("units", units)
    return node


@calcfunction
def gap_spectral_analysis(
    na_hamiltonian: orm.ArrayData, states: orm.Dict, settings: orm.Dict
) -> dict[str, orm.Data]:
    """IS–FS gap, its spectral density (peaks in cm⁻¹) and pure dephasing (Fig. 4c).

    ``states``: window indices ``initial`` and ``final`` (0-based). ``settings``:
    ``required_resolution_cm``, ``prominence_fraction``, ``max_frequency_cm``,
    ``spectral_method`` (``power``, default, or ``acf``: Hann-windowed ACF),
    ``dephasing_convention`` (``pyxaid``, ``libra``, ``gaussian_sigma``) and
    ``n_bootstrap`` (σ of τ over time origins). A spectrum too coarse for the requested
    resolution is flagged ``resolved: False`` with the trajectory length it needs, not
    rejected. Conventions: :mod:`heterostructures.dynamics.spectra`,
    :mod:`heterostructures.dynamics.dephasing`.
    """
    energies, _, dt_fs = _hamiltonian_arrays(na_hamiltonian)
    return gap_spectral_outputs(energies, dt_fs, states["initial"], states["final"], settings)


def gap_spectral_outputs(
    energies: np.ndarray, dt_fs: float, initial: int, final: int, settings: orm.Dict
) -> dict[str, orm.Data]:
    """The outputs of :func:`gap_spectral_analysis` from window energies (steps × bands, eV).

    Shared with the gap series of the MD itself (``workflows.calcfunctions.md_gap``).
    """
    from heterostructures.dynamics.dephasing import CONVENTIONS, pure_dephasing
    from heterostructures.dynamics.spectra import (
        find_spectral_peaks,
        gap_fluctuation,
        spectral_density,
    )

    options = settings.get_dict()
    gap = gap_fluctuation(energies, dt_fs, initial, final)
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
        "dephasing": fit_summary(dephasing.fit),
        "dephasing_convention": convention,
        "dephasing_convention_note": CONVENTIONS[convention],
        "dephasing_tau_by_convention_fs": dephasing.tau_by_convention_fs,
        "dephasing_short_time_tau_fs": dephasing.short_time_tau_fs,
    }
    return {
        "gap": _array_node("fs, eV", times_fs=gap.times_fs, gap_ev=gap.gap_ev),
        "spectral_density": _array_node(
            "cm^-1, eV^2 fs", frequencies_cm=density.frequencies_cm, intensity=density.intensity
        ),
        "dephasing": _array_node(
            "fs, eV^2, dimensionless",
            times_fs=dephasing.times_fs,
            acf_ev2=dephasing.acf_ev2,
            dephasing=dephasing.dephasing,
        ),
        "spectral_summary": orm.Dict(summary),
    }


@calcfunction
def surface_hopping_dynamics(
    na_hamiltonian: orm.ArrayData, states: orm.Dict, settings: orm.Dict
) -> dict[str, orm.Data]:
    """Populations and E(t) by FSSH/DISH in the classical-path approximation, τ fits (Fig. 4d).

    ``states``: ``initial``, ``final``, ``donors`` (0-based window indices), optional
    ``donor_domain`` (τ_ET is then fitted to the domain-projected population
    ``transfer_population``, else to P_IS(t), ``donor_population``), ``character`` (the
    IS/FS character check) and ``carrier_window``, both copied to the summary. ``settings``:
    ``method``, ``temperature_k``, ``simulation_time_fs``, ``n_initial_times``,
    ``n_realisations``, ``seed``, ``allow_recycling``, ``substeps``, ``dish_events``,
    ``dephasing_convention`` (DISH decoherence times), ``relaxation_asymptote`` (E∞ of the
    E(t) fit: ``free``, ``boltzmann`` or ``zero``) and ``n_bootstrap`` (σ of τ_ET and
    τ_relax over the initial times).
    """
    from heterostructures.dynamics.dephasing import dephasing_time_matrix
    from heterostructures.dynamics.fits import fit_transfer_and_relaxation
    from heterostructures.dynamics.surface_hopping import (
        HoppingSettings,
        NaHamiltonian,
        run_surface_hopping,
    )

    energies, nac, dt_fs = _hamiltonian_arrays(na_hamiltonian)
    options = settings.get_dict()
    hamiltonian = NaHamiltonian.from_arrays(energies, nac, dt_fs)
    hopping = HoppingSettings(
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
    convention = options.get("dephasing_convention", "pyxaid")
    decoherence = (
        dephasing_time_matrix(energies, dt_fs, convention) if hopping.method == "dish" else None
    )
    result = run_surface_hopping(hamiltonian, hopping, decoherence_times_fs=decoherence)
    transfer_by_start, transfer_label, transfer_domain = _transfer_by_start(
        na_hamiltonian, states, result
    )
    transfer = transfer_by_start.mean(axis=1)
    asymptote_mode, asymptote = _relaxation_asymptote(options, energies, hopping)
    fits = fit_transfer_and_relaxation(
        result.times_fs,
        transfer_by_start,
        result.energy_by_start_ev,
        asymptote_ev=asymptote,
        n_bootstrap=options.get("n_bootstrap", 200),
        seed=hopping.seed,
    )
    summary = {
        "dephasing_convention": convention if hopping.method == "dish" else None,
        "dish_events": hopping.dish_events if hopping.method == "dish" else None,
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
        "transfer": fit_summary(fits.transfer),
        "transfer_population": transfer_label,
        "transfer_domain": transfer_domain,
        "carrier_window": states.get("carrier_window"),
        "state_character": states.get("character"),
        "relaxation": fit_summary(fits.relaxation),
    }
    populations = _array_node(
        "fs, fraction, eV relative to the final state",
        times_fs=result.times_fs,
        donor_population=result.donor_population,
        transfer_population=transfer,
        mean_energy_ev=result.mean_energy_ev,
        state_populations=result.state_populations,
        coherent_populations=result.coherent_populations,
    )
    return {"populations": populations, "dynamics_summary": orm.Dict(summary)}


def _relaxation_asymptote(
    options: dict[str, Any], energies: np.ndarray, hopping: Any
) -> tuple[str, float | None]:
    """E∞ (eV) for the E(t) fit: fitted (None), detailed balance, or the paper's 0."""
    from heterostructures.dynamics.surface_hopping import boltzmann_energy_ev

    mode = options.get("relaxation_asymptote", "free")
    if mode == "boltzmann":
        return mode, boltzmann_energy_ev(energies, hopping.final_state, hopping.temperature_k)
    return mode, (0.0 if mode == "zero" else None)


def _transfer_by_start(
    na_hamiltonian: orm.ArrayData, states: orm.Dict, result: Any
) -> tuple[np.ndarray, str, str | None]:
    """What τ_ET is fitted to, per initial time (n_times × n_initial_times: the units the
    τ bootstrap resamples), its label and the donor domain (None for P_IS).

    The donor-domain population P_D(t) = Σ_i P_i(t) w_i^D(t), each start projected along
    its own walk through the snapshots (exact), when the NA Hamiltonian has domain
    weights and ``states`` names ``donor_domain``; else P_IS(t) of the donor states
    (relaxation inside the donor then counts as transfer).
    """
    from heterostructures.electronic.domain_populations import (
        domain_population_by_start,
        normalised_to_start,
    )

    donor = states.get("donor_domain")
    if donor is None or "domain_weights" not in na_hamiltonian.get_arraynames():
        label = "P_IS(t) of the donor states (no domain weights)"
        return result.donor_population_by_start, label, None
    by_start = domain_population_by_start(
        result.state_populations_by_start,
        na_hamiltonian.get_array("domain_weights"),
        list(na_hamiltonian.base.attributes.get("domains")),
        donor,
        result.initial_steps,
    )
    label = f"P_{donor}(t)/P_{donor}(0), P_{donor} = sum_i P_i(t) w_i^{donor}(t) (domain-projected)"
    return normalised_to_start(by_start), label, donor


def _figure_nodes(figure: Any, stem: str) -> dict[str, orm.SinglefileData]:
    """``<stem>.svg`` (vector) and ``<stem>.png`` (300 dpi) as SinglefileData, by format."""
    import io

    from heterostructures.plots.na import figure_files

    return {
        fmt: orm.SinglefileData(io.BytesIO(content), filename=f"{stem}.{fmt}")
        for fmt, content in figure_files(figure).items()
    }


def _decay_label(name: str, fit: dict[str, Any]) -> Any:
    from heterostructures.plots.na import DecayLabel

    return DecayLabel(
        name=name,
        tau_fs=np.inf if fit["tau_fs"] is None else fit["tau_fs"],
        sigma_fs=np.inf if fit["tau_sigma_fs"] is None else fit["tau_sigma_fs"],
        determined=fit["determined"],
        lower_bound_fs=fit["lower_bound_fs"],
    )


def _spectral_figure(density: orm.ArrayData, summary: dict[str, Any]) -> Any:
    """Fig. 4c: I(ν̃) with the peaks marked and the resolution stated."""
    from heterostructures.plots.na import spectral_density_figure

    return spectral_density_figure(
        density.get_array("frequencies_cm"),
        density.get_array("intensity"),
        summary["peaks_cm"],
        summary["resolution_cm"],
        summary["resolved"],
    )


def _dynamics_figure(populations: orm.ArrayData, summary: dict[str, Any]) -> Any:
    """Fig. 4d: the population τ_ET is fitted to, P_IS(t) dashed, E(t), with the τ fits."""
    from heterostructures.plots.na import DynamicsCurves, dynamics_figure

    curves = DynamicsCurves(
        times_fs=populations.get_array("times_fs"),
        transfer_population=populations.get_array("transfer_population"),
        initial_state_population=populations.get_array("donor_population"),
        energy_ev=populations.get_array("mean_energy_ev"),
        transfer_domain=summary.get("transfer_domain"),
    )
    return dynamics_figure(
        curves,
        _decay_label("ET", summary["transfer"]),
        _decay_label("relax", summary["relaxation"]),
        f"{summary['method'].upper()}, {summary['n_trajectories']} trajectories",
    )


@calcfunction
def na_figures(
    spectral_density: orm.ArrayData,
    spectral_summary: orm.Dict,
    populations: orm.ArrayData,
    dynamics_summary: orm.Dict,
) -> dict[str, orm.SinglefileData]:
    """Figures like the paper's Fig. 4c (spectral density) and 4d (populations, E(t)):
    ``<name>_plot`` a 300 dpi PNG, ``<name>_plot_vector`` the same figure as SVG."""
    figures = {
        "spectral_density": _spectral_figure(spectral_density, spectral_summary.get_dict()),
        "dynamics": _dynamics_figure(populations, dynamics_summary.get_dict()),
    }
    outputs = {}
    for name, figure in figures.items():
        files = _figure_nodes(figure, name)
        outputs[f"{name}_plot"] = files["png"]
        outputs[f"{name}_plot_vector"] = files["svg"]
    return outputs
