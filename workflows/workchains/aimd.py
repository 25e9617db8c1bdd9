"""``janus.aimd``: restartable ab initio MD with pw.x, heated with a thermostat, then NVE.

The run is a chain of ``PwBaseWorkChain`` chunks of ``calculation='md'``. Measured with
pw.x 6.7 (tests/fixtures/qe67_md_cds_nve): ATOMIC_VELOCITIES is ignored and no velocities
are printed, so continuity comes from QE's own restart files: every chunk after the first
runs ``restart_mode='restart'`` with the previous calculation's remote folder as
``parent_folder`` (aiida-quantumespresso copies ``out/`` with ``aiida.md`` and
``aiida.save``); pw.x then ignores the input positions and counts ``nstep`` as *new*
steps. A 5 + 5 split reproduces a 10-step run to 2e-7 Å. A job that hits its walltime
stops cleanly through ``max_seconds`` (set by ``PwBaseWorkChain``) and is resumed, not
restarted: the base workchain restarts it in full, and the next chunk is sized from the
steps actually done. Velocities are derived from positions (see
``heterostructures.io.pw_md_output``); every step's stdout is parsed by our parser, which
re-aligns energies, forces and positions by step (aiida-quantumespresso's trajectory is
off by one step for MD and has no kinetic energy or temperature).

Thermostats (QE ``ion_temperature``) verified to run in 6.7: 'rescaling' (only acts when
|T − tempw| > tolp, 100 K by default), 'berendsen' (default here), 'andersen', 'svr'; each
draws initial velocities at ``tempw`` on the first chunk. Production chunks run
'not_controlled' (NVE); an NVE run without heating starts with 'initial'.

'equipartition' (the pipeline's ``fast`` choice) uses no thermostat: the first chunk
draws velocities at 2T ('initial', ``tempw`` = 2T) and the system evolves freely. Why: a
relaxed structure starts at its energy minimum, and in a (near-)harmonic solid the
kinetic energy given at t = 0 ends up shared equally with the potential energy, so a 2T
start settles at T. A thermostat at T instead holds the kinetic energy at T while the
potential energy lags behind; its heat is only fully taken up after the slowest modes'
period (Pb–Br modes, 300–500 fs). Measured on the demo model: 20 fs of Berendsen at
300 K gave a 100 fs NVE mean of 208 ± 33 K. For long equilibrations (``balanced``,
``stringent``: 0.5–1 ps) Berendsen is fine. The diagnostics output says whether the NVE
mean temperature is within 15 % of the target and the run is stationary (the two halves
of the NVE agree in T and mean potential energy within 15 %: ``thermalised``), and the
workchain reports it when not.

Production protocol for 5 ps on a cluster (``protocol='stringent'``: 1 ps Berendsen at
300 K + 5 ps NVE, 1 fs, 24 h jobs). Cost scaled from measured numbers: the 26-atom
CsPbBr3/CdS interface takes ≈ 57 s per SCF iteration on 2 cores here (Γ, 40/320 Ry); an MD
step re-uses the previous density and needs ≈ 8–12 iterations, i.e. ≈ 8–10 min per step on
2 cores, ≈ 30 s per step on one 64-core node (≈ 20× from cores). 6000 steps × 30 s ≈ 50 h
≈ 3 jobs of 24 h (≈ 3200 core-hours); on this 2-core machine the same run would take
≈ 40 days, so ``fast`` runs 10 + 40 fs (the pipeline's ``fast``: 20 + 100 fs of the 13-atom
model with NC 30 Ry, measured 10.5 s per step on 2 loaded cores) and says so. Measure
``seconds_per_step`` on the first chunk and pass it back in for better chunk sizes.

Cheaper steps and per-step gaps (issue 24; protocol ``md`` defaults in
``protocols/aimd.yaml``): every chunk asks for second-order potential and wavefunction
extrapolation (QE 6.7 applies them only to MD; the history files ``prefix.oldwfc``,
``prefix.old2wfc`` and the old densities sit in ``out/``, which a restart chunk copies, so
extrapolation carries across chunks). ``empty_bands`` sets ``nbnd`` so that the energies
pw.x prints after every step's SCF include the LUMO+n states of the NA window
(``band_energies`` output; empty states converged like occupied ones with
``diago_full_acc``). ``max_drift_ev_per_atom_per_ps`` is the protocol's bound on the NVE
drift: a larger drift is flagged in the diagnostics and reported with the fix (a smaller
``timestep_fs``). Measured speed-up and drifts: docs/measurements.md.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from aiida import orm
from aiida.common import AttributeDict
from aiida.engine import ToContext, WorkChain, while_
from aiida_quantumespresso.workflows.pw.base import PwBaseWorkChain

from heterostructures.dynamics.md_units import (
    fs_to_rydberg_time,
    plan_chunks,
)
from heterostructures.io.pw_md_output import (
    TrajectoryError,
    parse_pw_md_stdout,
)
from workflows.calcfunctions.md_merge import STDOUT_NAME, fixed_coordinate_count, merge_md_chunks
from workflows.engine.stranded import SealsStrandedChildren
from workflows.inputs.aimd_checks import THERMOSTATS, validate_aimd_inputs
from workflows.inputs.pw_builders import (
    cutoffs_from_dual,
    insulator_bands,
    restart_once_on_unhandled_failure,
    with_dipole_correction,
)
from workflows.inputs.slab_kpoints import with_slab_kpoints
from workflows.protocols import JanusProtocolMixin, namespace_inputs

EQUIPARTITION_FACTOR = 2.0
"""'equipartition' draws the first velocities at this multiple of the target temperature."""


class AimdWorkChain(SealsStrandedChildren, JanusProtocolMixin, WorkChain):
    """Heat/equilibrate with a thermostat, then NVE, in restartable walltime-sized chunks."""

    _protocol_file = "aimd.yaml"

    @classmethod
    def define(cls, spec: Any) -> None:
        """Inputs (K, fs, s), outline, outputs and exit codes."""
        super().define(spec)
        spec.expose_inputs(
            PwBaseWorkChain,
            namespace="md",
            exclude=("clean_workdir", "pw.structure", "pw.parent_folder"),
            namespace_options={"help": "Inputs of the PwBaseWorkChain run for every MD chunk."},
        )
        spec.input("structure", valid_type=orm.StructureData, help="Starting structure (Å).")
        spec.input("temperature", valid_type=orm.Float, help="Target temperature (K).")
        spec.input("timestep_fs", valid_type=orm.Float, help="MD time step (fs).")
        spec.input("thermostat", valid_type=orm.Str, help=f"Heating thermostat: {THERMOSTATS}.")
        spec.input("equilibration_time_fs", valid_type=orm.Float, help="Thermostat time (fs).")
        spec.input("production_time_fs", valid_type=orm.Float, help="NVE time (fs).")
        spec.input("max_walltime_seconds", valid_type=orm.Int, help="Walltime per job (s).")
        spec.input("seconds_per_step", valid_type=orm.Float, help="Estimated time per step (s).")
        spec.input("setup_seconds", valid_type=orm.Float, help="pw.x start-up per job (s).")
        spec.input("snapshot_stride", valid_type=orm.Int, help="Every n-th NVE frame for NA.")
        spec.input(
            "snapshot_window_fs",
            valid_type=orm.Float,
            required=False,
            help="NA snapshots only in the first this many fs of NVE (default: all of it); "
            "the gap series still uses the whole NVE when the MD prints the bands.",
        )
        spec.input(
            "max_drift_ev_per_atom_per_ps",
            valid_type=orm.Float,
            required=False,
            help="Largest |NVE drift| accepted for the time step (eV/atom/ps); flagged above.",
        )
        spec.input(
            "empty_bands",
            valid_type=orm.Int,
            required=False,
            help="Empty bands per MD step (nbnd = occupied + this), for the per-step gaps.",
        )
        spec.inputs.validator = validate_aimd_inputs
        spec.outline(
            cls.setup,
            while_(cls.has_steps_left)(cls.run_chunk, cls.inspect_chunk),
            cls.merge,
        )
        cls._define_outputs(spec)

    @classmethod
    def _define_outputs(cls, spec: Any) -> None:
        """Outputs (trajectory, diagnostics, snapshots, band energies) and exit codes."""
        spec.output("trajectory", valid_type=orm.TrajectoryData, help="All steps, with velocities.")
        spec.output("diagnostics", valid_type=orm.Dict, help="NVE drift (eV/atom/ps), T mean/std.")
        spec.output(
            "md_plot",
            valid_type=orm.SinglefileData,
            required=False,
            help="T and energies against time, NVE start and target T marked (PNG).",
        )
        spec.output("snapshots", valid_type=orm.Dict, help="NVE frames selected for the NA step.")
        spec.output(
            "band_energies",
            valid_type=orm.ArrayData,
            required=False,
            help="Kohn-Sham energies of every MD step (step x k-point x band, eV).",
        )
        spec.exit_code(
            401,
            "ERROR_CHUNK_FAILED",
            message="MD chunk {index} failed without completing a new step: see its "
            "PwBaseWorkChain report (SCF convergence, walltime below one step, restart files).",
        )
        spec.exit_code(
            301,
            "ERROR_TRAJECTORY_INCONSISTENT",
            message="the chunks do not form one continuous trajectory: {error}",
        )

    @classmethod
    def get_builder_from_protocol(
        cls,
        code: orm.AbstractCode,
        structure: orm.StructureData,
        protocol: str | None = None,
        overrides: dict[str, Any] | None = None,
        pseudo_family: str | None = None,
        **kwargs: Any,
    ) -> Any:
        """Builder from ``protocols/aimd.yaml``; ``md`` uses PwBaseWorkChain's protocol with
        our cutoff rule (``ecutrho`` = ``dual`` × ``ecutwfc``, :func:`cutoffs_from_dual`) for
        ``pseudo_family``, as every other janus step."""
        inputs = cls.get_protocol_inputs(protocol, overrides)
        md_overrides = dict(inputs.get("md", {}))
        if pseudo_family is not None:
            md_overrides["pseudo_family"] = pseudo_family
        if "pseudo_family" in md_overrides:
            md_overrides = cutoffs_from_dual(
                md_overrides, structure, md_overrides["pseudo_family"], inputs["dual"]
            )
        md_protocol = protocol if protocol in ("fast", "balanced", "stringent") else None
        md = PwBaseWorkChain.get_builder_from_protocol(
            code, structure, protocol=md_protocol, overrides=md_overrides, **kwargs
        )
        md.pop("clean_workdir", None)
        md.pw.pop("structure", None)
        # A fixed-cell MD never uses the stress, and pw.x would compute it at every step.
        parameters = md.pw.parameters.get_dict()
        parameters.setdefault("CONTROL", {})["tstress"] = False
        md.pw.parameters = orm.Dict(parameters)
        restart_once_on_unhandled_failure(md)
        builder = cls.get_builder()
        builder.md = namespace_inputs(md)
        builder.structure = structure
        for name, node_type in (
            ("temperature", orm.Float),
            ("timestep_fs", orm.Float),
            ("thermostat", orm.Str),
            ("equilibration_time_fs", orm.Float),
            ("production_time_fs", orm.Float),
            ("max_walltime_seconds", orm.Int),
            ("seconds_per_step", orm.Float),
            ("setup_seconds", orm.Float),
            ("snapshot_stride", orm.Int),
            ("snapshot_window_fs", orm.Float),
            ("max_drift_ev_per_atom_per_ps", orm.Float),
            ("empty_bands", orm.Int),
        ):
            if name in inputs:
                builder[name] = node_type(inputs[name])
        return builder

    def setup(self) -> None:
        """Steps per phase and per job, from the requested times and the walltime."""
        dt = self.inputs.timestep_fs.value
        self.ctx.equilibration_steps = round(self.inputs.equilibration_time_fs.value / dt)
        self.ctx.total_steps = self.ctx.equilibration_steps + max(
            1, round(self.inputs.production_time_fs.value / dt)
        )
        plan = plan_chunks(
            self.ctx.total_steps,
            self.inputs.max_walltime_seconds.value,
            self.inputs.seconds_per_step.value,
            self.inputs.setup_seconds.value,
        )
        self.ctx.steps_per_chunk = plan.steps_per_chunk
        self.ctx.steps_done = 0
        self.ctx.retrieved = {}
        self.ctx.parent_folder = None
        self.ctx.n_chunks = 0
        self.report(f"{plan.total_steps} MD steps in about {plan.n_chunks} job(s)")

    def has_steps_left(self) -> bool:
        """True until equilibration + production steps are done."""
        return bool(self.ctx.steps_done < self.ctx.total_steps)

    def _chunk_parameters(self, nstep: int) -> dict[str, Any]:
        parameters = self.inputs.md.pw.parameters.get_dict()
        control = parameters.setdefault("CONTROL", {})
        control.update(
            calculation="md",
            dt=fs_to_rydberg_time(self.inputs.timestep_fs.value),
            nstep=nstep,
            restart_mode="restart" if self.ctx.parent_folder else "from_scratch",
        )
        system = parameters.setdefault("SYSTEM", {})
        system["nosym"] = True
        if "empty_bands" in self.inputs and "nbnd" not in system:
            system["nbnd"] = insulator_bands(
                self.inputs.structure, self.inputs.md.pw.pseudos, self.inputs.empty_bands.value
            )
        ions = parameters.setdefault("IONS", {})
        heating = self.ctx.steps_done < self.ctx.equilibration_steps
        thermostat = self.inputs.thermostat.value
        ions["tempw"] = self.inputs.temperature.value
        if self.ctx.parent_folder is None and (thermostat == "equipartition" or not heating):
            # The first chunk draws the velocities: at 2T for 'equipartition' (see module
            # docstring), at T for an NVE run without heating.
            ions["ion_temperature"] = "initial"
            if thermostat == "equipartition" and heating:
                ions["tempw"] = EQUIPARTITION_FACTOR * self.inputs.temperature.value
        elif heating and thermostat != "equipartition":
            ions["ion_temperature"] = thermostat
        else:
            ions["ion_temperature"] = "not_controlled"
        return parameters

    def run_chunk(self) -> Any:
        """Submit the next chunk; it stops at the phase boundary or the job's step budget."""
        done = self.ctx.steps_done
        boundary = (
            self.ctx.equilibration_steps
            if done < self.ctx.equilibration_steps
            else self.ctx.total_steps
        )
        nstep = min(self.ctx.steps_per_chunk, boundary - done)
        inputs = AttributeDict(self.exposed_inputs(PwBaseWorkChain, namespace="md"))
        inputs.pw.structure = self.inputs.structure
        inputs.pw.parameters = orm.Dict(self._chunk_parameters(nstep))
        with_dipole_correction(inputs.pw, self.inputs.structure)
        with_slab_kpoints(inputs, self.inputs.structure)
        inputs.pw.metadata.options.max_wallclock_seconds = self.inputs.max_walltime_seconds.value
        if self.ctx.parent_folder is not None:
            inputs.pw.parent_folder = self.ctx.parent_folder
        inputs.metadata = {"call_link_label": f"chunk_{self.ctx.n_chunks:03d}"}
        self.ctx.n_chunks += 1
        self.report(f"chunk {self.ctx.n_chunks}: steps {done}–{done + nstep - 1}")
        return ToContext(chunk=self.submit(PwBaseWorkChain, **inputs))

    def inspect_chunk(self) -> Any:
        """Collect every calculation of the chunk (resumed ones too) and count steps done."""
        calculations = sorted(
            (n for n in self.ctx.chunk.called if isinstance(n, orm.CalcJobNode)),
            key=lambda node: node.ctime,
        )
        last_step = self.ctx.steps_done - 1
        cell = np.array(self.inputs.structure.cell)
        for calculation in calculations:
            if "retrieved" not in calculation.outputs:
                continue
            retrieved = calculation.outputs.retrieved
            try:
                stdout = retrieved.base.repository.get_object_content(STDOUT_NAME, mode="r")
                chunk = parse_pw_md_stdout(stdout, len(self.inputs.structure.sites), cell)
            except (OSError, TrajectoryError):
                continue
            self.ctx.retrieved[f"calc_{len(self.ctx.retrieved):04d}"] = retrieved
            last_step = max(last_step, int(chunk.steps[-1]))
            if "remote_folder" in calculation.outputs:
                self.ctx.parent_folder = calculation.outputs.remote_folder
        if last_step + 1 <= self.ctx.steps_done:
            return self.exit_codes.ERROR_CHUNK_FAILED.format(index=self.ctx.n_chunks)
        self.ctx.steps_done = last_step + 1
        return None

    def _optional_settings(self) -> dict[str, float]:
        """The drift bound and the snapshot window, only when given (cache hashes unchanged)."""
        names = ("max_drift_ev_per_atom_per_ps", "snapshot_window_fs")
        return {name: self.inputs[name].value for name in names if name in self.inputs}

    def merge(self) -> Any:
        """Merge all chunks in a calcfunction (provenance) and attach the outputs."""
        settings = orm.Dict(
            {
                "timestep_fs": self.inputs.timestep_fs.value,
                "production_start_fs": self.ctx.equilibration_steps * self.inputs.timestep_fs.value,
                "snapshot_stride": self.inputs.snapshot_stride.value,
                "n_fixed_coordinates": fixed_coordinate_count(self.inputs.md.pw.get("settings")),
                "target_temperature_k": self.inputs.temperature.value,
            }
            | self._optional_settings()
        )
        try:
            outputs = merge_md_chunks(self.inputs.structure, settings, **self.ctx.retrieved)
        except TrajectoryError as error:
            return self.exit_codes.ERROR_TRAJECTORY_INCONSISTENT.format(error=str(error))
        for name, node in outputs.items():
            self.out(name, node)
        diagnostics = outputs["diagnostics"].get_dict()
        if not diagnostics.get("drift_within_bound", True):
            self.report(diagnostics["drift_note"])
        if not diagnostics["thermalised"]:
            self.report(
                f"NVE not thermalised ({diagnostics['thermalisation_note']}): mean T "
                f"{diagnostics['temperature_mean_k']:.0f} K "
                f"({diagnostics['temperature_deviation_percent']:+.0f} % off the target "
                f"{diagnostics['target_temperature_k']:.0f} K), halves "
                f"{diagnostics['temperature_first_half_k']:.0f} → "
                f"{diagnostics['temperature_second_half_k']:.0f} K: heat longer "
                "(equilibration_time_fs) or start with thermostat 'equipartition'"
            )
        return None
