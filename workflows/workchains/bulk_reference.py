"""``janus.bulk_reference``: relax one bulk phase at the study's level of theory.

The relaxed lattice parameters feed the interface builder, so that strain and mismatch
are those of the calculation (PBE) and are reported next to the experimental ones.
"""

from __future__ import annotations

from typing import Any

from aiida import orm
from aiida.engine import ToContext, WorkChain
from aiida_quantumespresso.common.types import ElectronicType, RelaxType
from aiida_quantumespresso.workflows.protocols.utils import recursive_merge
from aiida_quantumespresso.workflows.pw.relax import PwRelaxWorkChain

from heterostructures.structure.bulk_lattice import primitive_bulk
from heterostructures.structure.errors import StructureInputError
from heterostructures.structure.phases import bulk_phase
from workflows.calcfunctions.structure import bulk_lattice_parameters, bulk_structure
from workflows.engine.stranded import SealsStrandedChildren
from workflows.inputs.cutoff_floors import with_ecutrho
from workflows.inputs.pw_builders import family_overrides, restart_once_on_unhandled_failure
from workflows.protocols import JanusProtocolMixin, namespace_inputs

SUPPORTED_PHASES = ("cubic", "zincblende", "wurtzite")


def validate_phase(value: orm.Str, _: Any) -> str | None:
    """Only phases whose lattice the workchain can read back are accepted."""
    if value.value not in SUPPORTED_PHASES:
        return f"phase {value.value!r} is not supported: use one of {SUPPORTED_PHASES}"
    return None


class BulkReferenceWorkChain(SealsStrandedChildren, JanusProtocolMixin, WorkChain):
    """Variable-cell relaxation of a bulk phase, giving its PBE lattice parameters."""

    _protocol_file = "bulk_reference.yaml"

    @classmethod
    def define(cls, spec: Any) -> None:
        """Inputs: formula, phase and the relaxation; outputs: relaxed cell and lattice."""
        super().define(spec)
        spec.input("formula", valid_type=orm.Str, help="Chemical formula, e.g. CsPbBr3 or CdS.")
        spec.input("phase", valid_type=orm.Str, validator=validate_phase, help="Crystal phase.")
        spec.input(
            "structure",
            valid_type=orm.StructureData,
            required=False,
            help="Starting cell; built from the experimental lattice when omitted.",
        )
        spec.expose_inputs(
            PwRelaxWorkChain, namespace="relax", exclude=("structure", "clean_workdir")
        )
        spec.outline(cls.setup, cls.run_relax, cls.inspect_relax, cls.results)
        spec.output("relaxed_structure", valid_type=orm.StructureData)
        spec.output("lattice", valid_type=orm.Dict, help="a, c (Å), experiment, deviation %.")
        spec.output("energy", valid_type=orm.Float, help="Total energy (eV) of the relaxed cell.")
        spec.exit_code(
            201,
            "ERROR_INVALID_FORMULA",
            message="cannot build {formula} in phase {phase}: {error}",
        )
        spec.exit_code(
            401,
            "ERROR_SUB_PROCESS_FAILED_RELAX",
            message="the relaxation PwRelaxWorkChain<{pk}> failed with exit {status}: "
            "see its report",
        )

    def setup(self) -> Any:
        """Use the given cell or build the experimental one (recorded by a calcfunction)."""
        if "structure" in self.inputs:
            self.ctx.structure = self.inputs.structure
            return None
        try:
            bulk_phase(self.inputs.formula.value, self.inputs.phase.value)
        except StructureInputError as exception:
            return self.exit_codes.ERROR_INVALID_FORMULA.format(
                formula=self.inputs.formula.value, phase=self.inputs.phase.value, error=exception
            )
        self.ctx.structure = bulk_structure(self.inputs.formula, self.inputs.phase)
        return None

    def run_relax(self) -> Any:
        """Launch the PwRelaxWorkChain."""
        inputs = self.exposed_inputs(PwRelaxWorkChain, namespace="relax")
        inputs["structure"] = self.ctx.structure
        inputs.setdefault("metadata", {})["call_link_label"] = "relax"
        return ToContext(relax=self.submit(PwRelaxWorkChain, **inputs))

    def inspect_relax(self) -> Any:
        """Stop with a 4xx code naming the failed relaxation."""
        relax = self.ctx.relax
        if not relax.is_finished_ok:
            return self.exit_codes.ERROR_SUB_PROCESS_FAILED_RELAX.format(
                pk=relax.pk, status=relax.exit_status
            )
        return None

    def results(self) -> None:
        """Relaxed cell, its lattice parameters and energy."""
        relaxed = self.ctx.relax.outputs.output_structure
        self.out("relaxed_structure", relaxed)
        self.out(
            "lattice", bulk_lattice_parameters(relaxed, self.inputs.formula, self.inputs.phase)
        )
        energy = self.ctx.relax.outputs.output_parameters["energy"]
        self.out("energy", orm.Float(energy).store())

    @classmethod
    def get_builder_from_protocol(
        cls,
        code: orm.AbstractCode,
        formula: str,
        phase: str,
        protocol: str | None = None,
        overrides: dict[str, Any] | None = None,
        options: dict[str, Any] | None = None,
        cutoff_elements: tuple[str, ...] = (),
    ) -> Any:
        """Builder for ``formula``/``phase`` with the given protocol (fast/balanced/stringent).

        ``cutoff_elements``: the other elements of the study, so that the bulk and the
        interface share one ``ecutwfc`` and their energies can be compared. The protocol
        key ``lattice`` (``{"a": Å}``, overridable) starts the relaxation from that lattice
        instead of the experimental one (formulas without one need it). Raises
        ``ValueError`` subclasses before anything is stored for an unknown protocol,
        formula or phase, or a family that lacks an element.
        """
        inputs = cls.checked_protocol_inputs(protocol, overrides)
        if phase not in SUPPORTED_PHASES:
            raise ValueError(f"phase {phase!r} is not supported: use one of {SUPPORTED_PHASES}")
        lattice = inputs.get("lattice") or {}
        structure = orm.StructureData(ase=primitive_bulk(formula, phase, **lattice))
        pw_overrides = family_overrides(
            structure, inputs["pseudo_flavour"], inputs["dual"], cutoff_elements=cutoff_elements
        )
        relax_overrides = recursive_merge(
            {"base_relax": pw_overrides, "base_init_relax": pw_overrides},
            with_ecutrho(inputs["relax"], inputs["dual"]),
        )
        relax = PwRelaxWorkChain.get_builder_from_protocol(
            code,
            structure,
            protocol=protocol,
            overrides=relax_overrides,
            relax_type=RelaxType.POSITIONS_CELL,
            electronic_type=ElectronicType.INSULATOR,
            options=options,
        )
        builder = cls.get_builder()
        builder.formula = orm.Str(formula)
        builder.phase = orm.Str(phase)
        if lattice:  # a starting cell of the given lattice, e.g. for a formula without one
            builder.structure = structure
        restart_once_on_unhandled_failure(relax.base_relax)
        # No loose pre-relaxation: bulk cells of 2-5 atoms start close to their minimum.
        builder.relax = namespace_inputs(relax, "structure", "clean_workdir", "base_init_relax")
        return builder
