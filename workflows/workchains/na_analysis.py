"""``janus.na_analysis``: the NA Hamiltonian of ``janus.na_snapshots`` → Fig. 4c/4d.

Spectral density and pure dephasing of the IS–FS gap, FSSH/DISH populations, τ_ET and
τ_relax (fs), with the two figures. The request (IS/FS bands inside the band window,
enough snapshots for the spectra, ≥ ``MIN_REALISATIONS`` hopping realisations, valid
hopping settings) is checked in ``setup`` and fails with a 2xx exit code before any work.
"""

from __future__ import annotations

from typing import Any, cast

import numpy as np
from aiida import orm
from aiida.engine import WorkChain

from workflows.calcfunctions.md_gap import md_gap_spectral_analysis
from workflows.calcfunctions.na import gap_spectral_analysis, na_figures, surface_hopping_dynamics
from workflows.calcfunctions.peak_assignment import gap_peak_assignment
from workflows.engine.stranded import SealsStrandedChildren
from workflows.inputs.na_requests import NaInputError
from workflows.protocols import JanusProtocolMixin

MIN_REALISATIONS = 100


def analysis_states(
    band_window: list[int], initial: int, final: int, donors: list[int]
) -> dict[str, Any]:
    """pw.x band numbers → 0-based window indices (``initial``, ``final``, ``donors``)."""
    first, last = band_window
    bands = {"initial_band": initial, "final_band": final, **{f"donor {b}": b for b in donors}}
    outside = {name: band for name, band in bands.items() if not first <= band <= last}
    if outside or initial == final:
        raise NaInputError(
            "ERROR_STATES",
            f"IS/FS bands must differ and lie in the band window {first}..{last} "
            f"(pw.x numbering); got {bands}. The window is janus.na_snapshots' carrier "
            "basis: raise its `electron_bands` (carrier 'electron', from the LUMO up) or "
            "`hole_bands` (carrier 'hole', from the HOMO down), or pick IS/FS inside it",
        )
    return {
        "initial": initial - first,
        "final": final - first,
        "donors": [band - first for band in donors or [initial]],
    }


def check_analysis_request(energies: np.ndarray, dt_fs: float, dynamics: dict[str, Any]) -> None:
    """Enough snapshots for the spectra (``MIN_SAMPLES``) and ≥ 100 hopping realisations."""
    from heterostructures.dynamics.spectra import MIN_SAMPLES, required_length_fs
    from heterostructures.dynamics.surface_hopping import DynamicsInputError, HoppingSettings

    if energies.shape[0] < MIN_SAMPLES:
        raise NaInputError(
            "ERROR_TOO_SHORT",
            f"{energies.shape[0]} snapshots ({energies.shape[0] * dt_fs:g} fs): the gap "
            f"analysis needs ≥ {MIN_SAMPLES}; resolving 33 cm^-1 needs "
            f"≥ {required_length_fs(33.0):.0f} fs of snapshots",
        )
    if dynamics["n_realisations"] < MIN_REALISATIONS:
        raise NaInputError(
            "ERROR_DYNAMICS_SETTINGS",
            f"n_realisations = {dynamics['n_realisations']}: use ≥ {MIN_REALISATIONS} "
            "for populations with a few-% statistical error",
        )
    try:
        HoppingSettings(initial_state=0, final_state=0, n_steps=1, **_hopping_options(dynamics))
    except (DynamicsInputError, TypeError) as error:
        raise NaInputError("ERROR_DYNAMICS_SETTINGS", str(error)) from error


