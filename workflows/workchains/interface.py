"""``janus.interface``: build the interface from bulk lattices, then relax its atoms.

The structure is made by a calcfunction from the (relaxed) bulk lattice parameters, so
provenance links the relaxed interface back to the bulk calculations and the build spec.
The relaxation is ``janus.pw_base`` (:mod:`workflows.workchains.pw_base`): aiida-quantumespresso's
PwBaseWorkChain and its restart handlers, plus one that restarts a SCF stopped by the
divergence monitor once with safer mixing and smearing. Bulk-like layers and the cell are
fixed, asymmetric slabs in vacuum get a dipole correction; a SCF that diverges again ends
this workchain with exit code 310.
"""

from __future__ import annotations

from typing import Any

from aiida import orm
from aiida.engine import ToContext, WorkChain, if_
from aiida_quantumespresso.common.types import ElectronicType
from aiida_quantumespresso.workflows.protocols.utils import recursive_merge

from heterostructures.structure.errors import StructureInputError
from heterostructures.structure.interface_spec import build_from_spec
from workflows.calcfunctions.structure import (
    build_interface_structure,
    interface_energy,
    strained_bulk_structures,
    summarise_relaxation,
)
from workflows.engine.monitors import divergence_monitor_input
from workflows.engine.stranded import SealsStrandedChildren
from workflows.inputs.cutoff_floors import with_ecutrho
from workflows.inputs.pw_builders import (
    family_overrides,
    restart_once_on_unhandled_failure,
    use_gamma_tricks,
    with_dipole_correction,
)
from workflows.inputs.site_labels import fixed_coords
from workflows.inputs.size_fit import fitted_to_structure, preview_structure
from workflows.protocols import JanusProtocolMixin, namespace_inputs
from workflows.workchains.pw_base import JanusPwBaseWorkChain


def validate_spec(spec: orm.Dict, _: Any) -> str | None:
    """Build the interface in memory (≈0.2 s) so a bad spec fails before any submission."""
    try:
        build_from_spec(spec.get_dict(), {})
    except StructureInputError as exception:
        return f"interface spec cannot be built: {exception}"
    return None


