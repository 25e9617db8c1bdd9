"""Builders for plain pw.x runs with the project's pseudopotential families.

aiida-quantumespresso's ``PwBaseWorkChain.get_builder_from_protocol`` is reused; this
module only adds what our offline families need: the family label, a density cutoff
from a protocol dual (the header ``rho_cutoff`` of some pslibrary PAW files, e.g. Cd at
638 Ry, is far above what the PAW augmentation needs for our accuracy), and enough empty
bands to see a gap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from workflows.setup.pseudos import FAMILY_LABELS

if TYPE_CHECKING:
    from aiida.engine import ProcessBuilder
    from aiida.orm import AbstractCode, StructureData

DEFAULT_DUAL = 8.0
EMPTY_BANDS = 8


def pw_base_builder(
    code: AbstractCode,
    structure: StructureData,
    protocol: str = "fast",
    flavour: str = "paw",
    dual: float = DEFAULT_DUAL,
    insulator: bool = True,
    overrides: dict[str, Any] | None = None,
) -> ProcessBuilder:
    """A ``PwBaseWorkChain`` builder for an SCF with our family and ``nbnd`` beyond the gap."""
    from aiida.orm import load_group
    from aiida_pseudo.groups.family import CutoffsPseudoPotentialFamily
    from aiida_quantumespresso.common.types import ElectronicType
    from aiida_quantumespresso.workflows.protocols.utils import recursive_merge
    from aiida_quantumespresso.workflows.pw.base import PwBaseWorkChain

    family = load_group(FAMILY_LABELS[flavour])
    assert isinstance(family, CutoffsPseudoPotentialFamily)
    ecutwfc, _ = family.get_recommended_cutoffs(structure=structure, unit="Ry")
    pseudos = family.get_pseudos(structure=structure)
    valence = sum(pseudos[site.kind_name].z_valence for site in structure.sites)
    system = {"ecutwfc": ecutwfc, "ecutrho": dual * ecutwfc}
    if insulator:
        system["nbnd"] = round(valence) // 2 + EMPTY_BANDS
    base = {"pseudo_family": family.label, "pw": {"parameters": {"SYSTEM": system}}}
    electronic = ElectronicType.INSULATOR if insulator else ElectronicType.METAL
    return PwBaseWorkChain.get_builder_from_protocol(
        code,
        structure,
        protocol=protocol,
        overrides=recursive_merge(base, overrides or {}),
        electronic_type=electronic,
    )
