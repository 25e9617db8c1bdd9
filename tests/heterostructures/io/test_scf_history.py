"""Early SCF verdicts on histories shaped like the measured interface runs (DESIGN.md)."""

from __future__ import annotations

import numpy as np

from heterostructures.io.scf_history import classify_scf_history, current_cycle, scf_accuracies


def test_monotonic_history_is_converging() -> None:
    trend = classify_scf_history(list(np.logspace(0, -6, 25)))
    assert trend.verdict == "converging"
    assert not trend.hopeless


def test_local_tf_blow_up_is_diverging() -> None:
    history = [0.9, 0.5, 0.3, 2.0, 40.0, 900.0, 1.0e5]
    trend = classify_scf_history(history)
    assert trend.verdict == "diverging"
    assert trend.hopeless
    assert trend.iterations == len(history)


def test_plain_mixing_oscillation_is_caught() -> None:
    rng = np.random.default_rng(0)
    history = [0.09, 0.05, *rng.uniform(0.05, 2.3, 25)]
    assert classify_scf_history(history).verdict == "oscillating"


def test_stall_then_fall_is_not_killed() -> None:
    """The converging 26-atom model stalled near 0.07 Ry for ~10 iterations, then fell."""
    history = list(np.logspace(0, -1.1, 8)) + [0.07] * 10 + list(np.logspace(-1.2, -6, 30))
    for n in range(1, len(history) + 1):
        assert classify_scf_history(history[:n]).verdict == "converging", n


def test_parse_pw_output_cycles() -> None:
    text = (
        "Self-consistent Calculation\n     estimated scf accuracy    <       0.50 Ry\n"
        "     estimated scf accuracy    <       0.10 Ry\n"
        "Self-consistent Calculation\n     estimated scf accuracy    <       2.0D-01 Ry\n"
    )
    assert scf_accuracies(text) == [0.5, 0.1, 0.2]
    assert current_cycle(text) == [0.2]
