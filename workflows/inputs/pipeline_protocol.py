"""The steps of ``janus.pipeline`` from their own protocols (``get_builder_from_protocol``).

``PipelineWorkChain.get_builder_from_protocol`` composes each step's namespace from the
builder of that workchain's own ``get_builder_from_protocol`` with the inputs the pipeline
provides at run time removed, as aiida-quantumespresso's ``PdosWorkChain`` composes its
``scf`` and ``nscf``: no placeholder nodes stand in for what later steps produce.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from aiida import orm
from aiida.engine import WorkChain
from aiida_quantumespresso.common.types import ElectronicType
from aiida_quantumespresso.workflows.protocols.utils import recursive_merge

from heterostructures.structure.interface_spec import build_from_spec
from workflows.inputs.cutoff_floors import floored_inputs
from workflows.inputs.pipeline_steps import SIDES
from workflows.inputs.pw_builders import load_family, use_gamma_tricks
from workflows.inputs.site_labels import labels_from_atoms
from workflows.protocols import namespace_inputs
from workflows.workchains.aimd import AimdWorkChain
from workflows.workchains.alignment import AlignmentSeriesWorkChain
from workflows.workchains.bulk_reference import BulkReferenceWorkChain
from workflows.workchains.charge_densities import ChargeDensitiesWorkChain
from workflows.workchains.electronic import ElectronicWorkChain
from workflows.workchains.interface import InterfaceWorkChain
from workflows.workchains.na_snapshots import NaAnalysisWorkChain, NaSnapshotsWorkChain

BULK_PHASES = {"perovskite": "cubic", "chalcogenide": "zincblende"}
REQUIRED_CODES = ("pw", "projwfc", "pp")

# (workchain, namespace, inputs the pipeline provides at run time) of each exposed step
EXPOSED_STEPS: tuple[tuple[type[WorkChain], str, tuple[str, ...]], ...] = (
    *((BulkReferenceWorkChain, f"{side}_bulk", ()) for side in SIDES),
    (InterfaceWorkChain, "interface", ("lattices", "reference_energies")),
    (ElectronicWorkChain, "electronic", ("structure", "site_labels")),
    (AlignmentSeriesWorkChain, "alignment", ("lattices",)),
    (
        ChargeDensitiesWorkChain,
        "charge_densities",
        ("structure", "site_labels", "parent_folder", "projections"),
    ),
    (AimdWorkChain, "aimd", ("structure",)),
    (NaSnapshotsWorkChain, "na_snapshots", ("trajectory", "site_labels")),
    (NaAnalysisWorkChain, "na_analysis", ("na_hamiltonian", "initial_band", "final_band")),
)


def add_structure_steps(
    builder: Any, steps: StepProtocols, perovskite: str, chalcogenide: str
) -> tuple[orm.StructureData, orm.Dict]:
    """``interface`` and both ``*_bulk`` steps from their own protocols; the preview of the
    interface and its labels (:func:`interface_preview`) for the later steps.

    The bulk references get the interface's elements as ``cutoff_elements``: bulk and
    interface then share one ``ecutwfc`` and their total energies can be compared.
    """
    interface = InterfaceWorkChain.get_builder_from_protocol(
        steps.codes["pw"],
        steps.protocol,
        steps.steps["interface"],
        perovskite,
        chalcogenide,
        steps.options_of("interface"),
    )
    structure, labels = interface_preview(interface.interface)
    elements = tuple(sorted(structure.get_symbols_set()))
    for side, formula in zip(SIDES, (perovskite, chalcogenide), strict=True):
        bulk = BulkReferenceWorkChain.get_builder_from_protocol(
            steps.codes["pw"],
            formula,
            BULK_PHASES[side],
            steps.protocol,
            steps.steps[f"{side}_bulk"],
            steps.options_of(f"{side}_bulk"),
            cutoff_elements=elements,
        )
        builder[f"{side}_bulk"] = namespace_inputs(bulk)
    interface.keep_preview_composition = orm.Bool(True)  # later steps are set up on it
    builder.interface = namespace_inputs(interface)
    return structure, labels


def add_electronic_steps(
    builder: Any,
    steps: StepProtocols,
    structure: orm.StructureData,
    labels: orm.Dict,
    perovskite: str,
    chalcogenide: str,
) -> None:
    """``electronic``, ``alignment`` and ``charge_densities`` from their own protocols."""
    codes, protocol = steps.codes, steps.protocol
    electronic = ElectronicWorkChain.get_builder_from_protocol(
        codes["pw"],
        codes["projwfc"],
        structure,
        labels,
        protocol,
        steps.steps["electronic"],
        code_pp=codes["pp"],
        options=steps.options_of("electronic"),
    )
    builder.electronic = namespace_inputs(electronic, "structure", "site_labels")
    check_lineup_planes(structure, labels, electronic.analysis.get_dict())
    alignment = AlignmentSeriesWorkChain.get_builder_from_protocol(
        codes,
        protocol,
        steps.steps["alignment"],
        perovskite,
        chalcogenide,
        steps.options_of("alignment"),
    )
    builder.alignment = namespace_inputs(alignment)
    densities = ChargeDensitiesWorkChain.get_builder_from_protocol(
        codes["pp"],
        structure,
        labels,
        protocol=protocol,
        overrides=steps.steps["charge_densities"],
        options=steps.options_of("charge_densities"),
    )
    selection = ChargeDensitiesWorkChain.get_protocol_inputs(
        protocol, copy.deepcopy(steps.steps["charge_densities"])
    )["selection"]
    densities.selection = transfer_selection(steps.md_gamma_only, selection)
    builder.charge_densities = namespace_inputs(densities, "structure", "site_labels")


def check_lineup_planes(
    structure: orm.StructureData, labels: orm.Dict, analysis: Mapping[str, Any]
) -> None:
    """Raise ``ValueError`` naming the override when a domain of the interface has one
    atomic plane and ``analysis`` gives no ``lineup_periods_ang``.

    Why here: the electronic step's potential line-up averages over each domain's stacking
    period (``lineup_windows``), and would refuse such a domain only after its SCF, NSCF,
    projwfc.x and pp.x had run (``run --structure`` refuses a file the same way).
    """
    from heterostructures.electronic.lineup_windows import (
        MIN_DOMAIN_PLANES,
        PLANES_TO_REBUILD,
        one_plane_domains,
    )

    if analysis.get("lineup_periods_ang"):
        return
    atoms = structure.get_ase()
    for key in ("domain", "layer"):
        atoms.arrays[key] = np.asarray(labels[key])
    thin = one_plane_domains(atoms)
    if thin:
        domains = " and ".join(f"{domain!r}" for domain in thin)
        fixes = " and ".join(
            f"overrides['interface']['interface']['{domain}_planes'] to {PLANES_TO_REBUILD[domain]}"
            for domain in thin
        )
        raise ValueError(
            f"the interface's {domains} {'domain has' if len(thin) == 1 else 'domains have'}"
            f" one atomic plane, and the electronic step's potential line-up needs"
            f" {MIN_DOMAIN_PLANES} per domain: set {fixes} (or more planes), or give the"
            " stacking periods as overrides['electronic']['analysis']['lineup_periods_ang']"
            " (windows, Å)"
        )


def add_dynamics_steps(builder: Any, steps: StepProtocols, structure: orm.StructureData) -> None:
    """``aimd``, ``na_snapshots`` and ``na_analysis`` from their own protocols.

    The AIMD uses fixed occupations, as the relaxation: the interface is a
    semiconductor, and on the demo model aiida-quantumespresso's metallic default (cold
    smearing, plain mixing) left the first MD SCF unconverged after 80 iterations,
    where fixed occupations converge in 11
    (tests/fixtures/qe67_md_interface_scf_not_converged).
    """
    code, protocol = steps.codes["pw"], steps.protocol
    aimd = AimdWorkChain.get_builder_from_protocol(
        code,
        structure,
        protocol=protocol,
        overrides=copy.deepcopy(steps.steps["aimd"]),
        pseudo_family=load_family(steps.md_pseudo_flavour).label,
        options=steps.options_of("aimd"),
        electronic_type=ElectronicType.INSULATOR,
    )
    if steps.md_gamma_only:
        use_gamma_tricks(aimd.md)
    builder.aimd = namespace_inputs(aimd, "structure")
    snapshots = NaSnapshotsWorkChain.get_builder_from_protocol(
        code,
        orm.TrajectoryData([structure]),
        protocol=protocol,
        overrides=steps.steps["na_snapshots"],
        options=steps.options_of("na_snapshots"),
    )
    builder.na_snapshots = namespace_inputs(snapshots, "trajectory")
    analysis = NaAnalysisWorkChain.get_builder_from_protocol(
        protocol=protocol, overrides=steps.steps["na_analysis"]
    )
    builder.na_analysis = namespace_inputs(analysis)


@dataclass(frozen=True)
class StepProtocols:
    """What each step's own ``get_builder_from_protocol`` gets from the pipeline protocol.

    ``steps``: per-step overrides (the protocol's ``steps`` with the caller's on top);
    ``step_options``: the protocol's per-step scheduler options; ``options``: the caller's
    options (e.g. MPI ranks), applied on top of those of every step; ``md_pseudo_flavour``
    the family of the AIMD and ``md_gamma_only`` whether the MD and the NA snapshots
    sample Γ only.
    """

    codes: Mapping[str, orm.AbstractCode]
    protocol: str
    steps: dict[str, Any]
    step_options: dict[str, Any]
    options: dict[str, Any] | None
    md_pseudo_flavour: str
    md_gamma_only: bool

    @classmethod
    def from_protocol(
        cls,
        codes: Mapping[str, orm.AbstractCode],
        protocol: str,
        settings: dict[str, Any],
        overrides: dict[str, Any] | None,
        options: dict[str, Any] | None,
        elements: Iterable[str],
    ) -> StepProtocols:
        """Check the codes; merge the caller's step overrides onto the protocol's, whose
        explicit cutoffs are first raised to the floor of the pair's ``elements``
        (:func:`~workflows.inputs.cutoff_floors.raise_cutoffs_to_floor`)."""
        missing = sorted(set(REQUIRED_CODES) - set(codes))
        if missing:
            raise ValueError(f"codes {missing} are not configured: run `aiida-janus setup`")
        steps = floored_inputs(settings["steps"], overrides, elements)
        return cls(
            codes,
            protocol,
            steps,
            settings["options"],
            options,
            settings["md_pseudo_flavour"],
            bool(settings["md_gamma_only"]),
        )

    def options_of(self, step: str) -> dict[str, Any] | None:
        """The protocol's scheduler options for ``step``, the caller's ``options`` on top."""
        merged = recursive_merge(
            copy.deepcopy(self.step_options.get(step, {})), copy.deepcopy(self.options or {})
        )
        return merged or None


def pipeline_interface_spec(
    protocol: str, perovskite: str, chalcogenide: str, overrides: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The spec of the interface ``janus.pipeline`` builds for the pair under ``protocol``:
    the pipeline protocol's ``interface`` step inputs (``overrides``, pipeline step
    overrides, on top) through janus.interface's own protocol, as
    :func:`add_structure_steps` builds it. At run time the relaxed bulk lattices replace
    the experimental ones; atoms, facets and plane counts stay."""
    from workflows.workchains.pipeline import PipelineWorkChain

    settings = PipelineWorkChain.checked_protocol_inputs(protocol, None)
    steps = recursive_merge(copy.deepcopy(settings["steps"]), copy.deepcopy(overrides or {}))
    return InterfaceWorkChain.protocol_spec(protocol, steps["interface"], perovskite, chalcogenide)


