"""CsPbX3 / MX interface models: strained slabs, registry, labels, one-call defaults (Å).

The computed model is cube-on-cube (110)/(110), [001] ∥ [001] (see
:mod:`heterostructures.epitaxy`: the paper's zone-axis relation needs a ~70 × 49 Å
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
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace

import numpy as np
from ase import Atoms
from ase.data import covalent_radii

from heterostructures.facet_matching import Vector3, primitive_miller
from heterostructures.layers import assign_layers
from heterostructures.phases import chalcogenide, perovskite
from heterostructures.registry import ContactSide, RegistryCandidate, required_gap, scan_registry
from heterostructures.structure_errors import (
    RegistryError,
    StrainTooLargeError,
    StructureInputError,
)
from heterostructures.terminations import (
    Termination,
    build_slab,
    describe,
    oriented_unit,
    plane_formula,
)


@dataclass(frozen=True)
class InterfaceSpec:
    """Everything that defines an interface model; lengths in Å, strain in %.

    ``strain_weight`` is the share of the in-plane mismatch the perovskite takes: 0 keeps
    the perovskite lattice (chalcogenide strained), 1 keeps the chalcogenide lattice,
    0.5 splits it evenly. ``perovskite_bottom_plane`` picks the termination facing the
    interface by its plane formula (e.g. ``"Br2"``; ``None`` = anion plane).
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


def _bottom_plane_index(unit: Atoms, wanted: str | None) -> int:
    """Index of the plane in one period whose formula is ``wanted`` (default: anion-only)."""
    layers = assign_layers(unit.positions[:, 2], float(unit.cell[2, 2]), 0.3)
    symbols = unit.get_chemical_symbols()
    formulas = [
        plane_formula([symbols[i] for i in np.flatnonzero(np.asarray(layers.indices) == k)])
        for k in range(layers.count)
    ]
    if wanted is None:
        neutral_or_anion = [
            k for k, f in enumerate(formulas) if not any(c in f for c in ("Cs", "Pb"))
        ]
        return neutral_or_anion[0] if neutral_or_anion else 0
    if wanted not in formulas:
        raise StructureInputError(f"no plane {wanted!r} in this facet; planes are {formulas}")
    return formulas.index(wanted)


def _strain(natural: np.ndarray, common: np.ndarray) -> tuple[np.ndarray, tuple[float, float]]:
    """Deformation F (xy_new = xy @ F) and principal strains (%) from natural to common cell."""
    deformation = np.linalg.solve(natural, common)
    stretches = np.sqrt(np.linalg.eigvalsh(deformation @ deformation.T))
    return deformation, (float(100 * (stretches[0] - 1)), float(100 * (stretches[1] - 1)))


def _strained(slab: Atoms, deformation: np.ndarray) -> Atoms:
    """Slab with in-plane coordinates mapped by F (fractional in-plane positions kept)."""
    strained = slab.copy()
    strained.positions[:, :2] = slab.positions[:, :2] @ deformation
    return strained


def _common_cell(spec: InterfaceSpec, cell_p: np.ndarray, cell_c: np.ndarray) -> tuple:
    """Common in-plane cell and both sides' deformations; enforces the strain bound."""
    if not 0.0 <= spec.strain_weight <= 1.0:
        raise StructureInputError(f"strain_weight {spec.strain_weight} must lie in [0, 1]")
    common = spec.strain_weight * cell_c + (1.0 - spec.strain_weight) * cell_p
    deform_p, strain_p = _strain(cell_p, common)
    deform_c, strain_c = _strain(cell_c, common)
    worst = max(abs(v) for v in (*strain_p, *strain_c))
    if worst > spec.max_strain_percent:
        raise StrainTooLargeError(
            f"{spec.perovskite}/{spec.chalcogenide} needs {worst:.2f} % strain on one side "
            f"(perovskite {strain_p[0]:+.2f}/{strain_p[1]:+.2f} %, chalcogenide {strain_c[0]:+.2f}/"
            f"{strain_c[1]:+.2f} %) > max_strain_percent={spec.max_strain_percent}: pick a "
            "coincidence cell from epitaxy.rank_facet_pairs, move strain_weight, or raise the bound"
        )
    return common, deform_p, strain_p, deform_c, strain_c


