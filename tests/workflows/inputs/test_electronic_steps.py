"""Per-atom SCF thresholds of ``janus.electronic`` (what its line-up references get).

Reference: aiida-quantumespresso's protocol YAML as installed
(``_protocol_thresholds_per_atom``) and hand arithmetic for an absolute override.
"""

from __future__ import annotations

import pytest

from tests.workflows.workchains.test_alignment import _protocol_thresholds_per_atom
from workflows.inputs.electronic_steps import electronic_thresholds
from workflows.workchains.electronic import ElectronicWorkChain


def _thresholds(overrides: dict, atoms: int = 13) -> dict[str, float]:
    steps = ElectronicWorkChain.get_protocol_inputs("fast", overrides)
    return electronic_thresholds("fast", steps, atoms).get_dict()


@pytest.mark.usefixtures("aiida_profile")
def test_protocol_per_atom_values_without_overrides() -> None:
    assert _thresholds({}) == _protocol_thresholds_per_atom("fast")


@pytest.mark.usefixtures("aiida_profile")
def test_an_absolute_scf_threshold_counts_per_atom_of_the_interface() -> None:
    """The caller's absolute conv_thr (2.6e-9 Ry on 13 atoms) is 2e-10 Ry per atom for the
    references; etot_conv_thr, not given, stays the protocol's."""
    given = {"scf": {"pw": {"parameters": {"ELECTRONS": {"conv_thr": 2.6e-9}}}}}
    thresholds = _thresholds(given)
    assert thresholds["conv_thr_per_atom"] == pytest.approx(2.0e-10, rel=1e-12)
    protocol = _protocol_thresholds_per_atom("fast")
    assert thresholds["etot_conv_thr_per_atom"] == protocol["etot_conv_thr_per_atom"]


@pytest.mark.usefixtures("aiida_profile")
def test_different_scf_and_nscf_meta_parameters_are_refused() -> None:
    given = {"scf": {"meta_parameters": {"conv_thr_per_atom": 1e-9}}}
    with pytest.raises(ValueError, match="give one set"):
        _thresholds(given)
