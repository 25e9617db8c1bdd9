"""``pipeline_builder``: the name README.md has shown for ``janus.pipeline``'s builder.

Kept as a thin call: the builder is ``PipelineWorkChain.get_builder_from_protocol``
(aiida-quantumespresso's convention), which composes every step from that step's own
``get_builder_from_protocol``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aiida import orm


def pipeline_builder(
    codes: Mapping[str, orm.AbstractCode],
    perovskite: str = "CsPbBr3",
    chalcogenide: str = "CdS",
    protocol: str = "fast",
    overrides: dict[str, Any] | None = None,
    options: dict[str, Any] | None = None,
) -> Any:
    """``PipelineWorkChain.get_builder_from_protocol`` with the same arguments."""
    from workflows.workchains.pipeline import PipelineWorkChain

    return PipelineWorkChain.get_builder_from_protocol(
        codes, perovskite, chalcogenide, protocol, overrides, options
    )
