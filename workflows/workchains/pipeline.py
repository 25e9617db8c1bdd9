"""``janus.pipeline``: the whole study, each step an exposed, skippable namespace.

bulk references → interface build + relaxation → SCF/PDOS band alignment → IS/FS charge
densities → AIMD → NA snapshots → NA analysis. Steps whose result is given as an input
(``structure`` + ``site_labels``, ``trajectory``) or named in ``skip`` are not run. AiiDA
checkpoints every step, so a daemon restart resumes where it stopped; with caching
enabled (``aiida-janus setup`` turns it on) a finished study re-runs from the cache.
"""

from __future__ import annotations

from typing import Any

from aiida import orm
from aiida.engine import ToContext, WorkChain, if_

from workflows.calcfunctions.summary import (
    bulk_reference_energies,
    energies_incomparable,
    na_transfer_bands,
    study_summary,
)
from workflows.engine import repairs as engine_repairs
from workflows.inputs.pipeline_steps import SIDES, STEPS
from workflows.provenance.queries import STUDY_TAGS, tag_study
from workflows.workchains.aimd import AimdWorkChain
from workflows.workchains.alignment import AlignmentSeriesWorkChain
from workflows.workchains.bulk_reference import BulkReferenceWorkChain
from workflows.workchains.charge_densities import ChargeDensitiesWorkChain
from workflows.workchains.electronic import ElectronicWorkChain
from workflows.workchains.interface import InterfaceWorkChain
from workflows.workchains.na_snapshots import NaAnalysisWorkChain, NaSnapshotsWorkChain


def validate_skip(value: orm.List, _: Any) -> str | None:
    """Only known step names can be skipped."""
    unknown = sorted(set(value.get_list()) - set(STEPS))
    return f"unknown steps {unknown} in `skip`: choose from {STEPS}" if unknown else None


def validate_pipeline(inputs: dict[str, Any], _: Any) -> str | None:
    """A given structure needs its labels; a skipped step needs what it would have made."""
    if ("structure" in inputs) != ("site_labels" in inputs):
        return "give `structure` and `site_labels` together (outputs of janus.interface)"
    skip = set(inputs.get("skip", orm.List()).get_list())
    if "interface" in skip and "structure" not in inputs:
        return "skipping `interface` needs `structure` and `site_labels`"
    return None


def _highest_occupied_band(process: orm.ProcessNode) -> int:
    """Highest occupied band (1-based) of the first pw.x run in or under ``process``."""
    calcs = [process] if isinstance(process, orm.CalcJobNode) else process.called_descendants
    for calc in calcs:
        if isinstance(calc, orm.CalcJobNode) and "output_parameters" in calc.outputs:
            return round(calc.outputs.output_parameters["number_of_electrons"] / 2)
    raise ValueError(f"<{process.pk}> ran no pw.x calculation with output_parameters")


# Any worker that runs this workchain gets the repair (workflows/engine/repairs.py).
engine_repairs.install()


