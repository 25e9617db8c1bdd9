"""Files describing a built interface: extxyz, CIF, a text summary and a PNG side view.

extxyz keeps the ``domain``/``layer``/``fixed`` arrays natively; the CIF carries them as
extra ``_atom_site_janus_*`` loop columns, so :func:`read_interface` restores the labels
from either file.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from ase import Atoms
from ase.data import atomic_numbers
from ase.data.colors import jmol_colors
from ase.io import read, write
from matplotlib.figure import Figure

from heterostructures.plots.files import save_figure
from heterostructures.structure.errors import StructureInputError
from heterostructures.structure.interface import Interface, min_contact_ratio
from heterostructures.structure.slab_geometry import in_plane_area_ang2
from heterostructures.structure.terminations import Termination

LABELS = ("domain", "layer", "fixed")
CIF_KEYS = {name: f"atom_site_janus_{name}" for name in LABELS}


def _termination_lines(side: str, termination: Termination) -> list[str]:
    """Plane-by-plane formal charges of one side."""
    planes = ", ".join(
        f"{formula} ({charge:+g})"
        for formula, charge in zip(
            termination.plane_formulas, termination.plane_charges, strict=True
        )
    )
    return [
        f"{side} ({termination.mode}): {termination.name}",
        f"  planes bottom→top with formal charge (e per cell): {planes}",
        f"  total formal charge {termination.total_charge:+g} e,"
        f" formal dipole {termination.dipole:+.3f} e·Å",
    ]


def _cell_line(interface: Interface) -> str:
    """Which in-plane cell the model uses: 1:1, the spec's directions, or a coincidence cell."""
    spec, cell = interface.spec, interface.metadata.get("coincidence")
    if isinstance(cell, dict):
        return (
            f"coincidence cell (the 1:1 cell exceeds {spec.max_strain_percent:g} %):"
            f" perovskite {cell['perovskite_cells']} × {tuple(cell['perovskite_hkl'])} cells"
            f" {cell['perovskite_directions']}, chalcogenide {cell['chalcogenide_cells']} ×"
            f" {tuple(cell['chalcogenide_hkl'])} cells {cell['chalcogenide_directions']}"
        )
    if spec.perovskite_directions is not None or spec.chalcogenide_directions is not None:
        return (
            f"in-plane cell as given: perovskite {spec.perovskite_directions},"
            f" chalcogenide {spec.chalcogenide_directions}"
        )
    return "in-plane cell: 1:1 primitive cells of both facets"


def format_summary(interface: Interface) -> str:
    """Human-readable summary: cell, strains, atoms, terminations, charges, closest contact."""
    atoms, spec = interface.atoms, interface.spec
    lengths = atoms.cell.lengths()
    distance, ratio = min_contact_ratio(atoms)
    layout = (
        "periodic superlattice (no vacuum)"
        if spec.periodic
        else f"slab with {spec.vacuum:.1f} Å vacuum"
    )
    lines = [
        f"{spec.perovskite} {spec.perovskite_hkl} / {spec.chalcogenide} {spec.chalcogenide_hkl}"
        f" interface, {layout}",
        f"cell a b c = {lengths[0]:.4f} {lengths[1]:.4f} {lengths[2]:.4f} Å,"
        f" in-plane supercell {spec.supercell}",
        f"atoms: {len(atoms)} {atoms.get_chemical_formula(mode='metal')},"
        f" in-plane area {in_plane_area_ang2(atoms.cell):.1f} Å²",
        _cell_line(interface),
        "strain (principal, %, relative to each bulk; strain_weight "
        f"{spec.strain_weight:g}): perovskite {interface.perovskite_strain_percent[0]:+.3f} "
        f"{interface.perovskite_strain_percent[1]:+.3f}, chalcogenide "
        f"{interface.chalcogenide_strain_percent[0]:+.3f}"
        f" {interface.chalcogenide_strain_percent[1]:+.3f}",
        *_termination_lines("perovskite", interface.perovskite_termination),
        *_termination_lines("chalcogenide", interface.chalcogenide_termination),
        f"registry shift {interface.registry_shift} (fractions of the cell),"
        f" plane gap {interface.gap:.3f} Å",
        f"closest cross-interface contact {distance:.3f} Å = {ratio:.3f} × covalent radius sum "
        f"(bound {spec.contact_bound:g})",
        f"fixed atoms (relaxation): {int(np.sum(atoms.arrays['fixed']))}",
    ]
    return "\n".join(lines)


