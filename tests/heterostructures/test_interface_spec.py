"""Interface specs from plain dicts: presets, overrides, lattice constants, bad keys."""

from __future__ import annotations

import json

import pytest

from heterostructures.interface_spec import build_from_spec, interface_summary, spec_from_dict
from heterostructures.structure_errors import StructureInputError


def test_presets_and_overrides() -> None:
    assert spec_from_dict({}).perovskite_planes == 5
    assert spec_from_dict({"model": "production"}).supercell == (2, 1)
    spec = spec_from_dict({"perovskite_planes": 3, "chalcogenide_hkl": [1, 1, 0], "periodic": True})
    assert spec.chalcogenide_hkl == (1, 1, 0)
    assert spec.fixed_chalcogenide_layers == 1


def test_unknown_keys_are_named() -> None:
    with pytest.raises(StructureInputError, match="perovskite_layers"):
        spec_from_dict({"perovskite_layers": 3})
    with pytest.raises(StructureInputError, match="unknown interface model"):
        spec_from_dict({"model": "huge"})


def test_computed_lattices_set_the_cell() -> None:
    small = build_from_spec(
        {"perovskite_planes": 3, "chalcogenide_planes": 2, "periodic": True}, {}
    )
    pbe = build_from_spec(
        {"perovskite_planes": 3, "chalcogenide_planes": 2, "periodic": True},
        {"perovskite_a": 5.95, "chalcogenide_a": 5.94},
    )
    assert len(small.atoms) == len(pbe.atoms) == 13
    assert pbe.atoms.cell.lengths()[0] > small.atoms.cell.lengths()[0]
    summary = interface_summary(pbe)
    json.dumps(summary)
    assert summary["n_atoms"] == 13
    assert abs(summary["perovskite_strain_percent"][0]) < 1.0
