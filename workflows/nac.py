"""``janus.na_snapshots`` and ``janus.na_analysis``: the NA Hamiltonian and what it gives.

``janus.na_snapshots`` runs a Γ-only pw.x SCF (norm-conserving pseudos: their plane-wave
overlaps are orthonormal, see DESIGN.md) at every selected frame of a ``janus.aimd``
trajectory. Snapshots are split into ``n_chains`` contiguous chains run side by side; in a
chain every SCF restarts from the previous snapshot's density and wavefunctions
(``startingpot``/``startingwfc='file'`` through ``parent_folder``). As soon as two
consecutive snapshots are done their overlap is computed by a calcfunction that reads the
wavefunctions from the remote folders, and a folder is cleaned once both its overlaps
are stored and the next snapshot of its chain (which restarted from it) has finished.
Cleaned calculations are marked invalid for caching, so no later run can restart from
an emptied cache source. Only n_b × n_b matrices and window energies reach the database.

``janus.na_analysis`` turns the NA Hamiltonian into the paper's Fig. 4c/4d: spectral
density and pure dephasing of the IS–FS gap, FSSH/DISH populations, τ_ET and τ_relax.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from aiida import orm
from aiida.common import AttributeDict
from aiida.engine import ToContext, WorkChain, while_
from aiida_quantumespresso.workflows.protocols.utils import recursive_merge
from aiida_quantumespresso.workflows.pw.base import PwBaseWorkChain

from heterostructures.nac import SnapshotMismatchError
from heterostructures.trajectory import TrajectoryError, select_snapshots
from heterostructures.wavefunctions import BandWindowError
from workflows.nac_functions import (
    assemble_na_hamiltonian,
    gap_spectral_analysis,
    na_figures,
    snapshot_pair_overlap,
    surface_hopping_dynamics,
    trajectory_frame,
)
from workflows.protocols import JanusProtocolMixin
from workflows.pw_builders import EMPTY_BANDS, family_overrides

PW_PREFIX = "aiida"
CUTOFF_TOLERANCE_RY = 1e-6


class NaInputError(ValueError):
    """A snapshot or analysis request that cannot run; ``exit_code`` names the 2xx code."""

    def __init__(self, exit_code: str, message: str) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def selected_frames(trajectory: orm.TrajectoryData, selection: dict[str, Any]) -> list[int]:
    """Frame indices from ``frame_indices``, or ``stride`` with ``start_fs``/``stop_fs``."""
    n_frames = trajectory.numsteps
    if "frame_indices" in selection:
        frames = [int(index) for index in selection["frame_indices"]]
    else:
        times = trajectory.get_times()
        times = np.arange(n_frames, dtype=float) if times is None else np.asarray(times)
        try:
            frames = list(
                select_snapshots(
                    times,
                    selection.get("start_fs", float(times[0])),
                    selection.get("stop_fs"),
                    selection.get("stride", 1),
                ).frame_indices
            )
        except TrajectoryError as error:
            raise NaInputError("ERROR_EMPTY_SELECTION", str(error)) from error
    if not frames:
        raise NaInputError("ERROR_EMPTY_SELECTION", "the snapshot selection is empty")
    outside = [index for index in frames if not 0 <= index < n_frames]
    if outside or len(frames) < 2 or any(np.diff(frames) <= 0):
        raise NaInputError(
            "ERROR_TRAJECTORY_TOO_SHORT",
            f"need ≥ 2 increasing frame indices within the trajectory's {n_frames} frames, "
            f"got {frames}: run a longer janus.aimd or select fewer/earlier frames",
        )
    return frames


def snapshot_spacing_fs(
    trajectory: orm.TrajectoryData, frames: list[int], dt_fs: float | None
) -> float:
    """dt between snapshots (fs): from the trajectory's times, which must be evenly spaced."""
    times = trajectory.get_times()
    if times is None:
        if dt_fs is None:
            raise NaInputError(
                "ERROR_TIME_STEP", "the trajectory has no times: give dt_fs between snapshots"
            )
        return dt_fs
    spacing = np.diff(np.asarray(times)[frames])
    if not np.allclose(spacing, spacing[0], rtol=1e-6) or spacing[0] <= 0:
        raise NaInputError(
            "ERROR_TIME_STEP",
            f"snapshots are not evenly spaced in time ({spacing.min():g}–{spacing.max():g} fs): "
            "NAC by finite differences needs one dt; use a constant stride",
        )
    if dt_fs is not None and not np.isclose(dt_fs, spacing[0], rtol=1e-6):
        raise NaInputError(
            "ERROR_TIME_STEP",
            f"dt_fs = {dt_fs} fs but the selected frames are {spacing[0]:g} fs apart: "
            "omit dt_fs or fix the selection",
        )
    return float(spacing[0])


