"""``janus.na_snapshots``: the NA Hamiltonian from SCF runs on trajectory snapshots.

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

``janus.na_analysis`` (:mod:`workflows.workchains.na_analysis`, re-exported here) turns the NA
Hamiltonian into the paper's Fig. 4c/4d. The request checks live in
:mod:`workflows.inputs.na_requests`.
"""

from __future__ import annotations

from typing import Any

from aiida import orm
from aiida.common import AttributeDict
from aiida.engine import ToContext, WorkChain, while_
from aiida_quantumespresso.workflows.protocols.utils import recursive_merge
from aiida_quantumespresso.workflows.pw.base import PwBaseWorkChain

from heterostructures.dynamics.nac import SnapshotMismatchError, check_same_cutoff
from heterostructures.io.wavefunctions import BandWindowError
from heterostructures.units import RYDBERG_EV
from workflows.calcfunctions.na import (
    assemble_na_hamiltonian,
    snapshot_pair_overlap,
    trajectory_frame,
)
from workflows.engine.stranded import SealsStrandedChildren
from workflows.inputs.cutoff_floors import with_ecutrho
from workflows.inputs.na_batches import (
    batch_layout,
    batches_left,
    empty_remote_folder,
    frames_per_job,
    inspect_batches,
    submit_batches,
)
from workflows.inputs.na_requests import (
    NaInputError,
    carrier_band_window,
    chain_layout,
    check_band_window,
    check_carrier_window,
    check_fixed_cell,
    check_spin_unpolarised,
    selected_frames,
    snapshot_highest_occupied,
    snapshot_spacing_fs,
)
from workflows.inputs.pw_builders import (
    EMPTY_BANDS,
    family_overrides,
    per_atom_conv_thr_given,
    restart_once_on_unhandled_failure,
    system_namelist,
    use_gamma_tricks,
    with_dipole_correction,
)
from workflows.inputs.site_labels import LabelError, check_labels
from workflows.protocols import JanusProtocolMixin, namespace_inputs
from workflows.workchains.na_analysis import NaAnalysisWorkChain as NaAnalysisWorkChain

PW_PREFIX = "aiida"


def _key(position: int) -> str:
    return f"snapshot_{position:04d}"


def _gamma_only(scf_inputs: dict[str, Any]) -> dict[str, Any]:
    """PwBaseWorkChain protocol inputs → the exposed ``scf`` namespace: Γ-only with pw.x's
    Gamma tricks (:func:`use_gamma_tricks`); structure and clean_workdir removed."""
    scf_inputs.pop("clean_workdir", None)
    scf_inputs["pw"].pop("structure")
    return use_gamma_tricks(scf_inputs)


EXIT_CODES = (
    (201, "ERROR_EMPTY_SELECTION", "no snapshot selected: {error}"),
    (202, "ERROR_TRAJECTORY_TOO_SHORT", "{error}"),
    (203, "ERROR_BAND_WINDOW", "{error}"),
    (204, "ERROR_TIME_STEP", "{error}"),
    (205, "ERROR_VARIABLE_CELL", "{error}"),
    (206, "ERROR_CHAINS", "{error}"),
    (207, "ERROR_SPIN_POLARISED", "{error}"),
    (208, "ERROR_SITE_LABELS", "{error}"),
    (209, "ERROR_ODD_ELECTRONS", "{error}"),
    (301, "ERROR_CUTOFF_MISMATCH", "{error}"),
    (302, "ERROR_SNAPSHOT_MISMATCH", "snapshots {pair} cannot be overlapped: {error}"),
    (
        401,
        "ERROR_SNAPSHOT_SCF_FAILED",
        "SCF of snapshot {position} (frame {frame}, "
        "PwBaseWorkChain<{pk}>) failed with exit {status}: see its report",
    ),
)


