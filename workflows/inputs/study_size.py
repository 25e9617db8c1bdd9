"""What a study of a protocol would run, read from the protocols: atoms, MD steps, snapshots."""

from __future__ import annotations

import copy
from typing import Any

from aiida_quantumespresso.workflows.protocols.utils import recursive_merge

from heterostructures.structure.interface_spec import build_from_spec
from heterostructures.structure.study_cost import StudySize
from workflows.inputs.cutoff_floors import pair_elements, raise_cutoffs_to_floor


def study_size(
    protocol: str,
    perovskite: str,
    chalcogenide: str,
    lattices: dict[str, float] | None = None,
) -> StudySize:
    """The :class:`StudySize` of ``janus.pipeline`` for this protocol and materials pair.

    ``lattices`` holds lattice constants (Å) of the interface spec, ``perovskite_a`` /
    ``chalcogenide_a``, for materials without a tabulated one (as ``run --perovskite-a``
    passes them). A pair whose cutoff floor raises the protocol's cutoffs (ZnS in ``fast``:
    50 Ry, ``cutoff_floors.py``) is not the measured ``fast`` case: its estimates are
    lower bounds. Raises ``ValueError`` subclasses (unknown protocol or material, a model
    that cannot be built) with a message naming what to change.
    """
    from workflows.workchains.aimd import AimdWorkChain
    from workflows.workchains.alignment import AlignmentSeriesWorkChain
    from workflows.workchains.electronic import ElectronicWorkChain
    from workflows.workchains.interface import InterfaceWorkChain
    from workflows.workchains.pipeline import PipelineWorkChain

    settings = PipelineWorkChain.checked_protocol_inputs(protocol, None)
    steps = raise_cutoffs_to_floor(settings["steps"], pair_elements(perovskite, chalcogenide))
    interface = InterfaceWorkChain.checked_protocol_inputs(protocol, steps["interface"])
    pair = {"perovskite": perovskite, "chalcogenide": chalcogenide, **(lattices or {})}
    atoms = len(build_from_spec({**interface["interface"], **pair}, {}).atoms)
    electronic = ElectronicWorkChain.checked_protocol_inputs(protocol, steps["electronic"])
    series = AlignmentSeriesWorkChain.checked_protocol_inputs(protocol, steps["alignment"])
    model = InterfaceWorkChain.checked_protocol_inputs(
        protocol,
        recursive_merge(copy.deepcopy(series["model"]), {"interface": series["interface"]}),
    )
    models = tuple(
        len(
            build_from_spec(
                {**model["interface"], **pair, "perovskite_planes": p, "chalcogenide_planes": c},
                {},
            ).atoms
        )
        for p, c in series["thicknesses"]
    )
    series_electronic = ElectronicWorkChain.checked_protocol_inputs(protocol, series["electronic"])
    aimd = AimdWorkChain.get_protocol_inputs(protocol, copy.deepcopy(steps["aimd"]))
    dt = float(aimd["timestep_fs"])
    production = max(1, round(float(aimd["production_time_fs"]) / dt))
    return StudySize(
        interface_atoms=atoms,
        interface_pseudo=interface["pseudo_flavour"],
        electronic_pseudo=electronic["pseudo_flavour"],
        alignment_models=models,
        alignment_pseudo=series_electronic["pseudo_flavour"],
        alignment_relaxed=bool(series["relax_atoms"]),
        md_steps=round(float(aimd["equilibration_time_fs"]) / dt) + production,
        md_pseudo=settings["md_pseudo_flavour"],
        snapshots=max(1, _na_frames(aimd, production) // int(aimd["snapshot_stride"])),
        matches_fast=protocol == "fast" and steps == settings["steps"],
    )


def _na_frames(aimd: dict[str, Any], production_steps: int) -> int:
    """NVE frames the NA snapshots are drawn from: all, or the first ``snapshot_window_fs``."""
    window = aimd.get("snapshot_window_fs")
    if window is None:
        return production_steps
    return min(production_steps, round(float(window) / float(aimd["timestep_fs"])) + 1)
