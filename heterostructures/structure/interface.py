"""CsPbX3 / MX interface models: strained slabs, registry, labels, one-call defaults (Å).

The computed model is cube-on-cube (110)/(110), [001] ∥ [001] (see
:mod:`heterostructures.structure.epitaxy`: the paper's zone-axis relation needs a ~70 × 49 Å
coincidence cell, the cube-on-cube one a 5.8 × 8.2 Å cell at ≈ 0.2 % strain). The
perovskite (110) film is the *compensated symmetric* stack Br / CsPbBr / Br2 / CsPbBr / Br
(half of each terminal Br2 plane removed): neutral, zero formal dipole, and the one
perovskite (110) film whose SCF was measured to converge (DESIGN.md, "Measured cost"); its
half-Br planes face the neutral zinc-blende (110) planes, so Cd–Br contacts form across
the interface. The chalcogenide sits below, the perovskite above; ``layer`` counts planes
from the interface (0 = touching it) in each domain.

Models from :func:`default_interface`:

* ``demo``: 5 perovskite + 4 CdS planes, 1 × 1 in-plane cell (5.83 × 8.25 Å),
  Br6Cd8Cs2Pb2S8 = 26 atoms, 12 Å vacuum. ``periodic=True`` gives the same 26 atoms as a
  superlattice without vacuum (two equivalent Br|CdS interfaces, c ≈ 21 Å instead of
  ≈ 30 Å, so fewer plane waves per SCF step); nothing is fixed there but the central CdS
  planes.
* ``production``: 9 perovskite + 8 CdS planes, 2 × 1 in-plane cell (11.7 × 8.25 Å),
  104 atoms, 15 Å vacuum: thick enough for bulk-like middle layers in layer-projected DOS.

Pairs whose 1:1 cell strains a side beyond ``max_strain_percent`` (CsPbCl3/CdS, CsPbI3/CdS,
CsPbBr3/ZnS) get the coincidence supercell of :mod:`heterostructures.structure.coincidence` instead
(docs/epitaxy.md); CsPbBr3/CdS keeps the 1:1 cell.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from typing import Any

import numpy as np
from ase import Atoms
from ase.data import covalent_radii

from heterostructures.structure.coincidence import bulk_pair, resolve_cell, tuples_as_lists
from heterostructures.structure.errors import (
    RegistryError,
    StrainTooLargeError,
    StructureInputError,
)
from heterostructures.structure.facet_matching import Vector3, primitive_miller
from heterostructures.structure.phases import chalcogenide, perovskite
from heterostructures.structure.primitive import primitive_cell
from heterostructures.structure.registry import (
    ContactSide,
    RegistryCandidate,
    required_gap,
    scan_registry,
)
from heterostructures.structure.strain_split import StrainSplit, split_strain
from heterostructures.structure.terminations import (
    Termination,
    bottom_plane_index,
    build_slab,
    describe,
    oriented_unit,
)


@dataclass(frozen=True)
class InterfaceSpec:
    """Everything that defines an interface model; lengths in Å, strain in %.

    ``strain_weight`` is the share of the in-plane mismatch the perovskite takes: 0 keeps
    the perovskite lattice (chalcogenide strained), 1 keeps the chalcogenide lattice,
    0.5 splits it evenly. ``perovskite_bottom_plane`` picks the termination facing the
    interface by its plane formula (e.g. ``"Br2"``; ``None`` = anion plane).
    ``coincidence="auto"`` replaces a 1:1 cell that exceeds ``max_strain_percent`` by the
    coincidence supercell with the fewest atoms (at most ``max_atoms``, default 300; see
    :mod:`heterostructures.structure.coincidence`) over the low-index facet pairs; ``"facets"``
    searches only the spec's own facet pair; ``"off"`` refuses instead.
    """

    perovskite: str = "CsPbBr3"
    chalcogenide: str = "CdS"
    perovskite_phase: str = "cubic"
    chalcogenide_phase: str = "zincblende"
    perovskite_a: float | None = None
    chalcogenide_a: float | None = None
    perovskite_hkl: Vector3 = (1, 1, 0)
    chalcogenide_hkl: Vector3 = (1, 1, 0)
    perovskite_directions: tuple[Vector3, Vector3] | None = None
    chalcogenide_directions: tuple[Vector3, Vector3] | None = None
    supercell: tuple[int, int] = (1, 1)
    perovskite_planes: int = 5
    chalcogenide_planes: int = 4
    perovskite_mode: str = "compensated"
    chalcogenide_mode: str = "stoichiometric"
    perovskite_bottom_plane: str | None = None
    strain_weight: float = 0.5
    max_strain_percent: float = 1.0
    gap: float | None = None
    vacuum: float = 12.0
    periodic: bool = False
    contact_bound: float = 1.2
    registry_grid: tuple[int, int] = (12, 12)
    fixed_chalcogenide_layers: int = 2
    fixed_perovskite_layers: int = 0
    max_atoms: int | None = None
    coincidence: str = "auto"

    def as_dict(self) -> dict[str, Any]:
        """The fields as stored (JSON-safe: tuples written as lists)."""
        values: dict[str, Any] = tuples_as_lists(asdict(self))
        return values


@dataclass(frozen=True)
class Interface:
    """A built interface: atoms with ``domain``/``layer``/``fixed`` arrays and its numbers.

    Strains are principal in-plane strains (%) of each side relative to its bulk lattice;
    ``registry_shift`` is the perovskite's in-plane shift in fractions of the cell.
    """

    atoms: Atoms
    spec: InterfaceSpec
    perovskite_strain_percent: tuple[float, float]
    chalcogenide_strain_percent: tuple[float, float]
    perovskite_termination: Termination
    chalcogenide_termination: Termination
    registry_shift: tuple[float, float]
    gap: float
    min_contact_ratio: float
    metadata: dict[str, object] = field(default_factory=dict)


def _prepare_side(
    bulk: Atoms, hkl: Vector3, directions: tuple[Vector3, Vector3] | None, spec: InterfaceSpec
) -> Atoms:
    """Oriented stacking unit repeated over the in-plane supercell."""
    unit = oriented_unit(bulk, primitive_miller(hkl), directions)
    return unit.repeat((spec.supercell[0], spec.supercell[1], 1))


def _common_cell(spec: InterfaceSpec, cell_p: np.ndarray, cell_c: np.ndarray) -> StrainSplit:
    """Common in-plane cell and both sides' deformations; enforces the strain bound."""
    split = split_strain(cell_p, cell_c, spec.strain_weight)
    strain_p, strain_c = split.perovskite_strain_percent, split.chalcogenide_strain_percent
    if split.worst_percent > spec.max_strain_percent:
        raise StrainTooLargeError(
            f"{spec.perovskite}/{spec.chalcogenide} needs {split.worst_percent:.2f} % strain on"
            f" one side (perovskite {strain_p[0]:+.2f}/{strain_p[1]:+.2f} %, chalcogenide"
            f" {strain_c[0]:+.2f}/{strain_c[1]:+.2f} %) > max_strain_percent="
            f"{spec.max_strain_percent} in this cell (coincidence={spec.coincidence!r}): use"
            " coincidence='auto' without explicit directions, move strain_weight, or raise"
            " the bound"
        )
    return split


