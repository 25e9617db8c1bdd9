"""Classify a pw.x SCF history early: converging, stalled, oscillating or diverging.

Polar or badly started slabs (DESIGN.md, "Measured cost") either blow up (local-TF: the
estimated accuracy reaches 10⁵ Ry by iteration 7–10) or oscillate (plain mixing: 0.09 →
2.3 Ry by iteration 15). A healthy interface SCF can stall near 0.07 Ry for ~10
iterations before falling, so "no progress" is only declared after a longer window.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

_ACCURACY = re.compile(r"estimated scf accuracy\s+<\s+([0-9.EeDd+-]+)\s+Ry")

DIVERGED_RY = 100.0
GROWTH_FACTOR = 50.0
STALL_WINDOW = 20
STALL_IMPROVEMENT = 0.5


@dataclass(frozen=True)
class ScfTrend:
    """Verdict on an SCF history (accuracies in Ry) and why."""

    verdict: str  # "converging" | "diverging" | "oscillating"
    iterations: int
    best_ry: float
    last_ry: float
    reason: str

    @property
    def hopeless(self) -> bool:
        """True when running on would only burn walltime."""
        return self.verdict in ("diverging", "oscillating")


def scf_accuracies(pw_output: str) -> list[float]:
    """Every 'estimated scf accuracy' (Ry) printed by pw.x, in order (all ionic steps)."""
    return [float(value.replace("D", "E")) for value in _ACCURACY.findall(pw_output)]


def classify_scf_history(accuracies_ry: list[float]) -> ScfTrend:
    """Judge the current SCF cycle's history of estimated accuracies (Ry)."""
    values = np.asarray(accuracies_ry, dtype=float)
    if values.size == 0:
        return ScfTrend("converging", 0, np.inf, np.inf, "no SCF iteration yet")
    best, last = float(values.min()), float(values[-1])
    if last > DIVERGED_RY or last > GROWTH_FACTOR * max(values[0], best):
        return ScfTrend(
            "diverging",
            values.size,
            best,
            last,
            f"accuracy grew to {last:.3g} Ry (best {best:.3g} Ry): the density is running away",
        )
    if values.size > STALL_WINDOW:
        earlier_best = float(values[:-STALL_WINDOW].min())
        recent_best = float(values[-STALL_WINDOW:].min())
        if recent_best > STALL_IMPROVEMENT * earlier_best:
            return ScfTrend(
                "oscillating",
                values.size,
                best,
                last,
                f"no halving of the accuracy in the last {STALL_WINDOW} iterations "
                f"(best {recent_best:.3g} Ry vs {earlier_best:.3g} Ry before)",
            )
    return ScfTrend("converging", values.size, best, last, "accuracy still improving")


def current_cycle(pw_output: str) -> list[float]:
    """Accuracies of the SCF cycle in progress (after the last ionic step, if any)."""
    start = max(pw_output.rfind("Self-consistent Calculation"), 0)
    return scf_accuracies(pw_output[start:])