def check_state_character(
    na_hamiltonian: orm.ArrayData, states: dict[str, Any], populations: dict[str, Any]
) -> dict[str, Any]:
    """Does the IS keep donor and the FS acceptor character along the snapshots?

    Needs the per-snapshot ``domain_weights`` of ``janus.na_snapshots`` (run with
    ``site_labels``). More broken snapshots than ``max_broken_fraction`` raise
    ``ERROR_STATE_CHARACTER`` when ``on_broken_character`` is ``fail``, else are flagged.
    """
    from heterostructures.electronic.domain_populations import (
        DomainPopulationError,
        state_character,
    )

    if "domain_weights" not in na_hamiltonian.get_arraynames():
        return {"checked": False, "note": "no domain weights (snapshots without site_labels)"}
    try:
        check = state_character(
            na_hamiltonian.get_array("domain_weights"),
            list(na_hamiltonian.base.attributes.get("domains")),
            states["initial"],
            states["final"],
            populations["donor_domain"],
            populations["acceptor_domain"],
            populations["character_threshold"],
        )
    except DomainPopulationError as error:
        raise NaInputError("ERROR_STATE_CHARACTER", str(error)) from error
    result = {"checked": True, **check.as_dict()}
    result["flagged"] = check.broken > populations["max_broken_fraction"]
    if result["flagged"] and populations["on_broken_character"] == "fail":
        raise NaInputError(
            "ERROR_STATE_CHARACTER",
            f"IS on {check.donor} and FS on {check.acceptor} (weight > {check.threshold}) "
            f"hold at only {check.held:.0%} of {check.n_snapshots} snapshots "
            f"(IS {check.initial_on_donor:.0%}, FS {check.final_on_acceptor:.0%}): pick "
            "other IS/FS bands, or set populations.on_broken_character = 'flag'",
        )
    return result


def md_covers_bands(band_energies: orm.ArrayData, bands: dict[str, int]) -> bool:
    """Whether the MD printed both bands (pw.x numbering, 1-based): nbnd of the MD is the
    last axis of its ``eigenvalues_ev`` (steps × k-points × bands)."""
    printed = band_energies.get_shape("eigenvalues_ev")[-1]
    return max(bands.values()) <= printed


def carrier_window(na_hamiltonian: orm.ArrayData) -> dict[str, Any]:
    """The carrier basis the NA Hamiltonian is written in: its pw.x bands (1-based,
    inclusive) and the carrier (``electron``: LUMO up, ``hole``: HOMO down) that
    ``janus.na_snapshots`` was run for, read from the provenance (the calcfunction that
    made the Hamiltonian and the workchain that called it); None when not recorded.
    """
    creator = na_hamiltonian.creator
    caller = getattr(creator, "caller", None)
    carrier = None
    if caller is not None and "carrier" in caller.inputs:
        carrier = caller.inputs.carrier.value
    return {"bands": list(na_hamiltonian.base.attributes.get("band_window")), "carrier": carrier}


#: dynamics settings that are not HoppingSettings fields, with their allowed values
ANALYSIS_OPTIONS = {
    "simulation_time_fs": None,
    "n_bootstrap": None,
    "dephasing_convention": ("pyxaid", "libra", "gaussian_sigma"),
    "relaxation_asymptote": ("free", "boltzmann", "zero"),
}


def _hopping_options(dynamics: dict[str, Any]) -> dict[str, Any]:
    """The HoppingSettings fields of ``dynamics``; a bad named choice is a TypeError."""
    for key, allowed in ANALYSIS_OPTIONS.items():
        if allowed is not None and key in dynamics and dynamics[key] not in allowed:
            raise TypeError(f"{key} must be one of {allowed}, got {dynamics[key]!r}")
    return {key: value for key, value in dynamics.items() if key not in ANALYSIS_OPTIONS}


def _declare_peak_assignment_outputs(spec: Any) -> None:
    """Outputs of the optional gap-peak assignment (only with ``md_trajectory``)."""
    spec.output(
        "peak_assignment",
        valid_type=orm.Dict,
        required=False,
        help="Element shares of the MD's kinetic-energy spectrum at each gap peak.",
    )
    spec.output(
        "element_spectra",
        valid_type=orm.ArrayData,
        required=False,
        help="Mass-weighted velocity power spectrum per element (amu·Å²/fs vs cm^-1).",
    )
    for suffix, kind in (("", "PNG"), ("_vector", "SVG")):
        spec.output(
            f"peak_assignment_plot{suffix}",
            valid_type=orm.SinglefileData,
            required=False,
            help=f"Gap spectrum above the element shares at each wavenumber, {kind}.",
        )


