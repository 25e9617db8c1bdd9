"""``janus.electronic``: SCF → NSCF → projwfc.x (→ pp.x potential) → band alignment.

Why not aiida-quantumespresso's ``PdosWorkChain``: it also runs dos.x, and its projwfc
parser builds one ``ProjectionData`` orbital per projection (slow, and more than the
analysis needs at interface sizes). ``janus.projwfc_raw``
(:mod:`workflows.calculations.projwfc_raw`) keeps projwfc.x's own files in the retrieved
folder instead, and :mod:`workflows.calcfunctions.electronic` reads them with our numpy
readers.

The NSCF copies (does not symlink) the SCF folder, so the SCF restart data stay intact
for caching and later restarts; its remote folder is the parent of ``janus.charge_densities``.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from aiida import orm
from aiida.common import AttributeDict
from aiida.engine import ExitCode, ToContext, WorkChain, if_
from aiida_quantumespresso.workflows.pw.base import PwBaseWorkChain

from heterostructures.electronic.projected_dos import ElectronicStructureError
from workflows.calcfunctions.electronic import (
    CUBE_FILE,
    REFERENCE_PREFIX,
    SiteLabels,
    analyse_alignment,
    analyse_lineup_reference,
    band_alignment,
    lineup_reference,
    references_from_nodes,
)
from workflows.calculations.pp_cube import CubePpCalculation
from workflows.calculations.projwfc_raw import RawProjwfcCalculation
from workflows.engine.stranded import SealsStrandedChildren
from workflows.inputs.electronic_steps import (
    DEFAULT_ANALYSIS,
    electronic_thresholds,
    post_processing_inputs,
    pw_step_builder,
    validate_electronic_inputs,
    with_scf_cutoffs,
)
from workflows.inputs.lineup_references import reference_scf_inputs
from workflows.inputs.pw_builders import with_dipole_correction
from workflows.inputs.site_labels import LabelError, check_labels
from workflows.inputs.slab_kpoints import with_slab_kpoints
from workflows.protocols import JanusProtocolMixin, namespace_inputs


class ElectronicWorkChain(SealsStrandedChildren, JanusProtocolMixin, WorkChain):
    """Layer-/domain-projected DOS, band edges, offsets and alignment type of an interface."""

    _protocol_file = "electronic.yaml"

    @classmethod
    def define(cls, spec: Any) -> None:
        """Inputs: labelled structure and the four steps; outputs: alignment, PDOS, plots."""
        super().define(spec)
        spec.input("structure", valid_type=orm.StructureData, help="The interface (pw.x order).")
        spec.input(
            "site_labels",
            valid_type=orm.Dict,
            help="Per-site domain/layer/fixed labels (inputs.site_labels) of the structure.",
        )
        spec.input(
            "analysis",
            valid_type=orm.Dict,
            required=False,
            help=f"Band-edge settings, default {DEFAULT_ANALYSIS}: domains (A, B) fix the sign "
            "of the offsets; edge_fit_states_per_atom the integrated states per atom fitted to "
            "extrapolate each PDOS edge; n_middle_layers per domain; lineup_periods_ang the "
            "macroscopic-average windows (Å), default each domain's stacking period.",
        )
        spec.expose_inputs(
            PwBaseWorkChain, namespace="scf", exclude=("clean_workdir", "pw.structure")
        )
        spec.expose_inputs(
            PwBaseWorkChain,
            namespace="nscf",
            exclude=("clean_workdir", "pw.structure", "pw.parent_folder"),
        )
        spec.expose_inputs(RawProjwfcCalculation, namespace="projwfc", exclude=("parent_folder",))
        spec.expose_inputs(
            CubePpCalculation,
            namespace="pp_potential",
            exclude=("parent_folder",),
            namespace_options={"required": False, "populate_defaults": False},
        )
        cls._define_references(spec)
        spec.inputs.validator = validate_electronic_inputs
        spec.outline(
            cls.setup,
            cls.run_scf,
            cls.inspect_scf,
            cls.run_nscf,
            cls.inspect_nscf,
            cls.run_projwfc,
            cls.inspect_projwfc,
            if_(cls.should_run_potential)(cls.run_potential, cls.inspect_potential),
            cls.inspect_analysis,
            cls.results,
        )
        cls._define_outputs(spec)
        cls._define_exit_codes(spec)

    @staticmethod
    def _define_references(spec: Any) -> None:
        """Route 2 inputs: strained bulk units to compute, or references computed before."""
        spec.input_namespace(
            "lineup_references",
            valid_type=orm.StructureData,
            dynamic=True,
            required=False,
            help="Route 2: each domain's bulk unit strained in plane like the interface "
            "(janus.interface output ``strained_bulk``), keyed by domain; needs pp_potential. "
            "Each gets an SCF with the interface's pseudopotentials and cutoffs and a pp.x run.",
        )
        spec.input_namespace(
            "bulk_references",
            valid_type=orm.Dict,
            dynamic=True,
            required=False,
            help="Route 2 references already computed (this workchain's ``bulk_references`` "
            "outputs of a model with the same in-plane cell and Hamiltonian), keyed by domain: "
            "a thickness series runs each strained bulk SCF once, not once per model.",
        )
        spec.input(
            "thresholds_per_atom",
            valid_type=orm.Dict,
            required=False,
            help="aiida-qe's conv_thr_per_atom, etot_conv_thr_per_atom (Ry/atom): each "
            "lineup_references SCF gets them × its atoms (else the scf's as given); the "
            "protocol builder sets the protocol's.",
        )

    @staticmethod
    def _define_outputs(spec: Any) -> None:
        spec.output("band_alignment", valid_type=orm.Dict, help="Edges, offsets, type, notes.")
        spec.output("projected_dos", valid_type=orm.ArrayData, help="PDOS by domain/element/layer.")
        spec.output("pdos_plot", valid_type=orm.SinglefileData, help="PDOS picture (PNG).")
        spec.output(
            "edge_profile_plot",
            valid_type=orm.SinglefileData,
            required=False,
            help="Layer-resolved VBM/CBM (PNG); absent when the interface is metallic.",
        )
        spec.output("projections_folder", valid_type=orm.FolderData, help="projwfc.x files.")
        spec.output("nscf_remote_folder", valid_type=orm.RemoteData, help="Parent for pp.x.")
        spec.output("potential_folder", valid_type=orm.FolderData, required=False)
        spec.output(
            "potential_plot",
            valid_type=orm.SinglefileData,
            required=False,
            help="Planar/macroscopic potential with the ΔV windows (PNG).",
        )
        spec.output_namespace(
            "bulk_references",
            valid_type=orm.Dict,
            dynamic=True,
            required=False,
            help="Route 2 bulk references by domain: VBM, CBM, gap and mean potential (eV).",
        )
        spec.output(
            "potential_profile",
            valid_type=orm.ArrayData,
            required=False,
            help="z (Å), planar and macroscopic averages (Ry) of V_bare + V_H.",
        )

    @staticmethod
    def _define_exit_codes(spec: Any) -> None:
        spec.exit_code(
            301,
            "ERROR_ANALYSIS_FAILED",
            message="projwfc.x output of {pk} cannot give a band alignment: {error}",
        )
        steps = (
            (401, "scf"), (402, "nscf"), (403, "projwfc"), (404, "pp_potential"),
            (405, "reference_scf"), (406, "reference_pp"),
        )  # fmt: skip
        for status, step in steps:
            spec.exit_code(
                status,
                f"ERROR_SUB_PROCESS_FAILED_{step.upper()}",
                message=f"the {step} step <{{pk}}> failed with exit status {{status}}: "
                "see its report",
            )

    def setup(self) -> None:
        """Analysis settings with defaults filled in."""
        given = self.inputs.analysis.get_dict() if "analysis" in self.inputs else {}
        self.ctx.analysis = DEFAULT_ANALYSIS | given

    def _failed(self, name: str, exit_code: Any) -> ExitCode | None:
        node = self.ctx[name]
        if node.is_finished_ok:
            return None
        self.report(f"{name} <{node.pk}> failed with exit status {node.exit_status}")
        return exit_code.format(pk=node.pk, status=node.exit_status)

    def _first_failed(self, steps: list[tuple[str, Any]]) -> ExitCode | None:
        """The exit code of the first failed step among (context name, exit code) pairs."""
        for name, exit_code in steps:
            failed = self._failed(name, exit_code)
            if failed:
                return failed
        return None

    def _references(self) -> dict[str, orm.StructureData]:
        """Strained bulk structures whose reference SCF + pp.x this workchain runs."""
        return dict(self.inputs.get("lineup_references", {}))

    def _given_references(self) -> dict[str, orm.Dict]:
        """Route 2 references computed elsewhere (``lineup_reference`` Dicts), by domain."""
        return dict(self.inputs.get("bulk_references", {}))

    def run_scf(self) -> Any:
        """Self-consistent density of the interface and, side by side, of each reference."""
        inputs = AttributeDict(self.exposed_inputs(PwBaseWorkChain, namespace="scf"))
        running = {}
        given = self.inputs.get("thresholds_per_atom")
        per_atom = given.get_dict() if given is not None else None
        for domain, structure in self._references().items():
            reference = reference_scf_inputs(dict(inputs), structure, per_atom)
            reference["metadata"] = {"call_link_label": f"reference_scf_{domain}"}
            running[f"reference_scf_{domain}"] = self.submit(PwBaseWorkChain, **reference)
        inputs.pw.structure = self.inputs.structure
        with_dipole_correction(inputs.pw, self.inputs.structure)
        with_slab_kpoints(inputs, self.inputs.structure)
        inputs.metadata.call_link_label = "scf"
        running["scf"] = self.submit(PwBaseWorkChain, **inputs)
        return ToContext(**running)

    def inspect_scf(self) -> ExitCode | None:
        """Stop with a 4xx code naming the failed SCF (interface 401, reference 405)."""
        codes = self.exit_codes
        return self._first_failed(
            [
                (name, codes.ERROR_SUB_PROCESS_FAILED_REFERENCE_SCF)
                for name, _ in self._reference_names("scf", "scf")
            ]
            + [("scf", codes.ERROR_SUB_PROCESS_FAILED_SCF)]
        )

    def run_nscf(self) -> Any:
        """Eigenvalues on the denser k-grid, from a copy of the SCF folder."""
        inputs = AttributeDict(self.exposed_inputs(PwBaseWorkChain, namespace="nscf"))
        inputs.pw.structure = self.inputs.structure
        if changed := with_scf_cutoffs(inputs.pw, self.inputs.scf.pw.parameters):
            self.report(f"NSCF cutoffs set to the SCF's (Ry; NSCF, SCF): {changed}")
        with_dipole_correction(inputs.pw, self.inputs.structure)
        with_slab_kpoints(inputs, self.inputs.structure)
        inputs.pw.parent_folder = self.ctx.scf.outputs.remote_folder
        inputs.metadata.call_link_label = "nscf"
        return ToContext(nscf=self.submit(PwBaseWorkChain, **inputs))

    def inspect_nscf(self) -> ExitCode | None:
        """Stop with a 4xx code naming the failed NSCF."""
        return self._failed("nscf", self.exit_codes.ERROR_SUB_PROCESS_FAILED_NSCF)

    def run_projwfc(self) -> Any:
        """Projections and PDOS files of the NSCF states."""
        inputs = AttributeDict(self.exposed_inputs(RawProjwfcCalculation, namespace="projwfc"))
        inputs.parent_folder = self.ctx.nscf.outputs.remote_folder
        inputs.metadata.call_link_label = "projwfc"
        return ToContext(projwfc=self.submit(RawProjwfcCalculation, **inputs))

    def inspect_projwfc(self) -> ExitCode | None:
        """Stop with a 4xx code naming the failed projwfc.x run."""
        return self._failed("projwfc", self.exit_codes.ERROR_SUB_PROCESS_FAILED_PROJWFC)

    def should_run_potential(self) -> bool:
        """The potential line-up route runs when ``pp_potential`` inputs are given."""
        return "pp_potential" in self.inputs

    def run_potential(self) -> Any:
        """Bare + Hartree potential (pp.x plot_num 11) of the interface and reference SCFs."""
        running = {}
        for name, parent in (("pp_potential", "scf"), *self._reference_names("pp", "scf")):
            inputs = AttributeDict(self.exposed_inputs(CubePpCalculation, namespace="pp_potential"))
            inputs.parent_folder = self.ctx[parent].outputs.remote_folder
            inputs.metadata.call_link_label = name
            running[name] = self.submit(CubePpCalculation, **inputs)
        return ToContext(**running)

    def _reference_names(self, step: str, parent: str) -> list[tuple[str, str]]:
        """(context name of ``step``, of its ``parent``) for each reference domain."""
        return [(f"reference_{step}_{d}", f"reference_{parent}_{d}") for d in self._references()]

    def inspect_potential(self) -> ExitCode | None:
        """Stop with a 4xx code naming the failed pp.x run (interface 404, reference 406)."""
        codes = self.exit_codes
        return self._first_failed(
            [
                (name, codes.ERROR_SUB_PROCESS_FAILED_REFERENCE_PP)
                for name, _ in self._reference_names("pp", "scf")
            ]
            + [("pp_potential", codes.ERROR_SUB_PROCESS_FAILED_PP_POTENTIAL)]
        )

    def _reference_nodes(self, domain: str) -> tuple[orm.FolderData, orm.BandsData, orm.Dict]:
        """pp.x cube folder, SCF bands and SCF parameters of one reference."""
        scf = self.ctx[f"reference_scf_{domain}"].outputs
        return (
            self.ctx[f"reference_pp_{domain}"].outputs.retrieved,
            scf.output_band,
            scf.output_parameters,
        )

    def inspect_analysis(self) -> ExitCode | None:
        """Run the analysis in plain Python first: a failure stores nothing half-done."""
        retrieved = self.ctx.projwfc.outputs.retrieved
        labels = SiteLabels.from_nodes(self.inputs.structure, self.inputs.site_labels)
        try:
            with (
                retrieved.base.repository.as_path() as folder,
                tempfile.TemporaryDirectory() as scratch,
            ):
                cube = None
                if "pp_potential" in self.ctx:
                    self.ctx.pp_potential.outputs.retrieved.base.repository.copy_tree(scratch)
                    cube = Path(scratch) / CUBE_FILE
                references = references_from_nodes(self._given_references()) | {
                    domain: analyse_lineup_reference(*self._reference_nodes(domain))
                    for domain in self._references()
                }
                analysis = analyse_alignment(
                    Path(folder), labels, self.ctx.analysis, cube, references
                )
        except (ElectronicStructureError, LabelError) as error:
            return self.exit_codes.ERROR_ANALYSIS_FAILED.format(pk=retrieved.pk, error=error)
        if analysis.summary["status"] != "determined":
            self.report(f"band alignment undetermined: {analysis.summary['reason']}")
        return None

    def results(self) -> None:
        """Record the analysis (calcfunction) and attach the outputs."""
        retrieved = self.ctx.projwfc.outputs.retrieved
        extra: dict[str, Any] = {}
        if "pp_potential" in self.ctx:
            extra["potential"] = self.ctx.pp_potential.outputs.retrieved
            computed = {
                domain: lineup_reference(*self._reference_nodes(domain))
                for domain in self._references()
            }
            for domain, reference in {**self._given_references(), **computed}.items():
                extra[f"{REFERENCE_PREFIX}{domain}"] = reference
                self.out(f"bulk_references.{domain}", reference)
        outputs = band_alignment(
            retrieved,
            self.inputs.structure,
            self.inputs.site_labels,
            orm.Dict(self.ctx.analysis),
            **extra,
        )
        for name, node in outputs.items():
            self.out(name, node)
        self.out("projections_folder", retrieved)
        self.out("nscf_remote_folder", self.ctx.nscf.outputs.remote_folder)
        if "pp_potential" in self.ctx:
            self.out("potential_folder", self.ctx.pp_potential.outputs.retrieved)

    @classmethod
    def get_builder_from_protocol(
        cls,
        code_pw: orm.AbstractCode,
        code_projwfc: orm.AbstractCode,
        structure: orm.StructureData,
        site_labels: orm.Dict,
        protocol: str | None = None,
        overrides: dict[str, Any] | None = None,
        code_pp: orm.AbstractCode | None = None,
        options: dict[str, Any] | None = None,
    ) -> Any:
        """Builder for a labelled interface with the fast/balanced/stringent protocol.

        Raises ``ValueError`` subclasses (unknown protocol, labels that do not fit, a
        family lacking an element) before anything is stored. ``code_pp`` adds the
        potential (pp.x plot_num 11) for the line-up route.
        """
        inputs = cls.checked_protocol_inputs(protocol, overrides)
        check_labels(site_labels.get_dict(), len(structure.sites))
        builder = cls.get_builder()
        builder.structure = structure
        builder.site_labels = site_labels
        builder.analysis = orm.Dict(DEFAULT_ANALYSIS | inputs.get("analysis", {}))
        builder.thresholds_per_atom = electronic_thresholds(protocol, inputs, len(structure.sites))
        for step in ("scf", "nscf"):
            pw = pw_step_builder(code_pw, structure, protocol, inputs, step, options)
            builder[step] = namespace_inputs(pw, "clean_workdir", "pw.structure")
        builder.projwfc = post_processing_inputs(code_projwfc, inputs["projwfc"], options)
        if code_pp is not None:
            builder.pp_potential = post_processing_inputs(code_pp, inputs["pp_potential"], options)
        return builder