class PipelineWorkChain(WorkChain):
    """The Qiu et al. (2023) study for any CsPbX3 / metal-chalcogenide pair."""

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

        def optional() -> dict[str, bool]:
            # a fresh dict per call: expose_inputs consumes the options it is given
            return {"required": False, "populate_defaults": False}

        for side in SIDES:
            spec.expose_inputs(
                BulkReferenceWorkChain, namespace=f"{side}_bulk", namespace_options=optional()
            )
        spec.expose_inputs(
            InterfaceWorkChain,
            namespace="interface",
            exclude=("lattices", "reference_energies"),
            namespace_options=optional(),
        )
        spec.expose_inputs(
            ElectronicWorkChain,
            namespace="electronic",
            exclude=("structure", "site_labels"),
            namespace_options=optional(),
        )
        spec.expose_inputs(
            AlignmentSeriesWorkChain,
            namespace="alignment",
            exclude=("lattices",),
            namespace_options=optional(),
        )
        spec.expose_inputs(
            ChargeDensitiesWorkChain,
            namespace="charge_densities",
            exclude=("structure", "site_labels", "parent_folder", "projections"),
            namespace_options=optional(),
        )
        spec.expose_inputs(
            AimdWorkChain, namespace="aimd", exclude=("structure",), namespace_options=optional()
        )
        spec.expose_inputs(
            NaSnapshotsWorkChain,
            namespace="na_snapshots",
            exclude=("trajectory", "site_labels"),
            namespace_options=optional(),
        )
        spec.expose_inputs(
            NaAnalysisWorkChain,
            namespace="na_analysis",
            exclude=("na_hamiltonian", "initial_band", "final_band"),
            namespace_options=optional(),
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

    # -- helpers ---------------------------------------------------------------------
    def _runs(self, step: str, namespace: str | None = None) -> bool:
        skipped = step in self.inputs.get("skip", orm.List()).get_list()
        return not skipped and (namespace or step) in self.inputs

    def _failed(self, step: str, node: orm.ProcessNode) -> Any:
        return self.exit_codes.ERROR_STEP_FAILED.format(
            step=step, process=node.process_label, pk=node.pk, status=node.exit_status
        )

    # -- outline ---------------------------------------------------------------------
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
        running = {}
        for side in SIDES:
            inputs = self.exposed_inputs(BulkReferenceWorkChain, namespace=f"{side}_bulk")
            inputs["metadata"] = {"call_link_label": f"{side}_bulk"}
            running[f"{side}_bulk"] = self.submit(BulkReferenceWorkChain, **inputs)
        return ToContext(**running)

    def inspect_bulk(self) -> Any:
        """Keep the relaxed lattices for the builder."""
        for side in SIDES:
            node = self.ctx[f"{side}_bulk"]
            if not node.is_finished_ok:
                return self._failed(f"{side}_bulk", node)
            self.ctx.lattices[side] = node.outputs.lattice
            self.ctx.pieces[f"{side}_lattice"] = node.outputs.lattice
        incomparable = [
            reason
            for side in SIDES
            if (
                reason := energies_incomparable(
                    self.inputs[f"{side}_bulk"].relax.base_relax.pw,
                    self.inputs.interface.relax.pw,
                )
            )
        ]
        if incomparable:
            self.report(
                "no formation energy: the bulk references and the interface relaxation "
                f"differ ({incomparable[0]}); give them one family and cutoffs to get it"
            )
            return None
        self.ctx.reference_energies = bulk_reference_energies(
            **{
                f"{side}_{name}": node
                for side in SIDES
                for name, node in (
                    ("formula", self.ctx[f"{side}_bulk"].inputs.formula),
                    ("energy", self.ctx[f"{side}_bulk"].outputs.energy),
                    ("structure", self.ctx[f"{side}_bulk"].outputs.relaxed_structure),
                )
            }
        )
        return None

    def should_run_interface(self) -> bool:
        """Build and relax unless a structure was given."""
        return self.ctx.structure is None and self._runs("interface")

    def run_interface(self) -> Any:
        """Build from the relaxed lattices and relax."""
        inputs = self.exposed_inputs(InterfaceWorkChain, namespace="interface")
        inputs["lattices"] = self.ctx.lattices
        if "reference_energies" in self.ctx:
            inputs["reference_energies"] = self.ctx.reference_energies
        inputs["metadata"] = {"call_link_label": "interface"}
        return ToContext(interface=self.submit(InterfaceWorkChain, **inputs))

    def inspect_interface(self) -> Any:
        """The relaxed, labelled interface for every later step."""
        node = self.ctx.interface
        if not node.is_finished_ok:
            return self._failed("interface", node)
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
        node = self.ctx.electronic
        if not node.is_finished_ok:
            return self._failed("electronic", node)
        self.ctx.pieces["band_alignment"] = node.outputs.band_alignment
        return None

    def should_run_alignment(self) -> bool:
        """The thickness series of the band alignment, when configured."""
        return self._runs("alignment")

    def run_alignment(self) -> Any:
        """Band alignment on models of growing thickness, from the same bulk lattices."""
        inputs = self.exposed_inputs(AlignmentSeriesWorkChain, namespace="alignment")
        inputs["lattices"] = self.ctx.lattices
        inputs["metadata"] = {"call_link_label": "alignment"}
        return ToContext(alignment=self.submit(AlignmentSeriesWorkChain, **inputs))

    def inspect_alignment(self) -> Any:
        """The converged series for the summary."""
        node = self.ctx.alignment
        if not node.is_finished_ok:
            return self._failed("alignment", node)
        self.ctx.pieces["alignment_series"] = node.outputs.series
        return None

    def should_run_densities(self) -> bool:
        """IS/FS densities need the electronic step's folders."""
        return "electronic" in self.ctx and self._runs("charge_densities")

    def run_densities(self) -> Any:
        """Select IS/FS from projections and plot their densities."""
        electronic = self.ctx.electronic.outputs
        inputs = self.exposed_inputs(ChargeDensitiesWorkChain, namespace="charge_densities")
        inputs.update(
            structure=self.ctx.structure,
            site_labels=self.ctx.site_labels,
            parent_folder=electronic.nscf_remote_folder,
            projections=electronic.projections_folder,
        )
        inputs["metadata"] = {"call_link_label": "charge_densities"}
        return ToContext(charge_densities=self.submit(ChargeDensitiesWorkChain, **inputs))

    def inspect_densities(self) -> Any:
        """IS/FS summary for the study summary."""
        node = self.ctx.charge_densities
        if not node.is_finished_ok:
            return self._failed("charge_densities", node)
        self.ctx.pieces["charge_transfer_states"] = node.outputs.summary
        return None

    def should_run_aimd(self) -> bool:
        """AIMD unless a trajectory was given."""
        return self.ctx.trajectory is None and self.ctx.structure is not None and self._runs("aimd")

    def run_aimd(self) -> Any:
        """Thermalise and run NVE from the relaxed interface."""
        inputs = self.exposed_inputs(AimdWorkChain, namespace="aimd")
        inputs["structure"] = self.ctx.structure
        inputs["metadata"] = {"call_link_label": "aimd"}
        return ToContext(aimd=self.submit(AimdWorkChain, **inputs))

    def inspect_aimd(self) -> Any:
        """The trajectory for the NA steps."""
        node = self.ctx.aimd
        if not node.is_finished_ok:
            return self._failed("aimd", node)
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
        inputs = self.exposed_inputs(NaSnapshotsWorkChain, namespace="na_snapshots")
        inputs["trajectory"] = self.ctx.trajectory
        if "snapshots" not in inputs and "aimd" in self.ctx:
            inputs["snapshots"] = self.ctx.aimd.outputs.snapshots
        if self.ctx.site_labels is not None:
            inputs["site_labels"] = self.ctx.site_labels
        inputs["metadata"] = {"call_link_label": "na_snapshots"}
        return ToContext(na_snapshots=self.submit(NaSnapshotsWorkChain, **inputs))

    def inspect_na_snapshots(self) -> Any:
        """Keep the NA Hamiltonian."""
        node = self.ctx.na_snapshots
        if not node.is_finished_ok:
            return self._failed("na_snapshots", node)
        self.ctx.na_hamiltonian = node.outputs.na_hamiltonian
        return None

    def run_na_analysis(self) -> Any:
        """Spectral density, dephasing and surface hopping between IS and FS."""
        inputs = self.exposed_inputs(NaAnalysisWorkChain, namespace="na_analysis")
        bands = na_transfer_bands(self._na_band_inputs())
        inputs.update(
            na_hamiltonian=self.ctx.na_hamiltonian,
            initial_band=bands["initial_band"],
            final_band=bands["final_band"],
        )
        inputs["metadata"] = {"call_link_label": "na_analysis"}
        return ToContext(na_analysis=self.submit(NaAnalysisWorkChain, **inputs))

    def _na_band_inputs(self) -> orm.Dict:
        """IS/FS of the electronic step (if any) and the occupied bands of both sets."""
        values: dict[str, Any] = {
            "na_highest_occupied": _highest_occupied_band(self.ctx.na_snapshots)
        }
        if "charge_transfer_states" in self.ctx.pieces:
            states = self.ctx.pieces["charge_transfer_states"]
            nscf = self.ctx.electronic.outputs.nscf_remote_folder.creator
            values["electronic_highest_occupied"] = _highest_occupied_band(nscf)
            values["initial_band"] = states["initial"]["band"]
            values["final_band"] = states["final"]["band"]
        return orm.Dict(values)

    def inspect_na_analysis(self) -> Any:
        """NA times and spectra for the summary."""
        node = self.ctx.na_analysis
        if not node.is_finished_ok:
            return self._failed("na_analysis", node)
        self.ctx.pieces["spectral_summary"] = node.outputs.spectral_summary
        self.ctx.pieces["dynamics_summary"] = node.outputs.dynamics_summary
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
