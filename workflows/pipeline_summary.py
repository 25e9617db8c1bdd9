"""The study summary: one Dict gathering the headline numbers of every finished step.

Made by a calcfunction, so each number in the summary links back to the node it came
from (``aiida-janus query trace`` follows those links).
"""

from __future__ import annotations

from typing import Any

from aiida import orm
from aiida.engine import calcfunction

LEVEL_OF_THEORY = "PBE without spin-orbit coupling (pslibrary 1.0.0 PAW/NC)"


@calcfunction
def study_summary(perovskite: orm.Str, chalcogenide: orm.Str, **pieces: orm.Dict) -> orm.Dict:
    """Headline numbers: strain, offsets, type, IS/FS, MD diagnostics, NA times."""
    summary: dict[str, Any] = {
        "pair": f"{perovskite.value}/{chalcogenide.value}",
        "level_of_theory": LEVEL_OF_THEORY,
        "steps": sorted(pieces),
    }
    for name, node in pieces.items():
        summary[name] = node.get_dict()
    return orm.Dict(summary)