class NaSnapshotsWorkChain(SealsStrandedChildren, JanusProtocolMixin, WorkChain):
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
        spec.input(
            "carrier",
            valid_type=orm.Str,
            default=lambda: orm.Str("electron"),
            help="'electron' (window from the LUMO up) or 'hole' (from the HOMO down).",
        )
        spec.input("dt_fs", valid_type=orm.Float, required=False, help="Snapshot spacing (fs).")
        spec.input("n_chains", valid_type=orm.Int, default=lambda: orm.Int(1))
        per_job = "K > 0: K frames per janus.snapshot_batch job; 0: a CalcJob per snapshot."
        spec.input("frames_per_job", valid_type=orm.Int, default=lambda: orm.Int(0), help=per_job)
        spec.input("track_states", valid_type=orm.Bool, default=lambda: orm.Bool(True))
        spec.input("clean_workdir", valid_type=orm.Bool, default=lambda: orm.Bool(True))
        spec.input(
            "site_labels",
            valid_type=orm.Dict,
            required=False,
            help="Interface labels: per-snapshot domain weights of the window bands; passed on.",
        )
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
        for status, label, message in EXIT_CODES:
            spec.exit_code(status, label, message=message)

    def setup(self) -> Any:
        """Check the request (2xx before any SCF) and lay out the chains."""
        trajectory = self.inputs.trajectory
        selection = self.inputs.snapshots.get_dict() if "snapshots" in self.inputs else {}
        dt_fs = self.inputs.dt_fs.value if "dt_fs" in self.inputs else None
        try:
            frames = selected_frames(trajectory, selection)
            self.ctx.dt_fs = snapshot_spacing_fs(trajectory, frames, dt_fs)
            check_fixed_cell(trajectory, frames)
            parameters = self.inputs.scf.pw.parameters.get_dict()
            check_spin_unpolarised(parameters)
            check_band_window(list(self.inputs.band_window), parameters)
            homo = snapshot_highest_occupied(
                trajectory.get_step_structure(0), self.inputs.scf.pw.pseudos, parameters
            )
            check_carrier_window(list(self.inputs.band_window), self.inputs.carrier.value, homo)
            self.ctx.chains = chain_layout(len(frames), self.inputs.n_chains.value)
            per_job = self.inputs.frames_per_job.value
            self.ctx.batches = batch_layout(self.ctx.chains, per_job) if per_job > 0 else None
            if "site_labels" in self.inputs:
                check_labels(self.inputs.site_labels.get_dict(), trajectory.numsites)
        except LabelError as error:
            return self.exit_codes.ERROR_SITE_LABELS.format(error=str(error))
        except NaInputError as error:
            return self.exit_codes(error.exit_code).format(error=str(error))
        self.ctx.frames = frames
        self.ctx.round = 0
        self.ctx.remotes = {}
        self.ctx.pairs = {}
        self.ctx.cleaned = []
        self.ctx.reference_cutoff = None
        if self.ctx.batches is not None:
            count = len(self.ctx.batches)
            self.ctx.batch_step, self.ctx.batch_resumes = [0] * count, [0] * count
            self.ctx.batch_parent = [None] * count
        self.report(f"{len(frames)} snapshots, dt {self.ctx.dt_fs:g} fs, chains {self.ctx.chains}")
        return None

    def has_rounds_left(self) -> bool:
        """True while some chain has a snapshot (or a batch) left."""
        if self.ctx.batches is not None:
            return batches_left(self.ctx)
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
        with_dipole_correction(inputs.pw, inputs.pw.structure)
        inputs.metadata = {"call_link_label": f"scf_{position:04d}"}
        return inputs

    def run_round(self) -> Any:
        """Submit the next snapshot of every chain, each restarting from its predecessor."""
        if self.ctx.batches is not None:
            futures = submit_batches(self)
            self.ctx.submitted = list(futures)
            return ToContext(**futures)
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
        if self.ctx.batches is not None:
            return inspect_batches(self, self.ctx.submitted)
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
        cutoff_ry = node.outputs.output_parameters["wfc_cutoff"] / RYDBERG_EV  # parser: eV
        if self.ctx.reference_cutoff is None:
            self.ctx.reference_cutoff = cutoff_ry
        try:
            check_same_cutoff(cutoff_ry, self.ctx.reference_cutoff, f"snapshot {position}")
        except SnapshotMismatchError as error:
            return self.exit_codes.ERROR_CUTOFF_MISMATCH.format(error=str(error))
        self.ctx.remotes[_key(position)] = node.outputs.remote_folder
        return None

    def _overlap(self, position: int) -> Any:
        settings = orm.Dict({"band_window": list(self.inputs.band_window), "prefix": PW_PREFIX})
        bra, ket = (self.ctx.remotes[_key(p)] for p in (position, position + 1))
        domains = {}
        if "site_labels" in self.inputs:
            domains = {
                f"{side}_structure": self.ctx[_key(p)].inputs.pw.structure
                for side, p in (("bra", position), ("ket", position + 1))
            }
            domains["site_labels"] = self.inputs.site_labels
        try:
            pair = snapshot_pair_overlap(bra, ket, settings, **domains)
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
                empty_remote_folder(calculation.outputs["remote_folder"])
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
        """Builder from ``protocols/na_snapshots.yaml``: NC family, Γ-only, nosym, the band
        window of ``carrier`` (``electron_bands`` up from the LUMO, ``hole_bands`` down from the
        HOMO); a caller's per-atom ``conv_thr`` wins (:func:`per_atom_conv_thr_given`)."""
        inputs = cls.checked_protocol_inputs(protocol, overrides)
        structure, scf_given = trajectory.get_step_structure(0), (overrides or {}).get("scf")
        family = family_overrides(structure, inputs["pseudo_flavour"], inputs["dual"])
        given = with_ecutrho(per_atom_conv_thr_given(inputs["scf"], scf_given), inputs["dual"])
        scf = PwBaseWorkChain.get_builder_from_protocol(
            code,
            structure,
            protocol=protocol,
            overrides=recursive_merge(family, given),
            options=options,
        )
        parameters = scf.pw.parameters.get_dict()
        homo = snapshot_highest_occupied(structure, scf.pw.pseudos, parameters)
        if "nbnd" not in system_namelist(given.get("pw", {}).get("parameters", {})):
            parameters["SYSTEM"]["nbnd"] = homo + EMPTY_BANDS  # the family's is uncharged
            scf.pw.parameters = orm.Dict(parameters)
        nbnd, carrier = system_namelist(parameters)["nbnd"], inputs["carrier"]
        window = carrier_band_window(homo, nbnd - homo, carrier, inputs.get(f"{carrier}_bands", 0))
        builder = cls.get_builder()
        builder.trajectory = trajectory
        builder.scf = restart_once_on_unhandled_failure(_gamma_only(namespace_inputs(scf)))
        builder.band_window = orm.List(window)
        builder.carrier = orm.Str(carrier)
        builder.n_chains = orm.Int(inputs["n_chains"])
        if inputs.get("batched", False):
            seconds = (inputs["batch_walltime_seconds"], inputs["seconds_per_snapshot"])
            builder.frames_per_job = orm.Int(frames_per_job(*seconds))
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