def _strained(slab: Atoms, deformation: np.ndarray) -> Atoms:
    """Slab with in-plane coordinates mapped by F (fractional in-plane positions kept)."""
    strained = slab.copy()
    strained.positions[:, :2] = slab.positions[:, :2] @ deformation
    return strained


def strained_bulk_units(spec: InterfaceSpec, primitive: bool | None = None) -> dict[str, Atoms]:
    """Each side's periodic bulk stacking unit, strained in plane exactly as in the interface.

    Why: the potential line-up route
    (``heterostructures.electronic.band_offsets.lineup_offsets``) needs bulk band edges
    relative to the bulk mean potential in the *same* strain state as the domains of the
    interface, or the offsets carry the deformation potentials of the
    strain. The in-plane deformation F of each side is applied to its one-period unit
    (cell vectors and positions: fractional coordinates kept); the period along the
    normal is the bulk one, as in the built slabs. Keys: ``perovskite``, ``chalcogenide``.
    The in-plane cell is the one :func:`build_interface` picks (a coincidence cell when
    the 1:1 cell exceeds the strain bound). A unit on explicit in-plane directions (a
    coincidence cell, picked by the builder or given) is returned as its strained
    primitive cell (:func:`~heterostructures.structure.primitive.primitive_cell`): the
    same crystal at a fraction of the SCF cost. The 1:1 units (5 and 8 atoms) are kept.
    ``primitive`` forces (True) or prevents (False) that reduction.
    """
    spec, _ = resolve_cell(spec)
    explicit = spec.perovskite_directions is not None or spec.chalcogenide_directions is not None
    reduce = explicit if primitive is None else primitive
    units = {
        "perovskite": oriented_unit(
            perovskite(spec.perovskite, spec.perovskite_phase, a=spec.perovskite_a),
            primitive_miller(spec.perovskite_hkl), spec.perovskite_directions,
        ),
        "chalcogenide": oriented_unit(
            chalcogenide(spec.chalcogenide, spec.chalcogenide_phase, a=spec.chalcogenide_a),
            primitive_miller(spec.chalcogenide_hkl), spec.chalcogenide_directions,
        ),
    }  # fmt: skip
    scale = np.diag(spec.supercell).astype(float)
    split = _common_cell(
        spec, scale @ units["perovskite"].cell[:2, :2], scale @ units["chalcogenide"].cell[:2, :2]
    )
    strained = {}
    for side, deformation in (
        ("perovskite", split.perovskite_deformation),
        ("chalcogenide", split.chalcogenide_deformation),
    ):
        unit = units[side].copy()
        cell = unit.cell[:].copy()
        cell[:, :2] = cell[:, :2] @ deformation
        unit.set_cell(cell, scale_atoms=True)
        unit.wrap()
        strained[side] = primitive_cell(unit) if reduce else unit
    return strained


