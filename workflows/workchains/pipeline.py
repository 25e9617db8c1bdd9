"""``janus.pipeline``: the whole study, each step an exposed, skippable namespace.

bulk references → interface build + relaxation → SCF/PDOS band alignment → IS/FS charge
densities → AIMD → NA snapshots → NA analysis. Steps whose result is given as an input
(``structure`` + ``site_labels``, ``trajectory``) or named in ``skip`` are not run. Every
step is checkpointed; with caching on, a finished study re-runs from the cache.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aiida import orm
from aiida.engine import ToContext, WorkChain, if_

from workflows.calcfunctions.summary import (
    bulk_reference_energies,
    na_transfer_bands,
    study_summary,
)
from workflows.engine.stranded import SealsStrandedChildren
from workflows.inputs.cutoff_floors import pair_elements
from workflows.inputs.pipeline_inputs import (
    formation_energy_blocker,
    md_gap_inputs,
    na_band_inputs,
    reference_energy_nodes,
    validate_pipeline,
    validate_skip,
)
from workflows.inputs.pipeline_protocol import (
    EXPOSED_STEPS,
    StepProtocols,
    add_dynamics_steps,
    add_electronic_steps,
    add_structure_steps,
)
from workflows.inputs.pipeline_steps import SIDES
from workflows.protocols import JanusProtocolMixin
from workflows.provenance.queries import STUDY_TAGS, tag_study
from workflows.workchains.aimd import AimdWorkChain
from workflows.workchains.alignment import AlignmentSeriesWorkChain
from workflows.workchains.bulk_reference import BulkReferenceWorkChain
from workflows.workchains.charge_densities import ChargeDensitiesWorkChain
from workflows.workchains.electronic import ElectronicWorkChain
from workflows.workchains.interface import InterfaceWorkChain
from workflows.workchains.na_snapshots import NaAnalysisWorkChain, NaSnapshotsWorkChain


class PipelineWorkChain(SealsStrandedChildren, JanusProtocolMixin, WorkChain):
    """The Qiu et al. (2023) study for any CsPbX3 / metal-chalcogenide pair."""

    _protocol_file = "pipeline.yaml"

    @classmethod
    def define(cls, spec: Any) -> None:
        """Namespaces of every step, skip/restart inputs and the study outputs."""
        super().define(spec)
        spec.input("perovskite", valid_type=orm.Str, help="e.g. CsPbBr3 (recorded for queries).")
        spec.input("chalcogenide", valid_type=orm.Str, help="e.g. CdS (recorded for queries).")
        spec.input("protocol", valid_type=orm.Str, required=False, help="Protocol name used.")
        spec.input("skip", valid_type=orm.List, required=False, validator=validate_skip)
        spec.input(
            "structure",
            valid_type=orm.StructureData,
            required=False,
            help="A relaxed interface: skips bulk and interface steps.",
        )
        spec.input("site_labels", valid_type=orm.Dict, required=False)
        spec.input(
            "trajectory",
            valid_type=orm.TrajectoryData,
            required=False,
            help="An existing AIMD trajectory: skips the AIMD step.",
        )

        for process, namespace, provided in EXPOSED_STEPS:
            spec.expose_inputs(
                process,
                namespace=namespace,
                exclude=provided,
                # a fresh dict per call: expose_inputs consumes the options it is given
                namespace_options={"required": False, "populate_defaults": False},
            )
        spec.inputs.validator = validate_pipeline
        spec.outline(
            cls.setup,
            if_(cls.should_run_bulk)(cls.run_bulk, cls.inspect_bulk),
            if_(cls.should_run_interface)(cls.run_interface, cls.inspect_interface),
            if_(cls.should_run_electronic)(cls.run_electronic, cls.inspect_electronic),
            if_(cls.should_run_alignment)(cls.run_alignment, cls.inspect_alignment),
            if_(cls.should_run_densities)(cls.run_densities, cls.inspect_densities),
            if_(cls.should_run_aimd)(cls.run_aimd, cls.inspect_aimd),
            if_(cls.should_run_na)(
                cls.run_na_snapshots,
                cls.inspect_na_snapshots,
                cls.run_na_analysis,
                cls.inspect_na_analysis,
            ),
            cls.results,
        )
        cls._define_outputs(spec)

    @staticmethod
    def _define_outputs(spec: Any) -> None:
        """The study's results (each present when its step ran) and its summary."""
        spec.output("structure", valid_type=orm.StructureData, required=False)
        spec.output("site_labels", valid_type=orm.Dict, required=False)
        spec.output("band_alignment", valid_type=orm.Dict, required=False)
        spec.output(
            "alignment_series",
            valid_type=orm.Dict,
            required=False,
            help="Band offsets against model thickness, converged and gap-corrected.",
        )
        spec.output("charge_transfer_states", valid_type=orm.Dict, required=False)
        spec.output("trajectory", valid_type=orm.TrajectoryData, required=False)
        spec.output("na_hamiltonian", valid_type=orm.ArrayData, required=False)
        spec.output("summary", valid_type=orm.Dict, help="The study's headline numbers.")
        spec.exit_code(
            401,
            "ERROR_STEP_FAILED",
            message="step `{step}` ({process}<{pk}>) failed with exit {status}: "
            "inspect it with `verdi process report {pk}`, fix, and re-run with "
            "its predecessors' outputs as inputs (e.g. structure, trajectory)",
        )
        spec.exit_code(301, "ERROR_NA_BANDS", message="IS/FS → NA snapshot bands: {error}")

    @classmethod
    def get_builder_from_protocol(
        cls,
        codes: Mapping[str, orm.AbstractCode],
        perovskite: str = "CsPbBr3",
        chalcogenide: str = "CdS",
        protocol: str | None = None,
        overrides: dict[str, Any] | None = None,
        options: dict[str, Any] | None = None,
    ) -> Any:
        """A ready builder for a materials pair; ``codes`` needs ``pw``, ``projwfc``, ``pp``.

        Each step's namespace is its workchain's own ``get_builder_from_protocol`` minus
        what the pipeline provides at run time (as aiida-quantumespresso's
        ``PdosWorkChain`` composes ``scf``/``nscf``), on the interface preview
        (:func:`~workflows.inputs.pipeline_protocol.interface_preview`). ``overrides`` maps
        step namespaces (``interface``, ``aimd``, …) to their protocol overrides (cutoffs
        first raised to the pair's floor, ``cutoff_floors.py``); ``options`` (scheduler
        options) go on top. Raises ``ValueError``s before anything is stored.
        """
        protocol = protocol or cls.get_default_protocol()
        settings = cls.checked_protocol_inputs(protocol, None)
        pair = pair_elements(perovskite, chalcogenide)
        steps = StepProtocols.from_protocol(codes, protocol, settings, overrides, options, pair)
        builder = cls.get_builder()
        builder.perovskite, builder.chalcogenide = orm.Str(perovskite), orm.Str(chalcogenide)
        builder.protocol = orm.Str(protocol)
        structure, labels = add_structure_steps(builder, steps, perovskite, chalcogenide)
        add_electronic_steps(builder, steps, structure, labels, perovskite, chalcogenide)
        add_dynamics_steps(builder, steps, structure)
        return builder

    def _runs(self, step: str, namespace: str | None = None) -> bool:
        skipped = step in self.inputs.get("skip", orm.List()).get_list()
        return not skipped and (namespace or step) in self.inputs

    def _failed(self, step: str) -> Any:
        """The 401 exit code naming ``step`` if it failed, else None."""
        if (node := self.ctx[step]).is_finished_ok:
            return None
        return self.exit_codes.ERROR_STEP_FAILED.format(
            step=step, process=node.process_label, pk=node.pk, status=node.exit_status
        )

    def _submit(self, namespace: str, process: type[WorkChain], **provided: Any) -> Any:
        """``process`` on its exposed ``namespace`` with the inputs the pipeline provides."""
        inputs = self.exposed_inputs(process, namespace=namespace)
        inputs.update(provided)
        inputs["metadata"] = {"call_link_label": namespace}
        return self.submit(process, **inputs)

    def setup(self) -> None:
        """Tag the study for queries; start from given results where present."""
        tags = {name: self.inputs[name].value for name in STUDY_TAGS if name in self.inputs}
        tag_study(self.node, **tags)
        self.ctx.structure = self.inputs.get("structure")
        self.ctx.site_labels = self.inputs.get("site_labels")
        self.ctx.trajectory = self.inputs.get("trajectory")
        self.ctx.lattices = {}
        self.ctx.pieces = {}

    def should_run_bulk(self) -> bool:
        """Bulk references when asked for and the interface is still to be built."""
        return self.ctx.structure is None and all(
            self._runs("bulk", f"{side}_bulk") for side in SIDES
        )

    def run_bulk(self) -> Any:
        """Relax both bulk phases side by side."""
        return ToContext(
            **{
                f"{side}_bulk": self._submit(f"{side}_bulk", BulkReferenceWorkChain)
                for side in SIDES
            }
        )

    def inspect_bulk(self) -> Any:
        """Keep the relaxed lattices for the builder."""
        for side in SIDES:
            if failed := self._failed(f"{side}_bulk"):
                return failed
            lattice = self.ctx[f"{side}_bulk"].outputs.lattice
            self.ctx.lattices[side] = self.ctx.pieces[f"{side}_lattice"] = lattice
        bulk = {side: self.ctx[f"{side}_bulk"] for side in SIDES}
        if reason := formation_energy_blocker(self.inputs):
            self.report(
                "no formation energy: the bulk references and the interface relaxation "
                f"differ ({reason}); give them one family and cutoffs to get it"
            )
            return None
        self.ctx.reference_energies = bulk_reference_energies(**reference_energy_nodes(bulk))
        return None

    def should_run_interface(self) -> bool:
        """Build and relax unless a structure was given."""
        return self.ctx.structure is None and self._runs("interface")

    def run_interface(self) -> Any:
        """Build from the relaxed lattices and relax."""
        provided = {"lattices": self.ctx.lattices}
        if "reference_energies" in self.ctx:
            provided["reference_energies"] = self.ctx.reference_energies
        return ToContext(interface=self._submit("interface", InterfaceWorkChain, **provided))

    def inspect_interface(self) -> Any:
        """The relaxed, labelled interface for every later step."""
        if failed := self._failed("interface"):
            return failed
        node = self.ctx.interface
        self.ctx.structure = node.outputs.structure
        self.ctx.site_labels = node.outputs.site_labels
        self.ctx.pieces["build_report"] = node.outputs.build_report
        if "formation_energy" in node.outputs:
            self.ctx.pieces["formation_energy"] = node.outputs.formation_energy
        return None

    def should_run_electronic(self) -> bool:
        """Band alignment when configured and a structure exists."""
        return self.ctx.structure is not None and self._runs("electronic")

    def run_electronic(self) -> Any:
        """SCF → NSCF → projwfc (→ potential) on the interface."""
        inputs = self.exposed_inputs(ElectronicWorkChain, namespace="electronic")
        inputs.update(structure=self.ctx.structure, site_labels=self.ctx.site_labels)
        built = self.ctx.get("interface")
        if (
            built is not None
            and "pp_potential" in inputs
            and not inputs.get("lineup_references")
            and "strained_bulk" in built.outputs
        ):
            # Route 2 of the band offsets: bulk references strained like this interface.
            inputs["lineup_references"] = dict(built.outputs.strained_bulk)
        inputs["metadata"] = {"call_link_label": "electronic"}
        return ToContext(electronic=self.submit(ElectronicWorkChain, **inputs))

    def inspect_electronic(self) -> Any:
        """Alignment for the summary."""
        if failed := self._failed("electronic"):
            return failed
        self.ctx.pieces["band_alignment"] = self.ctx.electronic.outputs.band_alignment
        return None

    def should_run_alignment(self) -> bool:
        """The thickness series of the band alignment, when configured."""
        return self._runs("alignment")

    def run_alignment(self) -> Any:
        """Band alignment on models of growing thickness, from the same bulk lattices."""
        return ToContext(
            alignment=self._submit(
                "alignment", AlignmentSeriesWorkChain, lattices=self.ctx.lattices
            )
        )

    def inspect_alignment(self) -> Any:
        """The converged series for the summary."""
        if failed := self._failed("alignment"):
            return failed
        self.ctx.pieces["alignment_series"] = self.ctx.alignment.outputs.series
        return None

    def should_run_densities(self) -> bool:
        """IS/FS densities need the electronic step's folders."""
        return "electronic" in self.ctx and self._runs("charge_densities")

    def run_densities(self) -> Any:
        """Select IS/FS from projections and plot their densities."""
        electronic = self.ctx.electronic.outputs
        running = self._submit(
            "charge_densities",
            ChargeDensitiesWorkChain,
            structure=self.ctx.structure,
            site_labels=self.ctx.site_labels,
            parent_folder=electronic.nscf_remote_folder,
            projections=electronic.projections_folder,
        )
        return ToContext(charge_densities=running)

    def inspect_densities(self) -> Any:
        """IS/FS summary for the study summary."""
        if failed := self._failed("charge_densities"):
            return failed
        self.ctx.pieces["charge_transfer_states"] = self.ctx.charge_densities.outputs.summary
        return None

    def should_run_aimd(self) -> bool:
        """AIMD unless a trajectory was given."""
        return self.ctx.trajectory is None and self.ctx.structure is not None and self._runs("aimd")

    def run_aimd(self) -> Any:
        """Thermalise and run NVE from the relaxed interface."""
        return ToContext(aimd=self._submit("aimd", AimdWorkChain, structure=self.ctx.structure))

    def inspect_aimd(self) -> Any:
        """The trajectory for the NA steps."""
        if failed := self._failed("aimd"):
            return failed
        node = self.ctx.aimd
        self.ctx.trajectory = node.outputs.trajectory
        self.ctx.pieces["md_diagnostics"] = node.outputs.diagnostics
        return None

    def should_run_na(self) -> bool:
        """NA analysis needs a trajectory and its two namespaces."""
        return (
            self.ctx.trajectory is not None
            and self._runs("na", "na_snapshots")
            and "na_analysis" in self.inputs
        )

    def run_na_snapshots(self) -> Any:
        """SCF on the selected frames, overlaps and couplings."""
        provided = {"trajectory": self.ctx.trajectory}
        if "snapshots" not in self.inputs.na_snapshots and "aimd" in self.ctx:
            provided["snapshots"] = self.ctx.aimd.outputs.snapshots
        if self.ctx.site_labels is not None:
            provided["site_labels"] = self.ctx.site_labels
        running = self._submit("na_snapshots", NaSnapshotsWorkChain, **provided)
        return ToContext(na_snapshots=running)

    def inspect_na_snapshots(self) -> Any:
        """Keep the NA Hamiltonian and the occupied bands the IS/FS are mapped with."""
        if failed := self._failed("na_snapshots"):
            return failed
        self.ctx.na_hamiltonian = self.ctx.na_snapshots.outputs.na_hamiltonian
        states = self.ctx.pieces.get("charge_transfer_states")
        try:
            electronic = self.ctx.get("electronic")
            bands = na_band_inputs(self.ctx.na_snapshots, electronic, states)
        except ValueError as error:
            return self.exit_codes.ERROR_NA_BANDS.format(error=error)
        self.ctx.na_bands = bands.get_dict()  # a checkpoint holds stored nodes only
        return None

    def run_na_analysis(self) -> Any:
        """Spectral density, dephasing and surface hopping between IS and FS."""
        bands = na_transfer_bands(orm.Dict(self.ctx.na_bands))
        running = self._submit(
            "na_analysis",
            NaAnalysisWorkChain,
            na_hamiltonian=self.ctx.na_hamiltonian,
            initial_band=bands["initial_band"],
            final_band=bands["final_band"],
            **md_gap_inputs(self.ctx.get("aimd")),
        )
        return ToContext(na_analysis=running)

    def inspect_na_analysis(self) -> Any:
        """NA times and spectra for the summary."""
        if failed := self._failed("na_analysis"):
            return failed
        for name in ("spectral_summary", "dynamics_summary", "peak_assignment"):
            if name in self.ctx.na_analysis.outputs:  # peak_assignment: with MD trajectory
                self.ctx.pieces[name] = self.ctx.na_analysis.outputs[name]
        return None

    def results(self) -> None:
        """Expose the main results and a summary made by a calcfunction (provenance)."""
        for name in ("structure", "site_labels", "trajectory"):
            if self.ctx[name] is not None:
                self.out(name, self.ctx[name])
        if "na_hamiltonian" in self.ctx:
            self.out("na_hamiltonian", self.ctx.na_hamiltonian)
        for name in ("band_alignment", "alignment_series", "charge_transfer_states"):
            if name in self.ctx.pieces:
                self.out(name, self.ctx.pieces[name])
        self.out(
            "summary",
            study_summary(self.inputs.perovskite, self.inputs.chalcogenide, **self.ctx.pieces),
        )