def check_band_window(band_window: list[int], parameters: dict[str, Any]) -> None:
    """The window must lie in 1..nbnd; nbnd must be set explicitly in ``SYSTEM``."""
    nbnd = parameters.get("SYSTEM", {}).get("nbnd")
    if nbnd is None:
        raise NaInputError(
            "ERROR_BAND_WINDOW", "set scf.pw.parameters.SYSTEM.nbnd: the band window needs it"
        )
    first, last = (int(band) for band in band_window)
    if not 1 <= first <= last <= nbnd:
        raise NaInputError(
            "ERROR_BAND_WINDOW",
            f"band window ({first}, {last}) is outside the computed bands 1..{nbnd} "
            "(1-based inclusive): narrow the window or raise nbnd",
        )


def chain_layout(n_snapshots: int, n_chains: int) -> list[list[int]]:
    """Contiguous chains of snapshot positions, as even as possible (longest first)."""
    if not 1 <= n_chains <= n_snapshots:
        raise NaInputError(
            "ERROR_CHAINS", f"n_chains must be in 1..{n_snapshots} (snapshots), got {n_chains}"
        )
    return [block.tolist() for block in np.array_split(np.arange(n_snapshots), n_chains)]


def _check_fixed_cell(trajectory: orm.TrajectoryData, frames: list[int]) -> None:
    cells = trajectory.get_cells()
    if cells is not None and not np.allclose(cells[frames], cells[frames[0]], atol=1e-8):
        raise NaInputError(
            "ERROR_VARIABLE_CELL",
            "the cell changes between snapshots: overlaps need one plane-wave basis (NVE/NVT)",
        )


def _key(position: int) -> str:
    return f"snapshot_{position:04d}"