class NaAnalysisWorkChain(SealsStrandedChildren, JanusProtocolMixin, WorkChain):
    """Spectral density, dephasing, FSSH/DISH populations and τ fits, with plots."""

    _protocol_file = "na_analysis.yaml"

    @classmethod
    def define(cls, spec: Any) -> None:
        """NA Hamiltonian, IS/FS bands, spectra and dynamics settings; Dicts, arrays, PNGs."""
        super().define(spec)
        spec.input("na_hamiltonian", valid_type=orm.ArrayData, help="janus.na_snapshots output.")
        spec.input("initial_band", valid_type=orm.Int, help="IS band (pw.x numbering).")
        spec.input("final_band", valid_type=orm.Int, help="FS band (pw.x numbering).")
        spec.input("donor_bands", valid_type=orm.List, required=False, help="Counted in P_IS.")
        spec.input("spectra", valid_type=orm.Dict, help="required_resolution_cm, peaks.")
        spec.input("dynamics", valid_type=orm.Dict, help="method, temperature_k, seed, ...")
        spec.input(
            "populations",
            valid_type=orm.Dict,
            required=False,
            help="donor_domain, acceptor_domain, character_threshold, max_broken_fraction, "
            "on_broken_character ('fail' or 'flag'): domain-projected P_donor(t).",
        )
        spec.input(
            "md_band_energies",
            valid_type=orm.ArrayData,
            required=False,
            help="janus.aimd's band_energies: the IS–FS gap of every NVE step gives the "
            "spectral density and dephasing (else the snapshots' energies do).",
        )
        spec.input(
            "md_production_start_fs", valid_type=orm.Float, required=False, help="First NVE time."
        )
        spec.input(
            "md_trajectory",
            valid_type=orm.TrajectoryData,
            required=False,
            help="janus.aimd's trajectory: its NVE velocities name the elements that move at "
            "each gap peak (needs md_production_start_fs).",
        )
        spec.outline(cls.setup, cls.run_spectra, cls.run_dynamics, cls.make_plots)
        for name in ("gap", "spectral_density", "dephasing", "populations"):
            spec.output(name, valid_type=orm.ArrayData)
        spec.output("spectral_summary", valid_type=orm.Dict, help="Peaks cm^-1, resolution, τ.")
        _declare_peak_assignment_outputs(spec)
        spec.output("dynamics_summary", valid_type=orm.Dict, help="τ_ET, τ_relax ± 1σ, flags.")
        for name, figure in (("spectral_density", "Fig. 4c"), ("dynamics", "Fig. 4d")):
            spec.output(f"{name}_plot", valid_type=orm.SinglefileData, help=f"{figure}, PNG.")
            spec.output(
                f"{name}_plot_vector", valid_type=orm.SinglefileData, help=f"{figure}, SVG."
            )
        spec.exit_code(201, "ERROR_STATES", message="{error}")
        spec.exit_code(202, "ERROR_TOO_SHORT", message="{error}")
        spec.exit_code(203, "ERROR_DYNAMICS_SETTINGS", message="{error}")
        spec.exit_code(204, "ERROR_STATE_CHARACTER", message="{error}")

    def setup(self) -> Any:
        """Map IS/FS to window indices and check lengths and settings (2xx)."""
        hamiltonian = self.inputs.na_hamiltonian
        donors = list(self.inputs.donor_bands) if "donor_bands" in self.inputs else []
        try:
            states = analysis_states(
                hamiltonian.base.attributes.get("band_window"),
                self.inputs.initial_band.value,
                self.inputs.final_band.value,
                donors,
            )
            check_analysis_request(
                hamiltonian.get_array("energies_ev"),
                hamiltonian.base.attributes.get("dt_fs"),
                self.inputs.dynamics.get_dict(),
            )
            if "populations" in self.inputs:
                populations = self.inputs.populations.get_dict()
                states["character"] = check_state_character(hamiltonian, states, populations)
                states["donor_domain"] = populations["donor_domain"]
        except NaInputError as error:
            return self.exit_codes(error.exit_code).format(error=str(error))
        states["carrier_window"] = carrier_window(hamiltonian)
        if states.get("character", {}).get("flagged"):
            self.report(f"IS/FS character broken: {states['character']}")
        self.ctx.states = orm.Dict(states)
        return None

    def run_spectra(self) -> None:
        """Gap, spectral density (flagged when unresolved) and pure dephasing: from every MD
        step when the MD printed the IS and FS bands, else from the snapshots."""
        bands = {
            "initial_band": self.inputs.initial_band.value,
            "final_band": self.inputs.final_band.value,
        }
        md = self.inputs.get("md_band_energies")
        start = self.inputs.get("md_production_start_fs")
        if md is not None and start is not None and md_covers_bands(md, bands):
            self.report("gap spectrum from the Kohn-Sham energies of every NVE MD step")
            request = orm.Dict(bands | {"production_start_fs": start.value})
            outputs = md_gap_spectral_analysis(md, request, self.inputs.spectra)
        else:
            outputs = gap_spectral_analysis(
                self.inputs.na_hamiltonian, self.ctx.states, self.inputs.spectra
            )
        self.out_many(outputs)
        trajectory = self.inputs.get("md_trajectory")
        if trajectory is not None and start is not None:
            settings = orm.Dict({"production_start_fs": start.value})
            self.out_many(
                gap_peak_assignment(
                    trajectory,
                    cast(orm.ArrayData, outputs["spectral_density"]),
                    cast(orm.Dict, outputs["spectral_summary"]),
                    settings,
                )
            )

    def run_dynamics(self) -> Any:
        """Surface hopping and the τ_ET / τ_relax fits."""
        from heterostructures.dynamics.surface_hopping import DynamicsInputError

        try:
            outputs = surface_hopping_dynamics(
                self.inputs.na_hamiltonian, self.ctx.states, self.inputs.dynamics
            )
        except DynamicsInputError as error:
            return self.exit_codes.ERROR_DYNAMICS_SETTINGS.format(error=str(error))
        self.out_many(outputs)
        return None

    def make_plots(self) -> None:
        """Figures like the paper's Fig. 4c and 4d (300 dpi PNG and SVG)."""
        self.out_many(
            na_figures(
                self.outputs["spectral_density"],
                self.outputs["spectral_summary"],
                self.outputs["populations"],
                self.outputs["dynamics_summary"],
            )
        )

    @classmethod
    def get_builder_from_protocol(
        cls,
        na_hamiltonian: orm.ArrayData | None = None,
        initial_band: int | None = None,
        final_band: int | None = None,
        protocol: str | None = None,
        overrides: dict[str, Any] | None = None,
        donor_bands: list[int] | None = None,
    ) -> Any:
        """Builder from ``protocols/na_analysis.yaml`` (fast / balanced / stringent).

        The Hamiltonian and the IS/FS bands left out are provided at run time by the
        caller (``janus.pipeline`` takes them from its NA snapshots and IS/FS steps).
        """
        inputs = cls.checked_protocol_inputs(protocol, overrides)
        builder = cls.get_builder()
        if na_hamiltonian is not None:
            builder.na_hamiltonian = na_hamiltonian
        if initial_band is not None:
            builder.initial_band = orm.Int(initial_band)
        if final_band is not None:
            builder.final_band = orm.Int(final_band)
        if donor_bands:
            builder.donor_bands = orm.List(donor_bands)
        builder.spectra = orm.Dict(inputs["spectra"])
        builder.dynamics = orm.Dict(inputs["dynamics"])
        builder.populations = orm.Dict(inputs["populations"])
        return builder