def _layer_labels(planes: np.ndarray, count: int, facing_top: bool, periodic: bool) -> np.ndarray:
    """Plane distance from the (nearest) interface: 0 for the touching plane."""
    from_top, from_bottom = count - 1 - planes, planes
    if periodic:
        return np.minimum(from_top, from_bottom)
    return from_top if facing_top else from_bottom


def build_interface(spec: InterfaceSpec) -> Interface:
    """Build the interface a spec describes (see module docstring for the conventions).

    The 1:1 cell is used when it meets ``max_strain_percent``; otherwise (``coincidence=
    "auto"``, no explicit directions) the coincidence cell of
    :func:`heterostructures.structure.coincidence.resolve_cell`, recorded in ``metadata``.
    """
    spec, cell = resolve_cell(spec)
    bulk_p, bulk_c = bulk_pair(spec)
    unit_p = _prepare_side(bulk_p, spec.perovskite_hkl, spec.perovskite_directions, spec)
    unit_c = _prepare_side(bulk_c, spec.chalcogenide_hkl, spec.chalcogenide_directions, spec)
    split = _common_cell(spec, unit_p.cell[:2, :2], unit_c.cell[:2, :2])
    bottom_p = bottom_plane_index(unit_p, spec.perovskite_bottom_plane)
    slab_p = _strained(
        build_slab(unit_p, spec.perovskite_planes, bottom_p, spec.perovskite_mode),
        split.perovskite_deformation,
    )
    slab_c = _strained(
        build_slab(unit_c, spec.chalcogenide_planes, 0, spec.chalcogenide_mode),
        split.chalcogenide_deformation,
    )
    if spec.max_atoms is not None and len(slab_p) + len(slab_c) > spec.max_atoms:
        raise StructureInputError(
            f"{len(slab_p) + len(slab_c)} atoms > max_atoms={spec.max_atoms}: "
            "use fewer planes or a smaller in-plane cell"
        )
    best = _best_registry(spec, slab_c, slab_p, split.common)
    atoms, second_gap = _assemble(spec, slab_c, slab_p, split.common, best)
    return Interface(
        atoms=atoms,
        spec=spec,
        perovskite_strain_percent=split.perovskite_strain_percent,
        chalcogenide_strain_percent=split.chalcogenide_strain_percent,
        perovskite_termination=describe(slab_p, spec.perovskite_mode),
        chalcogenide_termination=describe(slab_c, spec.chalcogenide_mode),
        registry_shift=best.shift,
        gap=best.gap,
        min_contact_ratio=_verify_contacts(atoms, spec.contact_bound),
        metadata={
            "second_gap": second_gap,
            "net_contacts": best.net_contacts,
            "spec": asdict(spec),
            "coincidence": None if cell is None else cell.as_dict(),
        },
    )


