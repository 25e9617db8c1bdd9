"""The study summary: one Dict gathering the headline numbers of every finished step.

Made by a calcfunction, so each number in the summary links back to the node it came
from (``aiida-janus query trace`` follows those links).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from aiida import orm
from aiida.engine import calcfunction
from pymatgen.core import Composition

from heterostructures.electronic.bands import band_relative_to_edge
from heterostructures.structure.energetics import energy_per_formula_unit

LEVEL_OF_THEORY = "PBE without spin-orbit coupling (pslibrary 1.0.0 PAW/NC)"


@calcfunction
def study_summary(perovskite: orm.Str, chalcogenide: orm.Str, **pieces: orm.Dict) -> orm.Dict:
    """Headline numbers: strain, offsets, type, IS/FS, MD diagnostics, NA times."""
    summary: dict[str, Any] = {
        "pair": f"{perovskite.value}/{chalcogenide.value}",
        "level_of_theory": LEVEL_OF_THEORY,
        "steps": sorted(pieces),
    }
    for name, node in pieces.items():
        summary[name] = node.get_dict()
    return orm.Dict(summary)


@calcfunction
def na_transfer_bands(bands: orm.Dict) -> dict[str, orm.Int]:
    """IS/FS band numbers for the NA snapshots (their pseudopotentials may differ).

    With the electronic step's IS/FS (``initial_band``/``final_band`` and its
    ``electronic_highest_occupied``), each is moved to the snapshots' numbering by its
    position relative to the highest occupied band. Without them, IS = CBM + 1 and
    FS = CBM of the snapshots (stated in the NA analysis inputs' provenance).
    """
    values = bands.get_dict()
    to = int(values["na_highest_occupied"])
    if "initial_band" not in values:
        return {"initial_band": orm.Int(to + 2), "final_band": orm.Int(to + 1)}
    source = int(values["electronic_highest_occupied"])
    return {
        role: orm.Int(band_relative_to_edge(int(values[role]), source, to))
        for role in ("initial_band", "final_band")
    }


@calcfunction
def bulk_reference_energies(**bulks: orm.Data) -> orm.Dict:
    """Bulk energies per formula unit (eV), keyed by formula, for the interface energy.

    ``bulks`` holds ``<side>_formula`` (Str), ``<side>_energy`` (Float) and
    ``<side>_structure`` (StructureData) of each relaxed bulk reference.
    """
    energies = {}
    for side in sorted({key.rsplit("_", 1)[0] for key in bulks}):
        formula = bulks[f"{side}_formula"].value
        symbols = bulks[f"{side}_structure"].get_ase().get_chemical_symbols()
        energies[formula] = energy_per_formula_unit(
            bulks[f"{side}_energy"].value,
            Counter(symbols),
            Counter({el: int(n) for el, n in Composition(formula).as_dict().items()}),
        )
    return orm.Dict(energies)


def energies_incomparable(bulk_pw: dict[str, Any], interface_pw: dict[str, Any]) -> str | None:
    """Why the bulk and interface total energies cannot be subtracted, or ``None``.

    A formation energy subtracts bulk totals from the interface total; that only means
    something when both used the same pseudopotential for every shared element and the
    same plane-wave cutoffs (the ``fast`` pipeline relaxes the interface with cheaper NC
    files than the PAW bulk references, and so skips it).
    """
    reasons = []
    bulk_system = bulk_pw["parameters"].get_dict()["SYSTEM"]
    interface_system = interface_pw["parameters"].get_dict()["SYSTEM"]
    for cutoff in ("ecutwfc", "ecutrho"):
        if bulk_system.get(cutoff) != interface_system.get(cutoff):
            reasons.append(
                f"{cutoff} {bulk_system.get(cutoff)} vs {interface_system.get(cutoff)} Ry"
            )
    bulk_files = {pseudo.element: pseudo.md5 for pseudo in bulk_pw["pseudos"].values()}
    interface_files = {pseudo.element: pseudo.md5 for pseudo in interface_pw["pseudos"].values()}
    differing = sorted(
        element
        for element in set(bulk_files) & set(interface_files)
        if bulk_files[element] != interface_files[element]
    )
    if differing:
        reasons.append(f"different pseudopotentials for {differing}")
    return "; ".join(reasons) or None