def interface_preview(spec: orm.Dict) -> tuple[orm.StructureData, orm.Dict]:
    """The interface of ``spec`` built in memory from experimental lattices, and its labels.

    Composition, site order and labels are those the pipeline will have (only the lattice
    and the relaxed positions differ), which is all the later steps' protocol builders
    read from it (pseudopotentials, cutoffs, band counts, label checks). Relaxed lattices
    that build another composition stop the interface step with exit 320
    (``keep_preview_composition``) before anything is set up on the wrong model.
    """
    atoms = build_from_spec(spec.get_dict(), {}).atoms
    return orm.StructureData(ase=atoms), orm.Dict(labels_from_atoms(atoms))


def transfer_selection(gamma_only: bool, protocol: Mapping[str, Any] | None = None) -> orm.Dict:
    """IS/FS selection of the pipeline: donor perovskite, acceptor chalcogenide, over the
    ``protocol``'s own selection (``charge_densities.yaml``: ``carrier``, ``threshold``).

    Why the protocol's: ``janus.charge_densities``' builder only fills ``selection`` when it
    is given the projections, which the pipeline provides at run time; without this the
    step fell back to ``DEFAULT_SELECTION`` (threshold 0.5) and ``stringent``'s 0.7 was lost.
    With Γ-only NA snapshots, IS and FS must be Γ states to be followed along the
    trajectory (the lowest ones over all k can sit at different k-points).
    """
    selection: dict[str, Any] = {
        **(protocol or {}),
        "donor": "perovskite",
        "acceptor": "chalcogenide",
    }
    if gamma_only:
        selection["k_index"] = "gamma"
    return orm.Dict(selection)
