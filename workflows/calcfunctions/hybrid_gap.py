"""Calcfunction of the HSE06 bulk references: the gap of a (hybrid) pw.x SCF, with its settings.

The inputs of those SCFs are :mod:`workflows.inputs.hybrid_scf`; the edge finder is
:func:`heterostructures.electronic.bands.band_gap`, the same for the PBE reference, so both
gaps of a pair come from one place.
"""

from __future__ import annotations

from typing import Any

from aiida import orm
from aiida.engine import calcfunction

from heterostructures.electronic.bands import band_gap
from workflows.inputs.hybrid_scf import ecutfock_ry


def hybrid_gap(
    bands: orm.BandsData, parameters: orm.Dict, pw_parameters: orm.Dict
) -> dict[str, Any]:
    """Gap, VBM, CBM (eV) of a pw.x SCF and the settings that made it.

    ``parameters`` is the run's ``output_parameters`` (electron count, the functional and
    the k-mesh as QE reports them); ``pw_parameters`` its input parameters (the q-mesh and
    ``ecutfock``, which the parser does not report; ``None`` for a semi-local run). Works for
    the PBE reference too, so both gaps come from one edge finder.
    """
    output = parameters.get_dict()
    gap = band_gap(bands.get_bands(), float(output["number_of_electrons"]))
    system = pw_parameters.get_dict().get("SYSTEM", {})
    hybrid = "input_dft" in system
    return {
        **gap.as_dict(),
        "functional": str(output.get("dft_exchange_correlation")),
        "kpoints_mesh": [int(n) for n in output.get("monkhorst_pack_grid", [])],
        "qpoints_mesh": [int(system[f"nqx{i}"]) for i in (1, 2, 3)] if hybrid else None,
        "ecutfock_ry": float(ecutfock_ry(system, system.get("ecutfock"))) if hybrid else None,
    }


@calcfunction
def hybrid_band_gap(
    bands: orm.BandsData, output_parameters: orm.Dict, pw_parameters: orm.Dict
) -> orm.Dict:
    """Record :func:`hybrid_gap` of a (hybrid) bulk reference SCF in the provenance graph."""
    return orm.Dict(hybrid_gap(bands, output_parameters, pw_parameters))