def strained_bulk_units(spec: InterfaceSpec) -> dict[str, Atoms]:
    """Each side's periodic bulk stacking unit, strained in plane exactly as in the interface.

    Why: the potential line-up route (``heterostructures.electronic.lineup_offsets``) needs
    bulk band edges relative to the bulk mean potential in the *same* strain state as the
    domains of the interface, or the offsets carry the deformation potentials of the
    strain. The in-plane deformation F of each side is applied to its one-period unit
    (cell vectors and positions: fractional coordinates kept); the period along the
    normal is the bulk one, as in the built slabs. Keys: ``perovskite``, ``chalcogenide``.
    """
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
    _, deform_p, _, deform_c, _ = _common_cell(
        spec, scale @ units["perovskite"].cell[:2, :2], scale @ units["chalcogenide"].cell[:2, :2]
    )
    strained = {}
    for side, deformation in (("perovskite", deform_p), ("chalcogenide", deform_c)):
        unit = units[side].copy()
        cell = unit.cell[:].copy()
        cell[:, :2] = cell[:, :2] @ deformation
        unit.set_cell(cell, scale_atoms=True)
        unit.wrap()
        strained[side] = unit
    return strained


def _layer_labels(planes: np.ndarray, count: int, facing_top: bool, periodic: bool) -> np.ndarray:
    """Plane distance from the (nearest) interface: 0 for the touching plane."""
    from_top, from_bottom = count - 1 - planes, planes
    if periodic:
        return np.minimum(from_top, from_bottom)
    return from_top if facing_top else from_bottom


def build_interface(spec: InterfaceSpec) -> Interface:
    """Build the interface a spec describes (see module docstring for the conventions)."""
    unit_p = _prepare_side(
        perovskite(spec.perovskite, spec.perovskite_phase, a=spec.perovskite_a),
        spec.perovskite_hkl, spec.perovskite_directions, spec,
    )  # fmt: skip
    unit_c = _prepare_side(
        chalcogenide(spec.chalcogenide, spec.chalcogenide_phase, a=spec.chalcogenide_a),
        spec.chalcogenide_hkl, spec.chalcogenide_directions, spec,
    )  # fmt: skip
    common, deform_p, strain_p, deform_c, strain_c = _common_cell(
        spec, unit_p.cell[:2, :2], unit_c.cell[:2, :2]
    )
    bottom_p = _bottom_plane_index(unit_p, spec.perovskite_bottom_plane)
    slab_p = _strained(
        build_slab(unit_p, spec.perovskite_planes, bottom_p, spec.perovskite_mode), deform_p
    )
    slab_c = _strained(
        build_slab(unit_c, spec.chalcogenide_planes, 0, spec.chalcogenide_mode), deform_c
    )
    if spec.max_atoms is not None and len(slab_p) + len(slab_c) > spec.max_atoms:
        raise StructureInputError(
            f"{len(slab_p) + len(slab_c)} atoms > max_atoms={spec.max_atoms}: "
            "use fewer planes or a smaller in-plane cell"
        )
    best = _best_registry(spec, slab_c, slab_p, common)
    atoms, second_gap = _assemble(spec, slab_c, slab_p, common, best)
    return Interface(
        atoms=atoms,
        spec=spec,
        perovskite_strain_percent=strain_p,
        chalcogenide_strain_percent=strain_c,
        perovskite_termination=describe(slab_p, spec.perovskite_mode),
        chalcogenide_termination=describe(slab_c, spec.chalcogenide_mode),
        registry_shift=best.shift,
        gap=best.gap,
        min_contact_ratio=_verify_contacts(atoms, spec.contact_bound),
        metadata={
            "second_gap": second_gap,
            "net_contacts": best.net_contacts,
            "spec": asdict(spec),
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
    if periodic:
        spec = replace(spec, fixed_chalcogenide_layers=1)
    return build_interface(replace(spec, **overrides))  # type: ignore[arg-type]