class NaSnapshotsWorkChain(JanusProtocolMixin, WorkChain):
    """SCF per trajectory snapshot in restarted chains; overlaps → NA Hamiltonian."""

    _protocol_file = "na_snapshots.yaml"

    @classmethod
    def define(cls, spec: Any) -> None:
        """Trajectory, selection, band window, chains, the SCF namespace; outputs; codes."""
        super().define(spec)
        spec.input("trajectory", valid_type=orm.TrajectoryData, help="janus.aimd trajectory.")
        spec.input(
            "snapshots",
            valid_type=orm.Dict,
            required=False,
            help="`frame_indices`, or `stride` with `start_fs`/`stop_fs` (fs); default: all.",
        )
        spec.input("band_window", valid_type=orm.List, help="(first, last) pw.x bands, 1-based.")
        spec.input("dt_fs", valid_type=orm.Float, required=False, help="Snapshot spacing (fs).")
        spec.input("n_chains", valid_type=orm.Int, default=lambda: orm.Int(1))
        spec.input("track_states", valid_type=orm.Bool, default=lambda: orm.Bool(True))
        spec.input("clean_workdir", valid_type=orm.Bool, default=lambda: orm.Bool(True))
        spec.input("site_labels", valid_type=orm.Dict, required=False, help="Passed on.")
        spec.expose_inputs(
            PwBaseWorkChain,
            namespace="scf",
            exclude=("clean_workdir", "pw.structure", "pw.parent_folder"),
            namespace_options={"help": "Γ-only NC SCF run at every snapshot."},
        )
        spec.outline(
            cls.setup,
            while_(cls.has_rounds_left)(cls.run_round, cls.inspect_round),
            cls.results,
        )
        spec.output("na_hamiltonian", valid_type=orm.ArrayData, help="Energies, overlaps, NAC.")
        spec.output("na_parameters", valid_type=orm.Dict, help="Window, dt, frames, chains.")
        spec.output("site_labels", valid_type=orm.Dict, required=False)
        for status, label, message in (
            (201, "ERROR_EMPTY_SELECTION", "no snapshot selected: {error}"),
            (202, "ERROR_TRAJECTORY_TOO_SHORT", "{error}"),
            (203, "ERROR_BAND_WINDOW", "{error}"),
            (204, "ERROR_TIME_STEP", "{error}"),
            (205, "ERROR_VARIABLE_CELL", "{error}"),
            (206, "ERROR_CHAINS", "{error}"),
            (301, "ERROR_CUTOFF_MISMATCH", "{error}"),
            (302, "ERROR_SNAPSHOT_MISMATCH", "snapshots {pair} cannot be overlapped: {error}"),
            (
                401,
                "ERROR_SNAPSHOT_SCF_FAILED",
                "SCF of snapshot {position} (frame {frame}, "
                "PwBaseWorkChain<{pk}>) failed with exit {status}: see its report",
            ),
        ):
            spec.exit_code(status, label, message=message)

    def setup(self) -> Any:
        """Check the request (2xx before any SCF) and lay out the chains."""
        trajectory = self.inputs.trajectory
        selection = self.inputs.snapshots.get_dict() if "snapshots" in self.inputs else {}
        dt_fs = self.inputs.dt_fs.value if "dt_fs" in self.inputs else None
        try:
            frames = selected_frames(trajectory, selection)
            self.ctx.dt_fs = snapshot_spacing_fs(trajectory, frames, dt_fs)
            _check_fixed_cell(trajectory, frames)
            check_band_window(
                list(self.inputs.band_window), self.inputs.scf.pw.parameters.get_dict()
            )
            self.ctx.chains = chain_layout(len(frames), self.inputs.n_chains.value)
        except NaInputError as error:
            return self.exit_codes(error.exit_code).format(error=str(error))
        self.ctx.frames = frames
        self.ctx.round = 0
        self.ctx.remotes = {}
        self.ctx.pairs = {}
        self.ctx.cleaned = []
        self.ctx.reference_cutoff = None
        self.report(f"{len(frames)} snapshots, dt {self.ctx.dt_fs:g} fs, chains {self.ctx.chains}")
        return None

    def has_rounds_left(self) -> bool:
        """True while some chain has a snapshot left."""
        return bool(self.ctx.round < max(len(chain) for chain in self.ctx.chains))

    def _snapshot_inputs(self, position: int, parent: orm.RemoteData | None) -> AttributeDict:
        inputs = AttributeDict(self.exposed_inputs(PwBaseWorkChain, namespace="scf"))
        frame = orm.Int(self.ctx.frames[position])
        inputs.pw.structure = trajectory_frame(self.inputs.trajectory, frame)
        restart = {"ELECTRONS": {"startingwfc": "file", "startingpot": "file"}}
        parameters = recursive_merge(
            inputs.pw.parameters.get_dict(),
            {"CONTROL": {"calculation": "scf", "restart_mode": "from_scratch"}},
        )
        if parent is not None:
            parameters = recursive_merge(parameters, restart)
            inputs.pw.parent_folder = parent
        inputs.pw.parameters = orm.Dict(parameters)
        inputs.metadata = {"call_link_label": f"scf_{position:04d}"}
        return inputs

    def run_round(self) -> Any:
        """Submit the next snapshot of every chain, each restarting from its predecessor."""
        futures = {}
        for chain in self.ctx.chains:
            if self.ctx.round >= len(chain):
                continue
            position = chain[self.ctx.round]
            parent = self.ctx.remotes[_key(chain[self.ctx.round - 1])] if self.ctx.round else None
            inputs = self._snapshot_inputs(position, parent)
            futures[_key(position)] = self.submit(PwBaseWorkChain, **inputs)
        self.ctx.round += 1
        return ToContext(**futures)

    def inspect_round(self) -> Any:
        """Check the round's SCFs (4xx, 3xx), overlap ready pairs, clean spent folders."""
        for chain in self.ctx.chains:
            if self.ctx.round - 1 < len(chain):
                failure = self._accept_snapshot(chain[self.ctx.round - 1])
                if failure is not None:
                    return failure
        for position in range(len(self.ctx.frames) - 1):
            pair = f"pair_{position:04d}"
            ready = {_key(position), _key(position + 1)} <= set(self.ctx.remotes)
            if ready and pair not in self.ctx.pairs:
                failure = self._overlap(position)
                if failure is not None:
                    return failure
        if self.inputs.clean_workdir.value:
            self._clean_spent_folders()
        return None

    def _accept_snapshot(self, position: int) -> Any:
        node = self.ctx[_key(position)]
        if not node.is_finished_ok:
            return self.exit_codes.ERROR_SNAPSHOT_SCF_FAILED.format(
                position=position,
                frame=self.ctx.frames[position],
                pk=node.pk,
                status=node.exit_status,
            )
        cutoff = node.outputs.output_parameters["wfc_cutoff"]
        if self.ctx.reference_cutoff is None:
            self.ctx.reference_cutoff = cutoff
        elif abs(cutoff - self.ctx.reference_cutoff) > CUTOFF_TOLERANCE_RY:
            return self.exit_codes.ERROR_CUTOFF_MISMATCH.format(
                error=f"snapshot {position} ran with ecutwfc {cutoff} eV, the first with "
                f"{self.ctx.reference_cutoff} eV: every snapshot needs the same cutoff"
            )
        self.ctx.remotes[_key(position)] = node.outputs.remote_folder
        return None

    def _overlap(self, position: int) -> Any:
        settings = orm.Dict({"band_window": list(self.inputs.band_window), "prefix": PW_PREFIX})
        bra, ket = (self.ctx.remotes[_key(p)] for p in (position, position + 1))
        try:
            pair = snapshot_pair_overlap(bra, ket, settings)
        except (SnapshotMismatchError, BandWindowError, FileNotFoundError) as error:
            return self.exit_codes.ERROR_SNAPSHOT_MISMATCH.format(
                pair=(position, position + 1), error=str(error)
            )
        self.ctx.pairs[f"pair_{position:04d}"] = pair
        return None

    def _spent(self, position: int, chain: list[int]) -> bool:
        """Both overlaps stored and the next snapshot of the chain (its restart) done."""
        last = len(self.ctx.frames) - 1
        needed = [p for p in (position - 1, position) if 0 <= p < last]
        if any(f"pair_{p:04d}" not in self.ctx.pairs for p in needed):
            return False
        successor = chain.index(position) + 1
        return successor == len(chain) or _key(chain[successor]) in self.ctx.remotes

    def _clean_spent_folders(self) -> None:
        for chain in self.ctx.chains:
            for position in chain:
                done = _key(position) in self.ctx.remotes
                if done and position not in self.ctx.cleaned and self._spent(position, chain):
                    self._clean_snapshot(position)

    def _clean_snapshot(self, position: int) -> None:
        """Empty every remote folder of the snapshot and bar its calculations from caching."""
        for calculation in self.ctx[_key(position)].called:
            if isinstance(calculation, orm.CalcJobNode):
                remote = calculation.outputs["remote_folder"]
                if not remote.is_cleaned:
                    remote._clean()
                calculation.base.caching.is_valid_cache = False
        self.ctx.cleaned.append(position)

    @classmethod
    def get_builder_from_protocol(
        cls,
        code: orm.AbstractCode,
        trajectory: orm.TrajectoryData,
        protocol: str | None = None,
        overrides: dict[str, Any] | None = None,
        snapshots: dict[str, Any] | None = None,
        site_labels: orm.Dict | None = None,
        options: dict[str, Any] | None = None,
    ) -> Any:
        """Builder from ``protocols/na_snapshots.yaml``: NC family, Γ-only, nosym, a band
        window of ``bands_below``/``bands_above`` the highest occupied band."""
        inputs = cls.checked_protocol_inputs(protocol, overrides)
        structure = trajectory.get_step_structure(0)
        family = family_overrides(structure, inputs["pseudo_flavour"], inputs["dual"])
        nbnd = family["pw"]["parameters"]["SYSTEM"]["nbnd"]
        highest_occupied = nbnd - EMPTY_BANDS
        if not 0 < inputs["bands_above"] <= EMPTY_BANDS or inputs["bands_below"] < 1:
            raise ValueError(f"bands_above must be in 1..{EMPTY_BANDS}, bands_below ≥ 1")
        window = [
            highest_occupied - inputs["bands_below"] + 1,
            highest_occupied + inputs["bands_above"],
        ]
        scf = PwBaseWorkChain.get_builder_from_protocol(
            code,
            structure,
            protocol=protocol,
            overrides=recursive_merge(family, inputs["scf"]),
            options=options,
        )
        scf_inputs = scf._inputs(prune=True)
        for exposed_elsewhere in ("clean_workdir", "kpoints_distance"):
            scf_inputs.pop(exposed_elsewhere, None)
        scf_inputs["pw"].pop("structure")
        kpoints = orm.KpointsData()
        kpoints.set_kpoints_mesh([1, 1, 1])
        scf_inputs["kpoints"] = kpoints
        scf_inputs["pw"]["settings"] = orm.Dict({"gamma_only": True})
        builder = cls.get_builder()
        builder.trajectory = trajectory
        builder.scf = scf_inputs
        builder.band_window = orm.List(window)
        builder.n_chains = orm.Int(inputs["n_chains"])
        if snapshots is not None:
            builder.snapshots = orm.Dict(snapshots)
        if site_labels is not None:
            builder.site_labels = site_labels
        return builder

    def results(self) -> None:
        """Assemble the NA Hamiltonian from the stored pair overlaps (calcfunction)."""
        settings = orm.Dict(
            {
                "dt_fs": self.ctx.dt_fs,
                "band_window": list(self.inputs.band_window),
                "track_states": self.inputs.track_states.value,
                "frame_indices": self.ctx.frames,
                "chains": [[self.ctx.frames[p] for p in chain] for chain in self.ctx.chains],
            }
        )
        outputs = assemble_na_hamiltonian(settings, **self.ctx.pairs)
        self.out("na_hamiltonian", outputs["na_hamiltonian"])
        self.out("na_parameters", outputs["na_parameters"])
        if "site_labels" in self.inputs:
            self.out("site_labels", self.inputs.site_labels)


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
            f"(pw.x numbering); got {bands}",
        )
    return {
        "initial": initial - first,
        "final": final - first,
        "donors": [band - first for band in donors or [initial]],
    }


