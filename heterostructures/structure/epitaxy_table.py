"""All perovskite/chalcogenide pairs of the paper side by side: quoted and computed mismatch.

Qiu et al. (Adv. Sci. 2023) made CsPbBr3/CdS, CsPbCl3/CdS, CsPbI3/CdS and CsPbBr3/ZnS
(Sect. 2.5) but quote a mismatch for two of them only. Their figures sit in a column of
their own (quoted text, never used in a computation); ours are d{220} mismatches
(chalcogenide against pseudo-cubic perovskite, %) from experimental lattices
(:data:`heterostructures.structure.phases.LATTICE_DEFAULTS`) and from this project's PBE lattices
(:data:`heterostructures.structure.phases.COMPUTED_LATTICES`, where computed), plus the interface
model each pair gets (:func:`heterostructures.structure.interface.build_interface`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from heterostructures.structure.coincidence import resolve_cell
from heterostructures.structure.epitaxy import mismatch_percent, pseudocubic_spacing
from heterostructures.structure.errors import StructureInputError
from heterostructures.structure.facet_matching import interplanar_spacing
from heterostructures.structure.interface import InterfaceSpec, build_interface
from heterostructures.structure.phases import (
    COMPUTED_LATTICES,
    chalcogenide,
    pseudocubic_lattice_constant,
)

PAIRS = (("CsPbBr3", "CdS"), ("CsPbCl3", "CdS"), ("CsPbI3", "CdS"), ("CsPbBr3", "ZnS"))
"""The pairs the paper synthesised (Sect. 2.1 and 2.5)."""


@dataclass(frozen=True)
class PaperQuote:
    """A mismatch as the paper states it, with the sentence and section it comes from."""

    figure: str
    text: str
    where: str


PAPER_QUOTES: dict[tuple[str, str], PaperQuote] = {
    ("CsPbBr3", "CdS"): PaperQuote(
        "< 1.0 %",
        "negligible mismatch (<1.0%, d CsPbBr3{220} = 2.0610 Å, d CdS{220} = 2.0614 Å)",
        "Sect. 2.1",
    ),
    ("CsPbBr3", "ZnS"): PaperQuote(
        "≈ 4.2 %",
        "Despite the lattice mismatch between ZnS and CsPbBr3 (≈4.2%)",
        "Sect. 2.5",
    ),
}
"""Verbatim quotes of Qiu et al.; CsPbCl3/CdS and CsPbI3/CdS have none."""


@dataclass(frozen=True)
class PairRow:
    """One pair: the paper's quote, our d{220} mismatches (%) and its model."""

    perovskite: str
    chalcogenide: str
    paper: PaperQuote | None
    experimental_mismatch_percent: float
    pbe_mismatch_percent: float | None
    model: str


def d220_mismatch(perovskite_a: float, chalcogenide_formula: str, chalcogenide_a: float) -> float:
    """d{220} of zinc blende against pseudo-cubic d{220} (%), from the two lattice constants."""
    zincblende = chalcogenide(chalcogenide_formula, "zincblende", a=chalcogenide_a)
    return mismatch_percent(
        interplanar_spacing(zincblende, (2, 2, 0)), pseudocubic_spacing(perovskite_a, (2, 2, 0))
    )


def model_line(spec: InterfaceSpec) -> str:
    """Atoms, cell and strain per side of the model a spec builds, or why it is refused."""
    try:
        resolved, cell = resolve_cell(spec)
        interface = build_interface(resolved)
    except StructureInputError as error:
        return f"refused: {error}"
    p, c = interface.perovskite_strain_percent, interface.chalcogenide_strain_percent
    kind = f"1:1 {spec.perovskite_hkl}/{spec.chalcogenide_hkl}" if cell is None else (
        f"coincidence {cell.perovskite_hkl}/{cell.chalcogenide_hkl}"
        f" ({cell.perovskite_cells}:{cell.chalcogenide_cells} cells)"
    )  # fmt: skip
    return (
        f"{len(interface.atoms)} atoms, {kind}, strain perovskite {max(p, key=abs):+.2f} %,"
        f" chalcogenide {max(c, key=abs):+.2f} %"
    )


def epitaxy_rows(spec: InterfaceSpec) -> tuple[PairRow, ...]:
    """A row per pair of :data:`PAIRS`, models from ``spec`` with each pair's formulas."""
    rows = []
    for perovskite_formula, chalcogenide_formula in PAIRS:
        experimental = d220_mismatch(
            pseudocubic_lattice_constant(perovskite_formula),
            chalcogenide_formula,
            chalcogenide(chalcogenide_formula).cell[0, 0],
        )
        computed_p = COMPUTED_LATTICES.get((perovskite_formula, "cubic"))
        computed_c = COMPUTED_LATTICES.get((chalcogenide_formula, "zincblende"))
        pbe = None
        if computed_p is not None and computed_c is not None:
            pbe = d220_mismatch(computed_p.a, chalcogenide_formula, computed_c.a)
        model = model_line(
            replace(spec, perovskite=perovskite_formula, chalcogenide=chalcogenide_formula)
        )
        rows.append(
            PairRow(
                perovskite_formula,
                chalcogenide_formula,
                PAPER_QUOTES.get((perovskite_formula, chalcogenide_formula)),
                experimental,
                pbe,
                model,
            )
        )
    return tuple(rows)


def format_epitaxy_table(rows: tuple[PairRow, ...], model_name: str) -> str:
    """Markdown table of the rows, then the paper's sentences the quoted column comes from."""
    lines = [
        "| pair | paper's quoted mismatch | ours d{220}, experimental lattices |"
        f" ours d{{220}}, PBE lattices | model ({model_name}) |",
        "|---|---|---|---|---|",
    ]
    for row in rows:
        quoted = "not quoted" if row.paper is None else f"{row.paper.figure} ({row.paper.where})"
        pbe = "not computed" if row.pbe_mismatch_percent is None else (
            f"{row.pbe_mismatch_percent:+.2f} %"
        )  # fmt: skip
        lines.append(
            f"| {row.perovskite}/{row.chalcogenide} | {quoted} |"
            f" {row.experimental_mismatch_percent:+.2f} % | {pbe} | {row.model} |"
        )
    lines.append("")
    lines.append("Quoted from Qiu et al., Adv. Sci. 2023, 10, 2206560 (not used as results):")
    for row in rows:
        if row.paper is not None:
            lines.append(
                f'  {row.perovskite}/{row.chalcogenide}, {row.paper.where}: "{row.paper.text}"'
            )
    lines.append(
        "A quoted figure far from ours names no planes: `aiida-janus epitaxy --perovskite P"
        " --chalcogenide C --quoted-mismatch X` tests it against every allowed d-spacing pair."
    )
    return "\n".join(lines)