def plot_side_view(interface: Interface, path: Path) -> Path:
    """PNG (300 dpi) of the cell seen along y (x horizontal, normal vertical), boundary dashed."""
    atoms = interface.atoms
    figure = Figure(figsize=(4, 8))
    axis = figure.subplots()
    sizes = 30 + 8 * atoms.numbers**0.8
    order = np.argsort(-sizes)
    positions = atoms.positions[order]
    axis.scatter(
        positions[:, 0],
        positions[:, 2],
        c=jmol_colors[atoms.numbers[order]],
        s=sizes[order],
        edgecolors="k",
    )
    domains = atoms.arrays["domain"]
    top_c = atoms.positions[domains == "chalcogenide", 2].max()
    bottom_p = atoms.positions[domains == "perovskite", 2].min()
    axis.axhline(0.5 * (top_c + bottom_p), color="grey", linestyle="--", label="interface")
    for symbol in sorted(set(atoms.get_chemical_symbols())):
        axis.scatter(
            [], [], color=jmol_colors[atomic_numbers[symbol]], edgecolors="k", label=symbol
        )
    axis.set_xlim(0, atoms.cell[0, 0] + abs(atoms.cell[1, 0]))
    axis.set_ylim(0, atoms.cell[2, 2])
    axis.set_aspect("equal")
    axis.set_xlabel("x (Å)")
    axis.set_ylabel("z (Å)")
    axis.legend(loc="upper right", fontsize="small")
    figure.tight_layout()
    return save_figure(figure, path)


def write_interface_files(
    interface: Interface, outdir: str | Path, stem: str = "interface"
) -> dict[str, Path]:
    """Write ``<stem>.extxyz``, ``.cif``, ``_summary.txt`` and ``_side.png``; return their paths."""
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    paths = {
        "extxyz": outdir / f"{stem}.extxyz",
        "cif": outdir / f"{stem}.cif",
        "summary": outdir / f"{stem}_summary.txt",
        "png": outdir / f"{stem}_side.png",
    }
    atoms = interface.atoms.copy()
    atoms.info.update(
        {
            "perovskite_strain_percent": list(interface.perovskite_strain_percent),
            "chalcogenide_strain_percent": list(interface.chalcogenide_strain_percent),
            "registry_shift": list(interface.registry_shift),
            "gap_angstrom": interface.gap,
        }
    )
    write(paths["extxyz"], atoms, format="extxyz")
    loop_keys = {
        CIF_KEYS["domain"]: [[str(v) for v in atoms.arrays["domain"]]],
        CIF_KEYS["layer"]: [[str(int(v)) for v in atoms.arrays["layer"]]],
        CIF_KEYS["fixed"]: [[str(bool(v)) for v in atoms.arrays["fixed"]]],
    }
    write(paths["cif"], interface.atoms, format="cif", loop_keys=loop_keys)
    paths["summary"].write_text(format_summary(interface) + "\n", encoding="utf-8")
    plot_side_view(interface, paths["png"])
    return paths


def read_interface(path: str | Path) -> Atoms:
    """Read an interface written by :func:`write_interface_files` with its labels restored."""
    path = Path(path)
    if path.suffix == ".cif":
        atoms = read(path, format="cif", store_tags=True)
        if not isinstance(atoms, Atoms):
            raise StructureInputError(f"{path} holds no single structure")
        tags = {key.lower().lstrip("_"): value for key, value in atoms.info.items()}
        missing = [key for key in CIF_KEYS.values() if key not in tags]
        if missing:
            raise StructureInputError(f"{path} lacks interface label columns {missing}")
        atoms.arrays["domain"] = np.array([str(v) for v in tags[CIF_KEYS["domain"]]])
        atoms.arrays["layer"] = np.array([int(v) for v in tags[CIF_KEYS["layer"]]], dtype=int)
        atoms.arrays["fixed"] = np.array(
            [str(v) == "True" for v in tags[CIF_KEYS["fixed"]]], dtype=bool
        )
        return atoms
    atoms = read(path, format="extxyz")
    if not isinstance(atoms, Atoms):
        raise StructureInputError(f"{path} holds no single structure")
    missing = [name for name in LABELS if name not in atoms.arrays]
    if missing:
        raise StructureInputError(f"{path} lacks interface label arrays {missing}")
    return atoms