def check_analysis_request(energies: np.ndarray, dt_fs: float, dynamics: dict[str, Any]) -> None:
    """Enough snapshots for the spectra (``MIN_SAMPLES``) and ≥ 100 hopping realisations."""
    from heterostructures.dynamics import DynamicsInputError, HoppingSettings
    from heterostructures.spectra import MIN_SAMPLES, required_length_fs

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


def _hopping_options(dynamics: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in dynamics.items() if key != "simulation_time_fs"}


class NaAnalysisWorkChain(JanusProtocolMixin, WorkChain):
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
        spec.outline(cls.setup, cls.run_spectra, cls.run_dynamics, cls.make_plots)
        for name in ("gap", "spectral_density", "dephasing", "populations"):
            spec.output(name, valid_type=orm.ArrayData)
        spec.output("spectral_summary", valid_type=orm.Dict, help="Peaks cm^-1, resolution, τ.")
        spec.output("dynamics_summary", valid_type=orm.Dict, help="τ_ET, τ_relax ± 1σ, flags.")
        spec.output("spectral_density_plot", valid_type=orm.SinglefileData, help="Fig. 4c.")
        spec.output("dynamics_plot", valid_type=orm.SinglefileData, help="Fig. 4d.")
        spec.exit_code(201, "ERROR_STATES", message="{error}")
        spec.exit_code(202, "ERROR_TOO_SHORT", message="{error}")
        spec.exit_code(203, "ERROR_DYNAMICS_SETTINGS", message="{error}")

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
        except NaInputError as error:
            return self.exit_codes(error.exit_code).format(error=str(error))
        self.ctx.states = orm.Dict(states)
        return None

    def run_spectra(self) -> None:
        """Gap, spectral density (flagged when unresolved) and pure dephasing."""
        outputs = gap_spectral_analysis(
            self.inputs.na_hamiltonian, self.ctx.states, self.inputs.spectra
        )
        self.out_many(outputs)

    def run_dynamics(self) -> Any:
        """Surface hopping and the τ_ET / τ_relax fits."""
        from heterostructures.dynamics import DynamicsInputError

        try:
            outputs = surface_hopping_dynamics(
                self.inputs.na_hamiltonian, self.ctx.states, self.inputs.dynamics
            )
        except DynamicsInputError as error:
            return self.exit_codes.ERROR_DYNAMICS_SETTINGS.format(error=str(error))
        self.out_many(outputs)
        return None

    def make_plots(self) -> None:
        """PNG figures like the paper's Fig. 4c and 4d."""
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
        na_hamiltonian: orm.ArrayData,
        initial_band: int,
        final_band: int,
        protocol: str | None = None,
        overrides: dict[str, Any] | None = None,
        donor_bands: list[int] | None = None,
    ) -> Any:
        """Builder from ``protocols/na_analysis.yaml`` (fast / balanced / stringent)."""
        inputs = cls.checked_protocol_inputs(protocol, overrides)
        builder = cls.get_builder()
        builder.na_hamiltonian = na_hamiltonian
        builder.initial_band = orm.Int(initial_band)
        builder.final_band = orm.Int(final_band)
        if donor_bands:
            builder.donor_bands = orm.List(donor_bands)
        builder.spectra = orm.Dict(inputs["spectra"])
        builder.dynamics = orm.Dict(inputs["dynamics"])
        return builder