def _best_registry(
    spec: InterfaceSpec, slab_c: Atoms, slab_p: Atoms, common: np.ndarray
) -> RegistryCandidate:
    """Best shift of the perovskite on the chalcogenide (both interfaces if periodic)."""
    lower, upper = (
        ContactSide.from_atoms(slab_c, facing_top=True),
        ContactSide.from_atoms(slab_p, facing_top=False),
    )
    second = None
    if spec.periodic:
        second = (
            ContactSide.from_atoms(slab_p, facing_top=True),
            ContactSide.from_atoms(slab_c, facing_top=False),
        )
    ranked = scan_registry(
        lower, upper, common, spec.registry_grid, spec.gap, spec.contact_bound, second=second
    )
    return ranked[0]


def _assemble(
    spec: InterfaceSpec, slab_c: Atoms, slab_p: Atoms, common: np.ndarray, best: RegistryCandidate
) -> tuple[Atoms, float]:
    """Stack chalcogenide, gap, shifted perovskite (and vacuum or the periodic gap)."""
    shift = np.asarray(best.shift) @ common
    lower_top = slab_c.positions[:, 2].max()
    offset = np.array([shift[0], shift[1], lower_top + best.gap - slab_p.positions[:, 2].min()])
    perovskite_positions = slab_p.positions + offset
    top = perovskite_positions[:, 2].max()
    second_gap = 0.0
    if spec.periodic:
        second_gap = required_gap(
            ContactSide.from_atoms(slab_p, facing_top=True),
            ContactSide.from_atoms(slab_c, facing_top=False),
            common, -shift, spec.contact_bound,
        )  # fmt: skip
        height = top + second_gap - slab_c.positions[:, 2].min()
    else:
        height = top - slab_c.positions[:, 2].min() + spec.vacuum
    cell = np.zeros((3, 3))
    cell[:2, :2] = common
    cell[2, 2] = height
    atoms = Atoms(
        symbols=slab_c.get_chemical_symbols() + slab_p.get_chemical_symbols(),
        positions=np.vstack([slab_c.positions, perovskite_positions]),
        cell=cell,
        pbc=True,
    )
    atoms.positions[:, 2] += (0.0 if spec.periodic else 0.5 * spec.vacuum) - slab_c.positions[
        :, 2
    ].min()
    _label(atoms, spec, slab_c, slab_p)
    atoms.wrap()
    return atoms, second_gap


