"""Calcfunctions recording the band alignment of ``heterostructures``; shared file names.

The files come from the retrieved ``FolderData`` of our projwfc.x and pp.x calculations
and are analysed by :mod:`heterostructures.electronic.alignment_analysis` (aiida-
quantumespresso's ``ProjectionData`` is never built). Here nodes become its plain inputs
and its result becomes nodes; the workchain calls the plain ``analyse_*`` first, so that
bad input ends it with an exit code before any half-finished result is stored.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
from aiida import orm
from aiida.engine import calcfunction

from heterostructures.electronic.alignment_analysis import (
    ATOMIC_PROJ as ATOMIC_PROJ,
)
from heterostructures.electronic.alignment_analysis import (
    PREFIX as PREFIX,
)
from heterostructures.electronic.alignment_analysis import (
    PROJWFC_STDOUT as PROJWFC_STDOUT,
)
from heterostructures.electronic.alignment_analysis import (
    AlignmentAnalysis,
    analyse_alignment,
    read_bulk_reference,
)
from heterostructures.electronic.alignment_analysis import (
    SiteLabels as PlainSiteLabels,
)
from heterostructures.electronic.band_offsets import BulkReference
from heterostructures.electronic.projected_dos import ElectronicStructureError
from heterostructures.plots.electronic import (
    plot_band_edge_profile,
    plot_potential_lineup,
    plot_projected_dos,
)
from heterostructures.units import RYDBERG_EV
from workflows.calcfunctions.figures import png_node
from workflows.inputs.site_labels import labelled_atoms

CUBE_FILE = "aiida.fileout"
"""pp.x ``fileout`` in the retrieved folder of our pp.x calculations."""


class SiteLabels(PlainSiteLabels):
    """:class:`heterostructures.electronic.alignment_analysis.SiteLabels` read from nodes."""

    @classmethod
    def from_nodes(cls, structure: orm.StructureData, site_labels: orm.Dict) -> SiteLabels:
        """Labels of ``structure`` (raises ``LabelError`` when they do not fit)."""
        return cls.from_atoms(labelled_atoms(structure, site_labels))


def _pdos_array(analysis: AlignmentAnalysis) -> orm.ArrayData:
    """Energies (eV), PDOS (states/eV/cell) per domain, element and layer, and projwfc's
    total PDOS (``*.pdos_tot``, the sum of all projections)."""
    array = orm.ArrayData()
    array.set_array("energies_ev", analysis.groups["domain"].energies_ev)
    array.set_array("total_pdos", analysis.total_pdos)
    for name, grouped in analysis.groups.items():
        array.set_array(f"pdos_by_{name}", grouped.dos)
        array.base.attributes.set(f"keys_by_{name}", [str(key) for key in grouped.keys])
    array.base.attributes.set("energy_zero_ev", analysis.zero_ev)
    array.base.attributes.set("energy_zero", analysis.zero_label)
    return array


REFERENCE_PREFIX = "reference_"


def analyse_lineup_reference(
    potential: orm.FolderData, bands: orm.BandsData, parameters: orm.Dict
) -> BulkReference:
    """Plain twin of :func:`lineup_reference` (raises ``ElectronicStructureError``)."""
    eigenvalues = np.asarray(bands.get_bands())
    if eigenvalues.ndim == 3:
        raise ElectronicStructureError(
            "spin-polarised bulk reference: run it without nspin = 2 (closed-shell insulator)"
        )
    with tempfile.TemporaryDirectory() as scratch:
        potential.base.repository.copy_tree(scratch)
        return read_bulk_reference(
            Path(scratch) / CUBE_FILE, eigenvalues, float(parameters["number_of_electrons"])
        )


@calcfunction
def lineup_reference(
    potential: orm.FolderData, bands: orm.BandsData, parameters: orm.Dict
) -> orm.Dict:
    """Bulk VBM/CBM and mean potential (eV) of a strained bulk reference SCF + pp.x run."""
    return orm.Dict(analyse_lineup_reference(potential, bands, parameters).as_dict())


def references_from_nodes(nodes: dict[str, orm.Dict]) -> dict[str, BulkReference]:
    """``reference_<domain>`` Dicts of :func:`lineup_reference` → BulkReference by domain."""
    return {
        name.removeprefix(REFERENCE_PREFIX): BulkReference(
            node["vbm_ev"], node["cbm_ev"], node["mean_potential_ev"]
        )
        for name, node in nodes.items()
    }


@calcfunction
def band_alignment(
    retrieved: orm.FolderData,
    structure: orm.StructureData,
    site_labels: orm.Dict,
    settings: orm.Dict,
    potential: orm.FolderData | None = None,
    **references: orm.Dict,
) -> dict[str, orm.Data]:
    """``band_alignment`` Dict, ``projected_dos`` ArrayData, the PDOS / edge-profile PNGs
    and, with the pp.x ``potential`` folder, the ``potential_profile`` ArrayData.
    ``reference_<domain>`` Dicts (:func:`lineup_reference`) add the route 2 offsets."""
    labels = SiteLabels.from_nodes(structure, site_labels)
    with (
        retrieved.base.repository.as_path() as folder,
        tempfile.TemporaryDirectory() as scratch,
    ):
        cube = None
        if potential is not None:
            potential.base.repository.copy_tree(scratch)
            cube = Path(scratch) / CUBE_FILE
        analysis = analyse_alignment(
            Path(folder), labels, settings.get_dict(), cube, references_from_nodes(references)
        )
    outputs: dict[str, orm.Data] = {
        "band_alignment": orm.Dict(analysis.summary),
        "projected_dos": _pdos_array(analysis),
        "pdos_plot": png_node(
            plot_projected_dos, analysis.groups["domain"], analysis.groups["element"],
            analysis.zero_ev, analysis.zero_label,
        ),
    }  # fmt: skip
    if analysis.potential:
        outputs["potential_profile"] = orm.ArrayData(analysis.potential)
        lineup = analysis.summary["potential_lineup"]
        outputs["potential_plot"] = png_node(
            plot_potential_lineup, analysis.potential["z_ang"],
            analysis.potential["planar_ry"] * RYDBERG_EV,
            analysis.potential["macroscopic_ry"] * RYDBERG_EV,
            {domain: tuple(window) for domain, window in lineup["regions_ang"].items()},
            lineup["delta_v_ev"],
        )  # fmt: skip
    if analysis.layer_edges:
        outputs["edge_profile_plot"] = png_node(
            plot_band_edge_profile, analysis.layer_edges, labels.layer_heights(),
            analysis.zero_ev, analysis.zero_label,
        )  # fmt: skip
    return outputs
