"""Calcfunctions of the non-adiabatic (NA) analysis: provenance around ``heterostructures``.

Snapshot side (``janus.na_snapshots``): a trajectory frame as a structure, the overlap of
two snapshots read from their pw.x remote folders, and the NA Hamiltonian assembled from
the per-pair overlaps. Only small arrays are stored: per pair an n_b × n_b overlap and the
window energies (eV); the wavefunction files stay on the computer that ran pw.x and are
copied through the computer's transport into a temporary folder only while overlapped.

Analysis side (``janus.na_analysis``): the gap spectrum and the surface-hopping run of
:mod:`heterostructures.dynamics.na_analysis` stored as nodes, and the two figures
(:mod:`heterostructures.plots.na`).
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import numpy as np
from aiida import orm
from aiida.engine import calcfunction

from heterostructures.dynamics.na_analysis import (
    DomainWeights,
    analyse_gap_spectrum,
    analyse_hopping,
    tracked_domain_weights,
)
from heterostructures.dynamics.nac import (
    couplings_from_overlaps,
    overlap_between_runs,
    read_snapshot,
)
from heterostructures.dynamics.propagation import NaHamiltonian
from heterostructures.electronic.domain_weights import domain_partition, domain_weights
from heterostructures.io.wavefunctions import (
    band_structure_of_run,
    relative_phases,
    validate_band_window,
)
from heterostructures.plots.na import (
    DecayLabel,
    DynamicsCurves,
    dynamics_figure,
    spectral_density_figure,
)
from workflows.calcfunctions.figures import figure_nodes
from workflows.calculations.snapshot_batch_remote import PAIR_FACTS

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
def rephase_lead_in_pair(
    pair: orm.ArrayData, reference_gauge: orm.ArrayData, lead_in_gauge: orm.ArrayData
) -> orm.ArrayData:
    """The pair across a chain boundary in the gauge of the chain before.

    A batched chain leads in with the last snapshot of the chain before, computed again;
    its states equal that run's up to one phase per band (:func:`relative_phases` of the
    two gauge fingerprints), which is put on the overlap's rows so the phases propagated
    along the series stay continuous. Energies and domain weights are gauge-free.
    """
    reference, lead_in = (
        (gauge.get_array("gauge_miller"), gauge.get_array("gauge_coefficients"))
        for gauge in (reference_gauge, lead_in_gauge)
    )
    overlap = pair.get_array("overlap")
    phases = relative_phases(reference, lead_in, gamma_only=not np.iscomplexobj(overlap))
    node = orm.ArrayData()
    for name in pair.get_arraynames():
        node.set_array(name, pair.get_array(name))
    node.set_array("overlap", (phases.conj()[:, None] * overlap).astype(overlap.dtype))
    for name in PAIR_FACTS:
        if name in pair.base.attributes.all:
            node.base.attributes.set(name, pair.base.attributes.get(name))
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
        hamiltonian.set_array(
            "domain_weights", tracked_domain_weights(np.array(weights), series.band_order)
        )
        hamiltonian.base.attributes.set("domains", ordered[0].base.attributes.get("domains"))
    hamiltonian.base.attributes.set("dt_fs", options["dt_fs"])
    hamiltonian.base.attributes.set("band_window", list(series.band_window))
    hamiltonian.base.attributes.set(
        "units", "energies eV (per tracked state label), NAC fs^-1 at pair midpoints, times fs"
    )
    return {"na_hamiltonian": hamiltonian, "na_parameters": orm.Dict(options)}


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

    ``states``: window indices ``initial`` and ``final`` (0-based); ``settings``: see
    :func:`heterostructures.dynamics.na_analysis.analyse_gap_spectrum`.
    """
    energies, _, dt_fs = _hamiltonian_arrays(na_hamiltonian)
    return gap_spectral_outputs(energies, dt_fs, states["initial"], states["final"], settings)


def gap_spectral_outputs(
    energies: np.ndarray, dt_fs: float, initial: int, final: int, settings: orm.Dict
) -> dict[str, orm.Data]:
    """The outputs of :func:`gap_spectral_analysis` from window energies (steps × bands, eV).

    Shared with the gap series of the MD itself (``workflows.calcfunctions.md_gap``).
    """
    spectrum = analyse_gap_spectrum(energies, dt_fs, initial, final, settings.get_dict())
    gap, density, dephasing = spectrum.gap, spectrum.density, spectrum.dephasing
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
        "spectral_summary": orm.Dict(spectrum.summary),
    }


def _domain_weights(na_hamiltonian: orm.ArrayData) -> DomainWeights | None:
    if "domain_weights" not in na_hamiltonian.get_arraynames():
        return None
    return DomainWeights(
        na_hamiltonian.get_array("domain_weights"),
        list(na_hamiltonian.base.attributes.get("domains")),
    )


@calcfunction
def surface_hopping_dynamics(
    na_hamiltonian: orm.ArrayData, states: orm.Dict, settings: orm.Dict
) -> dict[str, orm.Data]:
    """Populations and E(t) by FSSH/DISH, τ_ET and τ_relax fits (Fig. 4d).

    ``states`` and ``settings``: see
    :func:`heterostructures.dynamics.na_analysis.analyse_hopping`.
    """
    hamiltonian = NaHamiltonian.from_arrays(*_hamiltonian_arrays(na_hamiltonian))
    run = analyse_hopping(
        hamiltonian, states.get_dict(), settings.get_dict(), _domain_weights(na_hamiltonian)
    )
    result = run.result
    populations = _array_node(
        "fs, fraction, eV relative to the final state",
        times_fs=result.times_fs,
        donor_population=result.donor_population,
        transfer_population=run.transfer_population,
        transfer_population_sem=run.transfer_population_sem,
        mean_energy_ev=result.mean_energy_ev,
        state_populations=result.state_populations,
        coherent_populations=result.coherent_populations,
    )
    return {"populations": populations, "dynamics_summary": orm.Dict(run.summary)}


def _decay_label(name: str, fit: dict[str, Any]) -> DecayLabel:
    return DecayLabel(
        name=name,
        tau_fs=np.inf if fit["tau_fs"] is None else fit["tau_fs"],
        sigma_fs=np.inf if fit["tau_sigma_fs"] is None else fit["tau_sigma_fs"],
        determined=fit["determined"],
        lower_bound_fs=fit["lower_bound_fs"],
    )


def _spectral_figure(density: orm.ArrayData, summary: dict[str, Any]) -> Any:
    """Fig. 4c: I(ν̃) with the peaks marked and the resolution stated."""
    return spectral_density_figure(
        density.get_array("frequencies_cm"),
        density.get_array("intensity"),
        summary["peaks_cm"],
        summary["resolution_cm"],
        summary["resolved"],
    )


def _dynamics_figure(populations: orm.ArrayData, summary: dict[str, Any]) -> Any:
    """Fig. 4d: the population τ_ET is fitted to, P_IS(t) dashed, E(t), with the τ fits."""
    curves = DynamicsCurves(
        times_fs=populations.get_array("times_fs"),
        transfer_population=populations.get_array("transfer_population"),
        initial_state_population=populations.get_array("donor_population"),
        energy_ev=populations.get_array("mean_energy_ev"),
        transfer_domain=summary.get("transfer_domain"),
        transfer_population_sem=(
            populations.get_array("transfer_population_sem")
            if "transfer_population_sem" in populations.get_arraynames()
            else None
        ),
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
        files = figure_nodes(figure, name)
        outputs[f"{name}_plot"] = files["png"]
        outputs[f"{name}_plot_vector"] = files["svg"]
    return outputs
