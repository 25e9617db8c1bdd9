"""Non-finite floats become None before AiiDA stores a result."""

import json
import math

import numpy as np

from heterostructures.dynamics.na_analysis import analyse_gap_spectrum
from heterostructures.storable import json_safe


def test_nested_non_finite_values_become_none() -> None:
    """Hand-made nested value; reference: ``json.dumps(allow_nan=False)`` accepts the result."""
    value = {"tau": math.inf, "all": [1.0, -math.inf, (math.nan, 2)], "ok": "text"}
    safe = json_safe(value)
    assert safe == {"tau": None, "all": [1.0, None, [None, 2]], "ok": "text"}
    json.dumps(safe, allow_nan=False)


def test_a_gap_that_does_not_fluctuate_can_be_stored() -> None:
    """A constant IS–FS gap has σ = 0, so ħ/σ and the dephasing times are infinite; the
    summary used to carry inf and the calcfunction storing it crashed."""
    energies = np.stack([np.full(40, 2.0), np.ones(40)], axis=1)
    options = {"required_resolution_cm": 35.0, "prominence_fraction": 0.05, "n_bootstrap": 20}
    summary = analyse_gap_spectrum(energies, 1.0, 0, 1, options).summary
    json.dumps(summary, allow_nan=False)
    assert summary["dephasing_short_time_tau_fs"] is None
