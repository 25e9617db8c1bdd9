"""The smallest periodic cell of a (strained) bulk crystal.

Why: the strained bulk references of route 2 (potential line-up) only need the bulk
crystal in the interface's strain state, not the interface's in-plane cell. For a
coincidence cell the oriented stacking unit spans the whole supercell (40–72 atoms at
the ``fast`` defaults), which made each reference SCF cost about as much as the
interface's; its primitive cell (5 atoms for a cubic perovskite, 2 for zinc blende) is
the same crystal, strain included, at a small fraction of the cost.
"""

from __future__ import annotations

from ase import Atoms
from pymatgen.io.ase import AseAtomsAdaptor

PRIMITIVE_TOLERANCE_ANG = 0.05
"""Position tolerance (Å) of the translation search. The units are built from ideal
crystals by an affine map, so their lattice translations are exact to round-off; a
tight tolerance cannot merge two inequivalent sites."""


def primitive_cell(unit: Atoms) -> Atoms:
    """The primitive cell of ``unit`` (a periodic bulk cell), Niggli-reduced.

    Uses pymatgen's translation search (:meth:`Structure.get_primitive_structure`),
    which needs no point symmetry, so it works on strained (lower-symmetry) cells. A
    Niggli cell of a near-cubic lattice keeps near-orthogonal axes, so a Γ-centred even
    k mesh still contains the zone-boundary points (R of a cubic perovskite).
    """
    structure = AseAtomsAdaptor.get_structure(unit)
    primitive = structure.get_primitive_structure(tolerance=PRIMITIVE_TOLERANCE_ANG)
    reduced = primitive.get_reduced_structure(reduction_algo="niggli")
    atoms = AseAtomsAdaptor.get_atoms(reduced)
    atoms.pbc = True
    atoms.wrap()
    return atoms
