"""Install the offline pslibrary pseudopotential families into the AiiDA profile.

Generation happens in :mod:`workflows.setup.upf`; this module only turns the files into
aiida-pseudo ``CutoffsPseudoPotentialFamily`` groups with recommended cutoffs, so that
aiida-quantumespresso's protocols and our own can ask the family for pseudos and cutoffs.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import yaml

from workflows.setup.paths import PROFILES_DIR, work_dir
from workflows.setup.upf import UpfSummary, generate_library

if TYPE_CHECKING:
    from aiida_pseudo.groups.family import CutoffsPseudoPotentialFamily

FAMILY_LABELS = {
    "paw": "janus/pslibrary-1.0.0/PBE/PAW",
    "nc": "janus/pslibrary-1.0.0/PBE/NC",
}
NC_DUAL = 4.0
STRINGENCY = "normal"


class UnknownFlavourError(ValueError):
    """The requested pseudopotential flavour does not exist."""


def _check_flavour(flavour: str) -> None:
    if flavour not in FAMILY_LABELS:
        raise UnknownFlavourError(
            f"unknown pseudopotential flavour {flavour!r}: choose one of {sorted(FAMILY_LABELS)}"
        )


def upf_directory(flavour: str) -> Path:
    """Folder of the generated UPF files of a flavour, inside the work folder."""
    _check_flavour(flavour)
    return work_dir() / "pseudos" / FAMILY_LABELS[flavour].replace("/", "_")


def generate_flavour(flavour: str) -> dict[str, UpfSummary]:
    """Generate (or reuse) every UPF of a flavour; keyed by element."""
    _check_flavour(flavour)
    return generate_library(PROFILES_DIR / "pseudos" / flavour, upf_directory(flavour))


def recommended_cutoffs(
    flavour: str, summaries: dict[str, UpfSummary]
) -> dict[str, dict[str, float]]:
    """Cutoffs (Ry) per element: PAW from the UPF headers, NC from ``nc-cutoffs.yaml``."""
    if flavour == "paw":
        return {
            element: {"cutoff_wfc": s.wfc_cutoff_ry, "cutoff_rho": s.rho_cutoff_ry}
            for element, s in summaries.items()
        }
    table = yaml.safe_load((PROFILES_DIR / "pseudos" / "nc-cutoffs.yaml").read_text())
    missing = sorted(set(summaries) - set(table))
    if missing:
        raise KeyError(f"nc-cutoffs.yaml has no cutoff for {missing}: add a measured value")
    return {
        element: {"cutoff_wfc": float(table[element]), "cutoff_rho": NC_DUAL * table[element]}
        for element in summaries
    }


def install_pseudo_family(flavour: str = "paw") -> CutoffsPseudoPotentialFamily:
    """Return the family of a flavour, generating and installing it on first use.

    Needs a loaded AiiDA profile. A family that already exists is returned as it is.
    """
    from aiida.common.exceptions import NotExistent
    from aiida.orm import QueryBuilder
    from aiida_pseudo.data.pseudo import UpfData
    from aiida_pseudo.groups.family import CutoffsPseudoPotentialFamily

    _check_flavour(flavour)
    label = FAMILY_LABELS[flavour]
    existing = QueryBuilder().append(CutoffsPseudoPotentialFamily, filters={"label": label}).first()
    if existing is not None:
        family: CutoffsPseudoPotentialFamily = existing[0]
        return family
    summaries = generate_flavour(flavour)
    try:
        family = CutoffsPseudoPotentialFamily.create_from_folder(
            upf_directory(flavour),
            label,
            description=f"pslibrary 1.0.0 PBE {flavour.upper()} generated offline by aiida-janus",
            pseudo_type=UpfData,
        )
    except NotExistent as exception:  # pragma: no cover - defensive, message is the point
        raise RuntimeError(f"could not create family {label}: {exception}") from exception
    family.set_cutoffs(recommended_cutoffs(flavour, summaries), STRINGENCY, unit="Ry")
    return family