class InterfaceWorkChain(SealsStrandedChildren, JanusProtocolMixin, WorkChain):
    """Build (calcfunction) and relax (JanusPwBaseWorkChain) a perovskite/chalcogenide interface."""

    _protocol_file = "interface.yaml"

    @classmethod
    def define(cls, spec: Any) -> None:
        """Spec, optional relaxed bulk lattices, the relaxation namespace and outputs."""
        super().define(spec)
        spec.input(
            "interface",
            valid_type=orm.Dict,
            validator=validate_spec,
            help="InterfaceSpec fields (heterostructures.structure.interface) and `model`.",
        )
        spec.input_namespace(
            "lattices",
            valid_type=orm.Dict,
            dynamic=True,
            required=False,
            help="`perovskite`/`chalcogenide`: janus.bulk_reference `lattice`.",
        )
        spec.input(
            "reference_energies",
            valid_type=orm.Dict,
            required=False,
            help="Bulk energies per formula unit (eV), same cutoffs, for γ.",
        )
        spec.input("relax_atoms", valid_type=orm.Bool, default=lambda: orm.Bool(True))
        spec.input(
            "keep_preview_composition",
            valid_type=orm.Bool,
            default=lambda: orm.Bool(False),
            help="Stop (320) before relaxing if the lattices build a model of another "
            "composition than the spec on experimental lattices (the preview a caller set "
            "its later steps up on: janus.pipeline).",
        )
        spec.expose_inputs(
            JanusPwBaseWorkChain, namespace="relax", exclude=("pw.structure", "clean_workdir")
        )
        spec.outline(
            cls.build,
            if_(cls.should_relax)(cls.run_relax, cls.inspect_relax),
            cls.results,
        )
        spec.output("structure", valid_type=orm.StructureData, help="Relaxed (or built) interface.")
        spec.output("site_labels", valid_type=orm.Dict, help="domain / layer / fixed per site.")
        spec.output("build_report", valid_type=orm.Dict)
        spec.output("energy", valid_type=orm.Float, required=False, help="Total energy (eV).")
        spec.output(
            "relaxation",
            valid_type=orm.Dict,
            required=False,
            help="Residual forces and fixed-atom displacements.",
        )
        spec.output("formation_energy", valid_type=orm.Dict, required=False)
        spec.output_namespace(
            "strained_bulk",
            valid_type=orm.StructureData,
            dynamic=True,
            help="Each side's bulk unit strained in plane like the interface (route 2 references).",
        )
        spec.expose_outputs(
            JanusPwBaseWorkChain, namespace="relax_outputs", namespace_options={"required": False}
        )
        cls._define_exit_codes(spec)

    @staticmethod
    def _define_exit_codes(spec: Any) -> None:
        """310: the SCF diverged even with safe mixing; 320: the lattices changed the
        model's composition; 401: the relaxation failed."""
        spec.exit_code(
            310,
            "ERROR_SCF_DIVERGED",
            message="the SCF of the interface diverged or oscillated, also with safe "
            "mixing (local-TF β 0.1, smearing): check terminations/registry in the "
            "build report, raise the cutoffs or use a superlattice (periodic: true)",
        )
        spec.exit_code(
            320,
            "ERROR_MODEL_CHANGED",
            message="the relaxed bulk lattices build a {built}-atom model, not the "
            "{preview}-atom one the later steps were set up for (band counts, NA band "
            "window): build it with `aiida-janus build --perovskite-a A --chalcogenide-a A` "
            "at those lattices and run the study on it with --structure",
        )
        spec.exit_code(
            401,
            "ERROR_SUB_PROCESS_FAILED_RELAX",
            message="the relaxation JanusPwBaseWorkChain<{pk}> failed with exit {status}",
        )

    def build(self) -> Any:
        """Build the interface through the provenance-recording calcfunction."""
        lattices = dict(self.inputs.get("lattices", {}))
        built = build_interface_structure(self.inputs.interface, **lattices)
        self.ctx.structure = built["structure"]
        self.ctx.site_labels = built["site_labels"]
        self.ctx.build_report = built["report"]
        self.ctx.strained_bulk = strained_bulk_structures(self.inputs.interface, **lattices)
        if not self.inputs.keep_preview_composition.value:
            return None
        preview = preview_structure(self.inputs.interface.get_dict())
        if preview.get_composition() != self.ctx.structure.get_composition():
            return self.exit_codes.ERROR_MODEL_CHANGED.format(
                built=len(self.ctx.structure.sites), preview=len(preview.sites)
            )
        return None

    def should_relax(self) -> bool:
        """Relax unless told not to."""
        return bool(self.inputs.relax_atoms.value)

    def run_relax(self) -> Any:
        """Relax atoms with fixed layers held, cell fixed, dipole correction in vacuum."""
        inputs = self.exposed_inputs(JanusPwBaseWorkChain, namespace="relax")
        self._fit_relax_to_model(inputs["pw"])
        with_dipole_correction(inputs["pw"], self.ctx.structure)
        settings = inputs["pw"].get("settings", orm.Dict()).get_dict()
        settings["FIXED_COORDS"] = fixed_coords(self.ctx.site_labels)
        inputs["pw"]["settings"] = orm.Dict(settings)
        inputs["pw"]["structure"] = self.ctx.structure
        inputs["metadata"]["call_link_label"] = "relax"
        return ToContext(relax=self.submit(JanusPwBaseWorkChain, **inputs))

    def _fit_relax_to_model(self, pw: dict[str, Any]) -> None:
        """``nbnd`` and thresholds, set by the builder on its preview (experimental
        lattices), fitted to the model built here: relaxed lattices can change the cell."""
        preview = preview_structure(self.inputs.interface.get_dict())
        given = pw["parameters"].get_dict()
        fitted = fitted_to_structure(given, pw["pseudos"], preview, self.ctx.structure)
        if fitted != given:
            self.report(
                f"the built model ({len(self.ctx.structure.sites)} atoms) differs from the "
                f"builder's preview ({len(preview.sites)}): nbnd and thresholds fitted to it"
            )
            pw["parameters"] = orm.Dict(fitted)

    def inspect_relax(self) -> Any:
        """Fail with 310 if the SCF diverged also with safe mixing, 401 on any other failure.

        The safe-mixing restart itself is ``JanusPwBaseWorkChain``'s handler.
        """
        relax = self.ctx.relax
        if relax.is_finished_ok:
            return None
        if relax.exit_status == JanusPwBaseWorkChain.exit_codes.ERROR_SCF_DIVERGED.status:
            return self.exit_codes.ERROR_SCF_DIVERGED
        return self.exit_codes.ERROR_SUB_PROCESS_FAILED_RELAX.format(
            pk=relax.pk, status=relax.exit_status
        )

    def results(self) -> None:
        """Structure (relaxed when relaxed), labels, report, energy, checks and γ."""
        self.out("site_labels", self.ctx.site_labels)
        self.out("build_report", self.ctx.build_report)
        for side, structure in self.ctx.strained_bulk.items():
            self.out(f"strained_bulk.{side}", structure)
        if not self.should_relax():
            self.out("structure", self.ctx.structure)
            return
        relax = self.ctx.relax
        self.out_many(self.exposed_outputs(relax, JanusPwBaseWorkChain, namespace="relax_outputs"))
        self.out("structure", relax.outputs.output_structure)
        energy = orm.Float(relax.outputs.output_parameters["energy"]).store()
        self.out("energy", energy)
        self.out(
            "relaxation",
            summarise_relaxation(relax.outputs.output_trajectory, self.ctx.site_labels),
        )
        if "reference_energies" in self.inputs:
            periodic = orm.Bool(bool(self.ctx.build_report["periodic"])).store()
            self.out(
                "formation_energy",
                interface_energy(
                    energy, relax.outputs.output_structure, self.inputs.reference_energies, periodic
                ),
            )

    @classmethod
    def protocol_spec(
        cls,
        protocol: str | None,
        overrides: dict[str, Any] | None,
        perovskite: str,
        chalcogenide: str,
    ) -> dict[str, Any]:
        """The build spec (``interface`` input) of the pair under ``protocol`` and
        ``overrides``: what the builder stores and ``aiida-janus build --protocol`` builds."""
        inputs = cls.checked_protocol_inputs(protocol, overrides)
        return {**inputs["interface"], "perovskite": perovskite, "chalcogenide": chalcogenide}

    @classmethod
    def get_builder_from_protocol(
        cls,
        code: orm.AbstractCode,
        protocol: str | None = None,
        overrides: dict[str, Any] | None = None,
        perovskite: str = "CsPbBr3",
        chalcogenide: str = "CdS",
        options: dict[str, Any] | None = None,
    ) -> Any:
        """Builder for a materials pair; errors before anything is stored for bad input."""
        inputs = cls.checked_protocol_inputs(protocol, overrides)
        spec = cls.protocol_spec(protocol, overrides, perovskite, chalcogenide)
        preview = build_from_spec(spec, {})
        structure = orm.StructureData(ase=preview.atoms)
        pw = family_overrides(structure, inputs["pseudo_flavour"], inputs["dual"])
        relax = JanusPwBaseWorkChain.get_builder_from_protocol(
            code,
            structure,
            protocol=protocol,
            overrides=recursive_merge(pw, with_ecutrho(inputs["relax"], inputs["dual"])),
            options=options,
            electronic_type=ElectronicType.INSULATOR,
        )
        restart_once_on_unhandled_failure(relax)
        relax.pw.monitors = divergence_monitor_input()
        if inputs["gamma_only"]:
            if list(inputs["kpoints_mesh"]) != [1, 1, 1]:
                raise ValueError(
                    f"gamma_only needs kpoints_mesh [1, 1, 1], got {inputs['kpoints_mesh']}: "
                    "drop one of the two overrides"
                )
            use_gamma_tricks(relax)
        else:
            relax.pop("kpoints_distance", None)
            relax.kpoints = orm.KpointsData()
            relax.kpoints.set_kpoints_mesh(inputs["kpoints_mesh"])
        builder = cls.get_builder()
        builder.interface = orm.Dict(spec)
        builder.relax = namespace_inputs(relax, "clean_workdir", "pw.structure")
        return builder
