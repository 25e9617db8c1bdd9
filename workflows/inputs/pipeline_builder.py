"""``get_builder_from_protocol`` for ``janus.pipeline``: every step from its own protocol.

Each step's namespace is filled by that workchain's own ``get_builder_from_protocol`` on a
preview of the interface (built in memory from experimental lattices: composition, site
order and labels are those the pipeline will have, only lattice and relaxed positions
differ), then the inputs the pipeline provides at run time are removed.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from aiida import orm
from aiida_quantumespresso.common.types import ElectronicType
from aiida_quantumespresso.workflows.protocols.utils import recursive_merge

from heterostructures.structure.interface_spec import build_from_spec
from workflows.inputs.pw_builders import load_family
from workflows.inputs.site_labels import labels_from_atoms
from workflows.protocols import JanusProtocolMixin
from workflows.workchains.aimd import AimdWorkChain
from workflows.workchains.alignment import AlignmentSeriesWorkChain
from workflows.workchains.bulk_reference import BulkReferenceWorkChain
from workflows.workchains.charge_densities import ChargeDensitiesWorkChain
from workflows.workchains.electronic import ElectronicWorkChain
from workflows.workchains.interface import InterfaceWorkChain
from workflows.workchains.na_snapshots import NaAnalysisWorkChain, NaSnapshotsWorkChain
from workflows.workchains.pipeline import PipelineWorkChain

BULK_PHASES = {"perovskite": "cubic", "chalcogenide": "zincblende"}


class PipelineProtocol(JanusProtocolMixin):
    """Reads ``protocols/pipeline.yaml``."""

    _protocol_file = "pipeline.yaml"

    @classmethod
    def get_available_protocols(cls) -> dict[str, Any]:
        """Protocols of the pipeline file."""
        protocols: dict[str, Any] = cls._load_protocol_file()["protocols"]
        return protocols


def _without(builder: Any, *names: str) -> dict[str, Any]:
    inputs: dict[str, Any] = builder._inputs(prune=True)
    for name in names:
        inputs.pop(name, None)
    return inputs


def pipeline_builder(
    codes: Mapping[str, orm.AbstractCode],
    perovskite: str = "CsPbBr3",
    chalcogenide: str = "CdS",
    protocol: str = "fast",
    overrides: dict[str, Any] | None = None,
    options: dict[str, Any] | None = None,
) -> Any:
    """A ready ``janus.pipeline`` builder; ``codes`` needs ``pw``, ``projwfc`` and ``pp``.

    ``overrides`` maps step namespaces (``interface``, ``electronic``, ``aimd``, …) to that
    step's protocol overrides. Raises ``ValueError`` subclasses for bad input before
    anything is stored.
    """
    missing = sorted({"pw", "projwfc", "pp"} - set(codes))
    if missing:
        raise ValueError(f"codes {missing} are not configured: run `aiida-janus setup`")
    settings = PipelineProtocol.checked_protocol_inputs(protocol, None)
    steps = recursive_merge(settings["steps"], overrides or {})

    def step_options(step: str) -> dict[str, Any] | None:
        """The protocol's options for ``step``, the caller's ``options`` on top."""
        merged = recursive_merge(
            copy.deepcopy(settings["options"].get(step, {})), copy.deepcopy(options or {})
        )
        return merged or None

    interface = InterfaceWorkChain.get_builder_from_protocol(
        codes["pw"],
        protocol,
        steps["interface"],
        perovskite,
        chalcogenide,
        step_options("interface"),
    )
    preview = build_from_spec(interface.interface.get_dict(), {})
    structure = orm.StructureData(ase=preview.atoms)
    labels = orm.Dict(labels_from_atoms(preview.atoms))
    elements = tuple(sorted(structure.get_symbols_set()))
    builder = PipelineWorkChain.get_builder()
    builder.perovskite, builder.chalcogenide = orm.Str(perovskite), orm.Str(chalcogenide)
    builder.protocol = orm.Str(protocol)
    for side, formula in (("perovskite", perovskite), ("chalcogenide", chalcogenide)):
        bulk = BulkReferenceWorkChain.get_builder_from_protocol(
            codes["pw"],
            formula,
            BULK_PHASES[side],
            protocol,
            steps[f"{side}_bulk"],
            step_options(f"{side}_bulk"),
            cutoff_elements=elements,
        )
        builder[f"{side}_bulk"] = _without(bulk)
    builder.interface = _without(interface, "lattices", "reference_energies")
    electronic = ElectronicWorkChain.get_builder_from_protocol(
        codes["pw"],
        codes["projwfc"],
        structure,
        labels,
        protocol,
        steps["electronic"],
        code_pp=codes["pp"],
        options=step_options("electronic"),
    )
    builder.electronic = _without(electronic, "structure", "site_labels")
    alignment = AlignmentSeriesWorkChain.get_builder_from_protocol(
        codes, protocol, steps["alignment"], perovskite, chalcogenide, step_options("alignment")
    )
    builder.alignment = _without(alignment, "lattices")
    densities = ChargeDensitiesWorkChain.get_builder_from_protocol(
        codes["pp"],
        structure,
        labels,
        orm.RemoteData(remote_path="/", computer=codes["pp"].computer),
        protocol=protocol,
        overrides=steps["charge_densities"],
        options=step_options("charge_densities"),
    )
    densities_inputs = _without(densities, "structure", "site_labels", "parent_folder")
    selection = {
        **densities_inputs.get("selection", orm.Dict()).get_dict(),
        "donor": "perovskite",
        "acceptor": "chalcogenide",
    }
    if settings["md_gamma_only"] and selection.get("k_index") is None:
        # The NA snapshots are Γ-only: IS and FS must be Γ states to be followed along the
        # trajectory (the lowest ones over all k can sit at different k-points).
        selection["k_index"] = "gamma"
    densities_inputs["selection"] = orm.Dict(selection)
    builder.charge_densities = densities_inputs
    builder.aimd = _aimd_inputs(
        codes["pw"], structure, protocol, steps["aimd"], settings, step_options("aimd")
    )
    snapshots = NaSnapshotsWorkChain.get_builder_from_protocol(
        codes["pw"],
        orm.TrajectoryData([structure]),
        protocol=protocol,
        overrides=steps["na_snapshots"],
        options=step_options("na_snapshots"),
    )
    builder.na_snapshots = _without(snapshots, "trajectory", "site_labels")
    analysis = NaAnalysisWorkChain.get_builder_from_protocol(
        orm.ArrayData(), 1, 1, protocol=protocol, overrides=steps["na_analysis"]
    )
    builder.na_analysis = _without(analysis, "na_hamiltonian", "initial_band", "final_band")
    return builder


def _aimd_inputs(
    code: orm.AbstractCode,
    structure: orm.StructureData,
    protocol: str,
    overrides: dict[str, Any],
    settings: dict[str, Any],
    options: dict[str, Any] | None,
) -> dict[str, Any]:
    family = load_family(settings["md_pseudo_flavour"])
    # Fixed occupations, as in the relaxation: the interface is a semiconductor, and on
    # the demo model aiida-quantumespresso's metallic default (cold smearing, plain
    # mixing) left the first MD SCF unconverged after 80 iterations, where fixed
    # occupations converge in 11 (tests/fixtures/qe67_md_interface_scf_not_converged).
    aimd = AimdWorkChain.get_builder_from_protocol(
        code,
        structure,
        protocol=protocol,
        overrides=copy.deepcopy(overrides),
        pseudo_family=family.label,
        options=options,
        electronic_type=ElectronicType.INSULATOR,
    )
    inputs = _without(aimd, "structure")
    if settings["md_gamma_only"]:
        mesh = orm.KpointsData()
        mesh.set_kpoints_mesh([1, 1, 1])
        inputs["md"].pop("kpoints_distance", None)
        inputs["md"]["kpoints"] = mesh
        pw_settings = inputs["md"]["pw"].get("settings", orm.Dict()).get_dict()
        inputs["md"]["pw"]["settings"] = orm.Dict({**pw_settings, "gamma_only": True})
    return inputs
