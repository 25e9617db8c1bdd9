"""``janus.alignment``: the band alignment on a thickness series, converged and gap-corrected.

One model's offsets say little: between the 13- and 26-atom superlattices the valence
offset moved by more than 0.4 eV (DESIGN.md), because thin domains are neither bulk-like
nor free of the other side's tails. This workchain builds a series of models with the
same in-plane cell and growing thickness (``janus.interface`` per model, relaxed or not),
runs ``janus.electronic`` on each (both routes; route 2 with each side's bulk unit
strained like the interface, which is the same for every model of the series), and
states convergence: the thickest model's value, its change from the next thinner model
as the uncertainty, "converged" only when that change is ≤ 0.05 eV.

PBE without SOC misplaces conduction bands, so the converged valence offset is combined
with three sets of bulk gaps, ΔE_C = ΔE_V + (E_g^A − E_g^B): the PBE gaps of the strained
references, cited experimental gaps (an input node, so the numbers and their sources are
in the provenance graph), and optionally HSE06 gaps of the same strained references
(``hybrid``, QE's ACE; :mod:`workflows.inputs.hybrid_scf`). The analysis is the calcfunction
:func:`workflows.calcfunctions.alignment.alignment_series`.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from aiida import orm
from aiida.engine import ToContext, WorkChain, if_, while_
from aiida_quantumespresso.workflows.protocols.utils import recursive_merge
from aiida_quantumespresso.workflows.pw.base import PwBaseWorkChain

from heterostructures.electronic.band_gaps import has_cited_gaps
from heterostructures.structure.interface_spec import build_from_spec
from workflows.calcfunctions.alignment import (
    FIGURES,
    experimental_gap_inputs,
    model_batches,
    model_label,
    plan_models,
    series_outputs,
)
from workflows.calcfunctions.hybrid_gap import hybrid_band_gap
from workflows.engine.stranded import SealsStrandedChildren
from workflows.inputs.alignment_models import (
    model_electronic_inputs,
    model_relax_inputs,
)
from workflows.inputs.cutoff_floors import floored_inputs, pair_elements
from workflows.inputs.electronic_steps import absolute_scf_thresholds
from workflows.inputs.hybrid_scf import (
    DEFAULT_HYBRID_SETTINGS,
    check_norm_conserving,
    ecutfock_ry,
    hybrid_scf_inputs,
)
from workflows.inputs.site_labels import labels_from_atoms
from workflows.protocols import JanusProtocolMixin, namespace_inputs
from workflows.provenance.queries import tag_study
from workflows.workchains.electronic import ElectronicWorkChain
from workflows.workchains.interface import InterfaceWorkChain

SIDES = ("perovskite", "chalcogenide")


def validate_thicknesses(value: orm.List, _: Any) -> str | None:
    """At least two distinct (perovskite planes, chalcogenide planes) pairs of positive ints."""
    try:
        plan_models(value.get_list())
    except ValueError as error:
        return f"thicknesses: {error}"
    return None


def validate_hybrid(inputs: dict[str, Any], _: Any) -> str | None:
    """HSE06 gaps need norm-conserving pseudopotentials (QE 6.7: hybrids with PAW are "not
    functional"); refused before anything runs, with the fix."""
    if not inputs or "hybrid" not in inputs:
        return None
    try:
        check_norm_conserving(inputs["electronic"]["scf"]["pw"]["pseudos"])
    except ValueError as error:
        return f"hybrid: {error}; drop `hybrid` or use NC pseudopotentials (protocol fast)"
    return None


class AlignmentSeriesWorkChain(SealsStrandedChildren, JanusProtocolMixin, WorkChain):
    """Band offsets and type against model thickness, converged, with gap corrections."""

    _protocol_file = "alignment.yaml"

    @classmethod
    def define(cls, spec: Any) -> None:
        """The model template, the thicknesses, the electronic step and the gap inputs."""
        super().define(spec)
        spec.input(
            "thicknesses",
            valid_type=orm.List,
            validator=validate_thicknesses,
            help="[[perovskite planes, chalcogenide planes], ...]: one model each, thin to thick.",
        )
        spec.expose_inputs(InterfaceWorkChain, include=("lattices",))  # one port for all models
        spec.expose_inputs(
            InterfaceWorkChain,
            namespace="model",
            exclude=("lattices", "reference_energies"),
            namespace_options={"help": "janus.interface template; its plane counts are replaced."},
        )
        spec.expose_inputs(
            ElectronicWorkChain,
            namespace="electronic",
            exclude=("structure", "site_labels", "lineup_references"),
        )
        spec.input(
            "experimental_gaps",
            valid_type=orm.Dict,
            required=False,
            help="{perovskite|chalcogenide: {material, gap_ev, source}}: cited bulk gaps (eV).",
        )
        spec.input(
            "hybrid",
            valid_type=orm.Dict,
            required=False,
            help="HSE06 settings (inputs.hybrid_scf) to compute hybrid gaps of the strained "
            "bulk references with the electronic SCF's code, pseudopotentials and cutoffs.",
        )
        spec.input(
            "max_concurrent_models",
            valid_type=orm.Int,
            default=lambda: orm.Int(0),
            help="Models built and aligned at the same time after the thinnest (0: all). "
            "1 on a workstation, so jobs do not share its cores; 0 on a cluster.",
        )
        spec.inputs.validator = validate_hybrid
        spec.outline(
            cls.setup,
            while_(cls.has_next_batch)(
                cls.run_models,
                cls.inspect_models,
                cls.run_alignments,
                cls.inspect_alignments,
            ),
            if_(cls.should_run_hybrid)(cls.run_hybrid, cls.inspect_hybrid),
            cls.results,
        )
        cls._define_outputs(spec)

    @staticmethod
    def _define_outputs(spec: Any) -> None:
        """Models, alignments, hybrid gaps, the series with its figures; exit codes."""
        spec.output_namespace("models", valid_type=orm.StructureData, dynamic=True)
        spec.output_namespace(
            "alignments", valid_type=orm.Dict, dynamic=True, help="janus.electronic per model."
        )
        spec.output_namespace(
            "hybrid_gaps", valid_type=orm.Dict, dynamic=True, required=False, help="By side."
        )
        spec.output("series", valid_type=orm.Dict, help="Table, convergence, corrections, type.")
        for name in FIGURES:
            spec.output(
                name, valid_type=orm.SinglefileData, help="300 dpi PNG (caption in series)."
            )
            spec.output(f"{name}_vector", valid_type=orm.SinglefileData, help="The same, SVG.")
        spec.exit_code(
            401,
            "ERROR_MODEL_FAILED",
            message="janus.interface <{pk}> of model {label} failed ({status}): see its report",
        )
        spec.exit_code(
            402,
            "ERROR_ALIGNMENT_FAILED",
            message="janus.electronic <{pk}> of model {label} failed ({status}): see its report",
        )
        spec.exit_code(
            403,
            "ERROR_HYBRID_FAILED",
            message="the HSE06 SCF <{pk}> of the {side} reference failed ({status})",
        )

    def setup(self) -> None:
        """The models of the series in thickness order, labelled like ``p5_c4``; tagged for
        ``aiida-janus query alignment`` with the materials pair."""
        spec = self.inputs.model.interface
        tag_study(self.node, perovskite=spec["perovskite"], chalcogenide=spec["chalcogenide"])
        self.ctx.thicknesses = plan_models(self.inputs.thicknesses.get_list())
        self.ctx.labels = [model_label(*planes) for planes in self.ctx.thicknesses]
        self.ctx.batches = model_batches(self.ctx.labels, self.inputs.max_concurrent_models.value)
        self.ctx.batch_index = 0

    def has_next_batch(self) -> bool:
        """The thinnest model runs first, alone: its strained bulk references serve all."""
        return bool(self.ctx.batch_index < len(self.ctx.batches))

    def _batch(self) -> list[str]:
        return list(self.ctx.batches[self.ctx.batch_index])

    def run_models(self) -> Any:
        """Build (and relax, per the template) every model side by side."""
        running = {}
        template = self.exposed_inputs(InterfaceWorkChain, namespace="model")
        spec = template["interface"].get_dict()
        planes = dict(zip(self.ctx.labels, self.ctx.thicknesses, strict=True))
        for label in self._batch():
            model_spec = spec | dict(
                zip(("perovskite_planes", "chalcogenide_planes"), planes[label], strict=True)
            )
            inputs = dict(template, interface=orm.Dict(model_spec))
            if "relax" in template:
                inputs["relax"] = model_relax_inputs(template["relax"], spec, model_spec)
            inputs["lattices"] = dict(self.inputs.get("lattices", {}))
            inputs["metadata"] = {"call_link_label": f"model_{label}"}
            running[f"model_{label}"] = self.submit(InterfaceWorkChain, **inputs)
        return ToContext(**running)

    def inspect_models(self) -> Any:
        """Stop with 401 naming the first model that failed."""
        for label in self._batch():
            node = self.ctx[f"model_{label}"]
            if not node.is_finished_ok:
                return self.exit_codes.ERROR_MODEL_FAILED.format(
                    pk=node.pk, label=label, status=node.exit_status
                )
        return None

    def _electronic_inputs(self, model: orm.WorkflowNode) -> dict[str, Any]:
        """The electronic template on one model: its structure, labels, bands, references."""
        inputs = model_electronic_inputs(
            self.exposed_inputs(ElectronicWorkChain, namespace="electronic"),
            model.outputs.structure,
            model.outputs.site_labels,
        )
        if "pp_potential" in inputs and "bulk_references" in self.ctx:
            inputs["bulk_references"] = self.ctx.bulk_references
        elif "pp_potential" in inputs:
            inputs["lineup_references"] = dict(model.outputs.strained_bulk)
        return inputs

    def run_alignments(self) -> Any:
        """``janus.electronic`` (both routes) on the models of this batch side by side."""
        running = {}
        for label in self._batch():
            inputs = self._electronic_inputs(self.ctx[f"model_{label}"])
            inputs["metadata"] = {"call_link_label": f"alignment_{label}"}
            running[f"alignment_{label}"] = self.submit(ElectronicWorkChain, **inputs)
        return ToContext(**running)

    def inspect_alignments(self) -> Any:
        """Stop with 402 naming the first model whose electronic step failed; keep the first
        model's route 2 references for the others; go to the next batch."""
        for label in self._batch():
            node = self.ctx[f"alignment_{label}"]
            if not node.is_finished_ok:
                return self.exit_codes.ERROR_ALIGNMENT_FAILED.format(
                    pk=node.pk, label=label, status=node.exit_status
                )
            routes = node.outputs.band_alignment.get_dict().get("routes", {})
            offsets = ", ".join(
                f"{name} ΔE_V {_ev(route.get('valence_offset_ev'))} ΔE_C "
                f"{_ev(route.get('conduction_offset_ev'))} eV ({route.get('alignment_type')})"
                for name, route in routes.items()
            )
            self.report(f"model {label}: {offsets or 'undetermined (metallic)'}")
        first = self.ctx[f"alignment_{self.ctx.labels[0]}"]
        if "bulk_references" in first.outputs:
            self.ctx.bulk_references = dict(first.outputs.bulk_references)
        self.ctx.batch_index += 1
        return None

    def should_run_hybrid(self) -> bool:
        """HSE06 gaps only when settings are given (the ``stringent`` protocol)."""
        return "hybrid" in self.inputs

    def run_hybrid(self) -> Any:
        """HSE06 SCF of each strained bulk reference (same for every model of the series)."""
        scf = dict(self.exposed_inputs(ElectronicWorkChain, namespace="electronic")["scf"])
        model = self.ctx[f"model_{self.ctx.labels[-1]}"]
        running = {}
        given = self.inputs.electronic.get("thresholds_per_atom")
        per_atom = given.get_dict() if given is not None else None
        for side in SIDES:
            structure = model.outputs.strained_bulk[side]
            inputs = hybrid_scf_inputs(scf, structure, self.inputs.hybrid.get_dict(), per_atom)
            inputs["metadata"] = {"call_link_label": f"hybrid_{side}"}
            running[f"hybrid_{side}"] = self.submit(PwBaseWorkChain, **inputs)
        return ToContext(**running)

    def inspect_hybrid(self) -> Any:
        """Stop with 403 naming the failed HSE06 SCF; store each side's gap."""
        self.ctx.hybrid_gaps = {}
        for side in SIDES:
            node = self.ctx[f"hybrid_{side}"]
            if not node.is_finished_ok:
                return self.exit_codes.ERROR_HYBRID_FAILED.format(
                    pk=node.pk, side=side, status=node.exit_status
                )
            self.ctx.hybrid_gaps[side] = hybrid_band_gap(
                node.outputs.output_band,
                node.outputs.output_parameters,
                node.inputs.pw.parameters,
            )
        return None

    def results(self) -> None:
        """Models, per-model alignments, and the series analysis (a calcfunction)."""
        nodes: dict[str, orm.Data] = {}
        for label in self.ctx.labels:
            structure = self.ctx[f"model_{label}"].outputs.structure
            alignment = self.ctx[f"alignment_{label}"].outputs.band_alignment
            self.out(f"models.{label}", structure)
            self.out(f"alignments.{label}", alignment)
            nodes[f"structure_{label}"] = structure
            nodes[f"alignment_{label}"] = alignment
        for side, gap in self.ctx.get("hybrid_gaps", {}).items():
            self.out(f"hybrid_gaps.{side}", gap)
            nodes[f"hybrid_{side}"] = gap
        if "experimental_gaps" in self.inputs:
            nodes["experimental_gaps"] = self.inputs.experimental_gaps
        outputs = series_outputs(thicknesses=self.inputs.thicknesses, **nodes)
        for name, node in outputs.items():
            self.out(name, node)

    @classmethod
    def get_builder_from_protocol(
        cls,
        codes: Mapping[str, orm.AbstractCode],
        protocol: str | None = None,
        overrides: dict[str, Any] | None = None,
        perovskite: str = "CsPbBr3",
        chalcogenide: str = "CdS",
        options: dict[str, Any] | None = None,
    ) -> Any:
        """Builder for a materials pair; ``codes`` needs ``pw``, ``projwfc`` and ``pp``.

        The electronic template is made on the thickest model (built in memory); each
        model gets its own ``nbnd`` and SCF thresholds at run time, the references theirs
        (``electronic.thresholds_per_atom``: aiida-quantumespresso's per-atom values).
        The protocol's own cutoffs are raised to the pair's floor, ``overrides`` win
        (``cutoff_floors.py``). Raises ``ValueError``s before anything is stored.
        """
        own = cls.checked_protocol_inputs(protocol, None)
        inputs = floored_inputs(own, overrides, pair_elements(perovskite, chalcogenide))
        thicknesses = plan_models(inputs["thicknesses"])
        model = InterfaceWorkChain.get_builder_from_protocol(
            codes["pw"],
            protocol,
            recursive_merge(copy.deepcopy(inputs["model"]), {"interface": inputs["interface"]}),
            perovskite,
            chalcogenide,
            options,
        )
        spec = model.interface.get_dict()
        previews = [
            build_from_spec(spec | {"perovskite_planes": p, "chalcogenide_planes": c}, {})
            for p, c in thicknesses
        ]
        thickest = previews[-1].atoms
        if absolute := sorted(absolute_scf_thresholds(inputs["electronic"])):
            raise ValueError(
                f"alignment.electronic.scf: give meta_parameters {absolute} (Ry per atom), not "
                "an absolute threshold: each model of a series gets its own atoms' worth"
            )
        electronic = ElectronicWorkChain.get_builder_from_protocol(
            codes["pw"],
            codes["projwfc"],
            orm.StructureData(ase=thickest),
            orm.Dict(labels_from_atoms(thickest)),
            protocol,
            inputs["electronic"],
            code_pp=codes["pp"],
            options=options,
        )
        builder = cls.get_builder()
        builder.thicknesses = orm.List([list(pair) for pair in thicknesses])
        model.relax_atoms = orm.Bool(bool(inputs["relax_atoms"]))
        builder.model = namespace_inputs(model)
        # A = perovskite, B = chalcogenide in every model, as the paper states its levels.
        electronic.analysis = orm.Dict(electronic.analysis.get_dict() | {"domains": list(SIDES)})
        builder.electronic = namespace_inputs(electronic, "structure", "site_labels")
        _series_settings(builder, inputs, (perovskite, chalcogenide), electronic.scf.pw)
        return builder


def _series_settings(
    builder: Any, inputs: dict[str, Any], pair: tuple[str, str], scf_pw: Any
) -> None:
    """Experimental gaps, concurrency and hybrid settings of the series' builder.

    The hybrid ``ecutfock`` is checked here against the SCF's cutoffs (which a pair's
    cutoff floor may have raised), not only when the hybrid runs after the whole series.
    """
    if inputs.get("experimental_gaps") and has_cited_gaps(*pair):
        builder.experimental_gaps = orm.Dict(experimental_gap_inputs(*pair))
    builder.max_concurrent_models = orm.Int(int(inputs["max_concurrent_models"]))
    if inputs.get("hybrid") is not None:
        settings = {**DEFAULT_HYBRID_SETTINGS, **inputs["hybrid"]}
        ecutfock_ry(scf_pw.parameters["SYSTEM"], settings["ecutfock_ry"])
        builder.hybrid = orm.Dict(inputs["hybrid"])


def _ev(value: object) -> str:
    """An energy for a report line: signed, to the meV (the offsets' own precision)."""
    return f"{value:+.3f}" if isinstance(value, (int, float)) else "n/a"
