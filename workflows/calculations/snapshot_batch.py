"""``janus.snapshot_batch``: K consecutive snapshot SCFs in one job, overlaps computed on site.

One scheduler job instead of K: a shell driver (:mod:`workflows.calculations.snapshot_batch_files`)
runs pw.x on every frame in the same ``out/`` (each SCF after the first restarts from the
previous frame's wavefunctions and density, ``startingwfc``/``startingpot = 'file'``),
and after each frame the project's own overlap code (shipped with the job) writes the raw
overlap ⟨ψᵢ(t)|ψⱼ(t+dt)⟩ of the band window with the previous frame, the window energies
(eV) and the domain weights, then deletes the previous frame's wavefunctions. Only those
small files are retrieved. A job given ``parent_folder`` of a stopped (or finished) batch
copies its ``out/``, checkpoints and results: frames with results are skipped and the
next SCF restarts from the last finished frame, whose overlap with this batch's first
frame is then computed too.
"""

from __future__ import annotations

import json
from typing import Any

from aiida import orm
from aiida.common import CalcInfo
from aiida.engine import CalcJob
from aiida.orm.nodes.data.upf import UpfData as LegacyUpfData
from aiida_pseudo.data.pseudo import UpfData
from aiida_quantumespresso.calculations.pw import PwCalculation
from aiida_quantumespresso.workflows.protocols.utils import recursive_merge

from workflows.calculations.snapshot_batch_files import (
    CONFIG_FILE,
    DRIVER_FILE,
    DRIVER_LOG,
    driver_script,
    shipped_files,
)
from workflows.calculations.snapshot_batch_remote import CHECKPOINTS, RESULTS, frame_name

PREFIX = PwCalculation._PREFIX
RESTART = {"ELECTRONS": {"startingwfc": "file", "startingpot": "file"}}


def validate_batch(inputs: dict[str, Any], _: Any) -> str | None:
    """Reject a batch that cannot run, before anything is uploaded (a message saying why)."""
    trajectory, frames = inputs.get("trajectory"), inputs.get("frames")
    if trajectory is None or frames is None:
        return None
    indices = list(frames)
    if not indices or not all(isinstance(i, int) for i in indices):
        return "frames: give a non-empty list of trajectory frame indices (integers)"
    if not all(0 <= i < trajectory.numsteps for i in indices):
        return f"frames {indices} outside the trajectory's 0..{trajectory.numsteps - 1}"
    settings = inputs["settings"].get_dict() if "settings" in inputs else {}
    window = settings.get("band_window")
    system = inputs["parameters"].get_dict().get("SYSTEM", {})
    nbnd = system.get("nbnd")
    if not isinstance(window, list) or len(window) != 2 or nbnd is None:
        return "settings.band_window (first, last; 1-based) and parameters.SYSTEM.nbnd are needed"
    if not 1 <= int(window[0]) <= int(window[1]) <= int(nbnd):
        return f"settings.band_window {window} is outside the computed bands 1..{nbnd}"
    if system.get("nspin", 1) != 1 or system.get("noncolin", False):
        return "parameters.SYSTEM: spin-unpolarised runs only (nspin 1, no noncolin)"
    labels = inputs.get("site_labels")
    if labels is not None and len(labels.get_dict().get("domain", [])) != trajectory.numsites:
        return f"site_labels: need one domain label per site ({trajectory.numsites})"
    return None


