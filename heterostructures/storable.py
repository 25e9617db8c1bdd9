"""Values as AiiDA (and JSON) can store them: non-finite floats written as None.

``inf`` is how the science modules say "does not decay" or "no fluctuation" (a τ with no
decay, ħ/σ with σ = 0); AiiDA's ``Dict`` refuses it, so a result that is perfectly valid
would crash the calcfunction that stores it. None reads as "not determined".
"""

from __future__ import annotations

import math
from typing import Any


def json_safe(value: Any) -> Any:
    """``value`` with every non-finite float (in nested dicts, lists, tuples) made None."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: json_safe(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(item) for item in value]
    return value