def _label(atoms: Atoms, spec: InterfaceSpec, slab_c: Atoms, slab_p: Atoms) -> None:
    """Set the ``domain``, ``layer`` and ``fixed`` arrays the workflows read."""
    layer_c = _layer_labels(slab_c.arrays["plane"], spec.chalcogenide_planes, True, spec.periodic)
    layer_p = _layer_labels(slab_p.arrays["plane"], spec.perovskite_planes, False, spec.periodic)
    fixed_c = layer_c > layer_c.max() - spec.fixed_chalcogenide_layers
    fixed_p = layer_p > layer_p.max() - spec.fixed_perovskite_layers
    atoms.arrays["domain"] = np.array(["chalcogenide"] * len(slab_c) + ["perovskite"] * len(slab_p))
    atoms.arrays["layer"] = np.concatenate([layer_c, layer_p]).astype(int)
    atoms.arrays["fixed"] = np.concatenate([fixed_c, fixed_p]).astype(bool)


def min_contact_ratio(atoms: Atoms) -> tuple[float, float]:
    """Smallest cross-domain distance (Å) and its ratio to the covalent radius sum (PBC)."""
    domains = atoms.arrays["domain"]
    lower = np.flatnonzero(domains == "chalcogenide")
    upper = np.flatnonzero(domains == "perovskite")
    best_ratio, best_distance = np.inf, np.inf
    radii = covalent_radii[atoms.numbers]
    for index in lower:
        distances = atoms.get_distances(index, upper, mic=True)
        ratios = distances / (radii[index] + radii[upper])
        if ratios.min() < best_ratio:
            best_ratio, best_distance = float(ratios.min()), float(distances[np.argmin(ratios)])
    return best_distance, best_ratio


def _verify_contacts(atoms: Atoms, bound: float) -> float:
    """Refuse a model whose cross-domain contacts fall below the bound (never returned)."""
    _, ratio = min_contact_ratio(atoms)
    if ratio < bound - 1e-6:
        raise RegistryError(
            f"built model has a contact at {ratio:.3f} < {bound} × covalent sum: raise vacuum/gap"
        )
    return ratio


MODELS: dict[str, InterfaceSpec] = {
    "demo": InterfaceSpec(),
    "production": InterfaceSpec(
        supercell=(2, 1),
        perovskite_planes=9,
        chalcogenide_planes=8,
        vacuum=15.0,
        fixed_chalcogenide_layers=4,
    ),
}


def default_interface(
    perovskite: str = "CsPbBr3",
    chalcogenide: str = "CdS",
    model: str = "demo",
    periodic: bool = False,
    **overrides: object,
) -> Interface:
    """The pipeline's interface in one call: ``model`` ``"demo"`` (26 atoms) or ``"production"``.

    ``periodic=True`` builds the superlattice (no vacuum; central chalcogenide plane(s)
    fixed); other :class:`InterfaceSpec` fields can be overridden by keyword.
    """
    if model not in MODELS:
        raise StructureInputError(f"unknown model {model!r}; choose from {sorted(MODELS)}")
    spec = replace(
        MODELS[model], perovskite=perovskite, chalcogenide=chalcogenide, periodic=periodic
    )
    spec = with_periodic_fixing(spec, "fixed_chalcogenide_layers" in overrides)
    return build_interface(replace(spec, **overrides))  # type: ignore[arg-type]


PERIODIC_FIXED_LAYERS = 1
"""Chalcogenide layers held fixed in a periodic superlattice: its central plane(s), which
pin the registry; a slab fixes the bottom ``fixed_chalcogenide_layers`` of its model."""


def with_periodic_fixing(spec: InterfaceSpec, fixed_layers_given: bool) -> InterfaceSpec:
    """``spec`` with :data:`PERIODIC_FIXED_LAYERS` when it is periodic and the caller did not
    choose the fixed layers itself (the one place this rule lives)."""
    if spec.periodic and not fixed_layers_given:
        return replace(spec, fixed_chalcogenide_layers=PERIODIC_FIXED_LAYERS)
    return spec
