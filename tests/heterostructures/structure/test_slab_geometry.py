"""Dipole-correction placement: in the vacuum of a slab, absent for a superlattice."""

from __future__ import annotations

import pytest

from heterostructures.structure.interface import default_interface
from heterostructures.structure.slab_geometry import dipole_correction_parameters, largest_vacuum


def test_slab_sawtooth_sits_in_vacuum() -> None:
    atoms = default_interface().atoms
    region = largest_vacuum(atoms)
    assert region.width_ang > 10.0
    params = dipole_correction_parameters(atoms)
    system = params["SYSTEM"]
    assert isinstance(system, dict)
    z = atoms.get_scaled_positions()[:, 2]
    start, stop = system["emaxpos"], system["emaxpos"] + system["eopreg"]
    for frac in (start, stop, (start + stop) / 2):
        distance = min(abs(((z - frac + 0.5) % 1.0) - 0.5)) * atoms.cell.lengths()[2]
        assert distance > 2.0, "the field discontinuity must not cross atoms"
    assert system["eamp"] == pytest.approx(0.0)


def test_superlattice_gets_no_correction() -> None:
    assert dipole_correction_parameters(default_interface(periodic=True).atoms) == {}


def test_vacuum_test_is_the_dipole_corrections() -> None:
    """``has_vacuum`` decides both the dipole correction and the slab k-mesh: a 12 Å gap is
    vacuum, the superlattice's widest gap (2.81 Å, ``largest_vacuum``) is not."""
    from heterostructures.structure.slab_geometry import MIN_VACUUM_ANG, has_vacuum

    slab, superlattice = default_interface().atoms, default_interface(periodic=True).atoms
    assert has_vacuum(slab)
    assert dipole_correction_parameters(slab)
    assert not has_vacuum(superlattice)
    assert largest_vacuum(superlattice).width_ang < MIN_VACUUM_ANG < largest_vacuum(slab).width_ang
