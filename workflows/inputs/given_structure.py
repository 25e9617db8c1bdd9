"""A ``janus.pipeline`` builder for an interface given as a structure, not built by it.

With ``structure`` and ``site_labels`` the pipeline skips the bulk references and the
interface build and relaxation. The later steps' protocol builders must then read that
structure (its composition sets ``nbnd``, its labels the layer projections), not the
preview of the model the pipeline would have built, so they are composed here on it with
the same step functions :meth:`PipelineWorkChain.get_builder_from_protocol` uses.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aiida import orm


def pipeline_builder_on_structure(
    codes: Mapping[str, orm.AbstractCode],
    perovskite: str,
    chalcogenide: str,
    protocol: str,
    structure: orm.StructureData,
    site_labels: orm.Dict,
    overrides: dict[str, Any] | None = None,
    options: dict[str, Any] | None = None,
) -> Any:
    """The pipeline's builder from ``structure`` on: electronic, alignment series, IS/FS,
    AIMD and NA steps from their own protocols (as the pipeline composes them).

    The alignment series still builds its own models of the pair (their lattices are the
    experimental ones, or those given in ``overrides``). Raises ``ValueError`` subclasses
    (labels that do not fit, an element missing from a family) before anything is stored.
    """
    from workflows.inputs.cutoff_floors import pair_elements
    from workflows.inputs.pipeline_protocol import (
        StepProtocols,
        add_dynamics_steps,
        add_electronic_steps,
    )
    from workflows.inputs.site_labels import check_labels
    from workflows.workchains.pipeline import PipelineWorkChain

    check_labels(site_labels.get_dict(), len(structure.sites))
    settings = PipelineWorkChain.checked_protocol_inputs(protocol, None)
    pair = pair_elements(perovskite, chalcogenide)
    steps = StepProtocols.from_protocol(codes, protocol, settings, overrides, options, pair)
    builder = PipelineWorkChain.get_builder()
    builder.perovskite, builder.chalcogenide = orm.Str(perovskite), orm.Str(chalcogenide)
    builder.protocol = orm.Str(protocol)
    builder.structure, builder.site_labels = structure, site_labels
    add_electronic_steps(builder, steps, structure, site_labels, perovskite, chalcogenide)
    add_dynamics_steps(builder, steps, structure)
    return builder