class SnapshotBatchCalculation(CalcJob):
    """pw.x SCF on K consecutive trajectory frames in one job; per-frame overlaps retrieved."""

    CACHE_VERSION = 1
    """In AiiDA's cache hash (a CalcJob's ``version`` attribute is not): bump it when what a
    job retrieves or its parser outputs change, so an older job is not reused for the same
    inputs. 1 (0.13.1): ``frame_facts`` carry ``number_of_electrons``."""

    @classmethod
    def define(cls, spec: Any) -> None:
        """Frames, pw.x inputs, band window settings, optional labels and parent; outputs."""
        super().define(spec)
        spec.input("trajectory", valid_type=orm.TrajectoryData, help="janus.aimd trajectory.")
        spec.input("frames", valid_type=orm.List, help="Trajectory indices of the K frames.")
        spec.input(
            "first_position",
            valid_type=orm.Int,
            default=lambda: orm.Int(0),
            help="Snapshot position of frames[0] in the whole series (names files and pairs).",
        )
        spec.input("parameters", valid_type=orm.Dict, help="pw.x namelists (an SCF).")
        spec.input_namespace("pseudos", valid_type=(LegacyUpfData, UpfData), dynamic=True)
        spec.input("kpoints", valid_type=orm.KpointsData, help="Γ for gamma tricks.")
        spec.input(
            "settings",
            valid_type=orm.Dict,
            help="band_window (1-based); optional gamma_only (pw.x Γ tricks), orthonormalize "
            "(PAW), python (remote interpreter), max_seconds (stop before this budget, s), "
            "gauge_frames (positions whose gauge fingerprint is kept).",
        )
        spec.input("site_labels", valid_type=orm.Dict, required=False)
        spec.input("parent_folder", valid_type=orm.RemoteData, required=False)
        spec.inputs.validator = validate_batch
        spec.inputs["metadata"]["options"]["parser_name"].default = "janus.snapshot_batch"
        spec.inputs["metadata"]["options"]["input_filename"].default = CONFIG_FILE
        spec.inputs["metadata"]["options"]["output_filename"].default = DRIVER_LOG
        spec.output_namespace("pairs", valid_type=orm.ArrayData, dynamic=True, required=False)
        spec.output_namespace("gauges", valid_type=orm.ArrayData, dynamic=True, required=False)
        spec.output("frame_facts", valid_type=orm.Dict, help="Per frame: SCF facts, seconds.")
        spec.exit_code(350, "ERROR_NO_RESULTS", message="no frame finished: {log}")
        spec.exit_code(
            351, "ERROR_INCOMPLETE_BATCH", message="frames {missing} unfinished (resumable): {log}"
        )
        spec.exit_code(352, "ERROR_SCF_NOT_CONVERGED", message="SCF not converged at {frames}")
        spec.exit_code(353, "ERROR_CUTOFF_MISMATCH", message="{error}")

    @property
    def positions(self) -> list[int]:
        """Snapshot positions of this batch's frames."""
        first = self.inputs.first_position.value
        return [first + offset for offset in range(len(self.inputs.frames))]

    def _frame_input(self, index: int, restart: bool) -> tuple[str, list[Any]]:
        parameters = recursive_merge(
            self.inputs.parameters.get_dict(),
            {"CONTROL": {"calculation": "scf", "restart_mode": "from_scratch"}},
        )
        if restart:
            parameters = recursive_merge(parameters, RESTART)
        structure = self.inputs.trajectory.get_step_structure(index)
        gamma = {"GAMMA_ONLY": bool(self.inputs.settings.get_dict().get("gamma_only", False))}
        text, copies = PwCalculation._generate_pwcp_inputdata(
            orm.Dict(parameters), gamma, self.inputs.pseudos, structure, self.inputs.kpoints
        )
        return text, copies

    def _config(self) -> dict[str, Any]:
        settings = self.inputs.settings.get_dict()
        config: dict[str, Any] = {
            "prefix": PREFIX,
            "band_window": [int(b) for b in settings["band_window"]],
            "orthonormalize": bool(settings.get("orthonormalize", False)),
            "site_labels": None,
            "gauge_frames": [int(p) for p in settings.get("gauge_frames", [])],
        }
        if "site_labels" in self.inputs:
            labels = self.inputs.site_labels.get_dict()
            config["site_labels"] = {"domain": labels["domain"], "layer": labels["layer"]}
            trajectory = self.inputs.trajectory
            config["fractional_z"] = {
                str(position): trajectory.get_step_structure(index)
                .get_ase()
                .get_scaled_positions(wrap=False)[:, 2]
                .tolist()
                for position, index in zip(self.positions, self.inputs.frames, strict=True)
            }
        return config

    def _pw_command(self) -> list[str]:
        """How the driver starts pw.x: the code's executable, through mpirun when asked."""
        code, computer = self.inputs.code, self.node.computer
        prefix: list[str] = []
        with_mpi = self.node.get_option("withmpi") if code.with_mpi is None else code.with_mpi
        if with_mpi and computer is not None:
            resources = dict(self.node.get_option("resources") or {})
            job_resource = computer.get_scheduler().create_job_resource(**resources)
            substitutions = {
                "tot_num_mpiprocs": job_resource.get_tot_num_mpiprocs(),
                "num_machines": resources.get("num_machines", 1),
                "num_mpiprocs_per_machine": resources.get("num_mpiprocs_per_machine", 1),
            }
            mpi = [arg.format(**substitutions) for arg in computer.get_mpirun_command()]
            extra = self.node.get_option("mpirun_extra_params") or []
            prefix = list(code.get_prepend_cmdline_params(mpi, extra))
        return [*prefix, *code.get_executable_cmdline_params([])]

    def prepare_for_submission(self, folder: Any) -> CalcInfo:
        """K pw.x inputs, the config, the driver and the shipped modules; copy the parent."""
        parent = self.inputs.get("parent_folder")
        local_copies: dict[str, Any] = {}
        for offset, (position, index) in enumerate(
            zip(self.positions, self.inputs.frames, strict=True)
        ):
            text, copies = self._frame_input(index, restart=offset > 0 or parent is not None)
            folder.create_file_from_filelike(_text(text), f"{frame_name(position)}.in", "w")
            local_copies.update({copy[2]: copy for copy in copies})
        for relative, text in {**shipped_files(), CONFIG_FILE: json.dumps(self._config())}.items():
            folder.get_subfolder(relative.rpartition("/")[0] or ".", create=True)
            folder.create_file_from_filelike(_text(text), relative, "w")
        settings = self.inputs.settings.get_dict()
        script = driver_script(
            self.positions,
            self._pw_command(),
            settings.get("python", "python3"),
            float(settings.get("max_seconds", 0.0)),
            PREFIX,
        )
        folder.create_file_from_filelike(_text(script), DRIVER_FILE, "w")
        for name in ("pseudo", "out", CHECKPOINTS, RESULTS):
            folder.get_subfolder(name, create=True)
        calcinfo = CalcInfo()
        calcinfo.codes_info = []
        calcinfo.append_text = f"bash {DRIVER_FILE} > {DRIVER_LOG} 2>&1"
        calcinfo.local_copy_list = list(local_copies.values())
        calcinfo.remote_copy_list = _parent_copies(parent)
        calcinfo.retrieve_list = [DRIVER_LOG, *self._result_files()]
        return calcinfo

    def _result_files(self) -> list[Any]:
        return [
            f"{RESULTS}/{frame_name(position)}.{suffix}"
            for position in self.positions
            for suffix in ("npz", "json")
        ]


def _text(text: str) -> Any:
    import io

    return io.StringIO(text)


def _parent_copies(parent: orm.RemoteData | None) -> list[tuple[str, str, str]]:
    """``out/`` of any parent; also checkpoints and results of a parent batch."""
    if parent is None:
        return []
    creator = parent.creator
    is_batch = creator is not None and creator.process_type == (
        SnapshotBatchCalculation.build_process_type()
    )
    folders = ("out", CHECKPOINTS, RESULTS) if is_batch else ("out",)
    path, computer = parent.get_remote_path(), parent.computer
    if computer is None:
        raise ValueError("parent_folder has no computer: give the RemoteData of a finished job")
    return [(computer.uuid, f"{path}/{name}/*", f"{name}/") for name in folders]
