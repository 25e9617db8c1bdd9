"""``alignment_models.model_relax_inputs``: a series' relaxation template fitted to each model.

Reference, by hand: pslibrary 1.0.0 PAW valences (UPF headers: Cs 9, Pb 14, Br 7, Cd 12,
S 6) and the builder's compositions (5 + 4 planes: Cs2Pb2Br6Cd8S8, 26 atoms, 232
electrons, 116 occupied bands; 3 + 2: CsPbBr3Cd4S4, 13 atoms, 116 electrons, 58 bands;
7 + 6: Cs3Pb3Br9Cd12S12, 39 atoms, 174 bands).
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

VALENCE = {"Cs": 9.0, "Pb": 14.0, "Br": 7.0, "Cd": 12.0, "S": 6.0}
SPEC = {"model": "demo", "periodic": True, "supercell": [1, 1]}
SPEC |= {"perovskite": "CsPbBr3", "chalcogenide": "CdS"}


def _relax(nbnd: int, conv_thr: float, etot_conv_thr: float) -> dict[str, Any]:
    from aiida import orm

    parameters = {
        "CONTROL": {"calculation": "relax", "etot_conv_thr": etot_conv_thr},
        "SYSTEM": {"nbnd": nbnd, "ecutwfc": 48.9},
        "ELECTRONS": {"conv_thr": conv_thr},
    }
    pseudos = {element: SimpleNamespace(z_valence=z) for element, z in VALENCE.items()}
    return {"pw": {"parameters": orm.Dict(parameters), "pseudos": pseudos}}


@pytest.mark.parametrize(
    ("planes", "nbnd", "conv_thr"),
    [((3, 2), 58 + 8, 1.3e-5), ((7, 6), 174 + 8, 3.9e-5), ((5, 4), 116 + 8, 2.6e-5)],
)
def test_each_model_gets_its_own_bands_and_thresholds(
    aiida_profile: object, planes: tuple[int, int], nbnd: int, conv_thr: float
) -> None:
    """A template made on 5 + 4 (124 bands: 116 occupied + 8 empty; conv_thr 1e-6 Ry/atom)
    gives each model its occupied bands + 8 and 1e-6 Ry × its atoms."""
    from workflows.inputs.alignment_models import model_relax_inputs

    template_spec = SPEC | {"perovskite_planes": 5, "chalcogenide_planes": 4}
    model_spec = SPEC | {"perovskite_planes": planes[0], "chalcogenide_planes": planes[1]}
    fitted = model_relax_inputs(_relax(124, 2.6e-5, 2.6e-4), template_spec, model_spec)
    parameters = fitted["pw"]["parameters"].get_dict()
    assert parameters["SYSTEM"]["nbnd"] == nbnd
    assert parameters["ELECTRONS"]["conv_thr"] == pytest.approx(conv_thr)
    assert parameters["CONTROL"]["etot_conv_thr"] == pytest.approx(10 * conv_thr)
    assert parameters["SYSTEM"]["ecutwfc"] == 48.9
