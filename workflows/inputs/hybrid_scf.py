"""HSE06 SCF of the strained bulk references: gaps for gap-corrected conduction offsets.

Route 2 (potential line-up) runs a PBE SCF of each side's bulk unit strained like the
interface (:func:`workflows.inputs.lineup_references.reference_scf_inputs`). PBE
misplaces the conduction bands, so issue 19 corrects the conduction offset as
ΔE_C = ΔE_V + ΔE_g with bulk gaps
from a hybrid functional. :func:`hybrid_scf_inputs` derives the inputs of that hybrid
SCF from the same interface SCF inputs (same pseudopotentials, cutoffs, ``nbnd`` with
empty bands, even Γ-centred k-mesh) and adds only the exact-exchange keys;
:func:`hybrid_gap` reads the gap (eV) with :func:`heterostructures.electronic.bands.band_gap`.

QE 6.7 input keys used (``PW/Doc/INPUT_PW.def`` at tag ``qe-6.7.0``, and
``PW/examples/EXX_example/README``):

- ``input_dft='hse'``: HSE06 (25 % short-range exact exchange, screening_parameter
  0.106 bohr⁻¹, the 6.7 default).
- ``nqx1..3``: the q-mesh of the Fock operator. It must make k+q land on the k-mesh; QE
  6.7 (``exx_base.f90``) otherwise silently lowers it until it fits, so an impossible
  q-mesh is refused here instead of being changed behind the user's back.
- ``exxdiv_treatment='gygi-baldereschi'`` with ``x_gamma_extrapolation=.true.``: the
  defaults, which INPUT_PW recommends for cubic and quasi-cubic cells (the bulk units
  are cubic lattices in an oblique setting); ``vcut_ws`` is for strongly anisotropic cells.
- ``ecutfock`` (Ry): cutoff of the exchange densities; QE 6.7 needs
  ecutwfc ≤ ecutfock ≤ ecutrho and implements it for norm-conserving pseudopotentials only.
- ``ace=.true.``: the adaptively compressed exchange of Lin Lin (JCTC 12, 2242, 2016),
  already the QE 6.7 default; written explicitly so the input says what ran.
- ``nosym=.true.``: measured, QE 6.7 stops in ``scale_sym_ops`` ("incompatible FFT grid")
  when it maps the EXX grid of these oblique strained cells by their symmetry operations;
  without symmetry the 2×2×2 mesh has 8 k-points instead of 6.
- ``tstress``/``tprnfor`` off: only eigenvalues are needed, and INPUT_PW says ``ecutfock``
  is not implemented for stresses.

Only norm-conserving pseudopotentials are accepted: ``ecutfock`` is not implemented for
US/PAW, and the 6.7 EXX README calls hybrids with PAW not functional. The NC gap
*difference* HSE − PBE is what corrects the offsets (see ``docs/hybrid-gaps.md``).
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping, Sequence
from typing import Any

from aiida import orm

from workflows.inputs.lineup_references import reference_scf_inputs

HYBRID_FUNCTIONAL = "hse"
DEFAULT_HYBRID_SETTINGS: dict[str, Any] = {"qpoints_mesh": [1, 1, 1], "ecutfock_ry": None}
"""``qpoints_mesh``: q-mesh of the Fock operator (must divide the k-mesh); ``ecutfock_ry``:
exchange cutoff (Ry), ``None`` for ecutrho (QE 6.7's default at dual 4). 1×1×1 is what this
2-core machine affords (≈ 3 min CPU for CsPbBr3, ``docs/hybrid-gaps.md``); its CsPbBr3 gap is
likely unconverged (2×2×2 not measured here); the ``stringent`` setting is the full k-mesh."""
NORM_CONSERVING_TYPES = ("NC", "SL")
_PSEUDO_TYPE = re.compile(r'pseudo_type="\s*([A-Za-z]+)\s*"')


class HybridSettingsError(ValueError):
    """A hybrid-functional SCF that QE 6.7 cannot run as asked (or would silently change)."""


def check_qpoints_mesh(kpoints_mesh: Sequence[int], qpoints_mesh: Sequence[int]) -> list[int]:
    """The q-mesh as a list if each division divides the k-mesh's; else HybridSettingsError.

    Why: k+q must be a k-point of the calculation; QE 6.7 otherwise lowers nqx on its own.
    """
    k_mesh, q_mesh = [int(n) for n in kpoints_mesh], [int(n) for n in qpoints_mesh]
    if len(q_mesh) != 3 or any(n < 1 for n in q_mesh):
        raise HybridSettingsError(f"qpoints_mesh {q_mesh}: give three positive integers")
    if any(k % q for k, q in zip(k_mesh, q_mesh, strict=True)):
        raise HybridSettingsError(
            f"qpoints_mesh {q_mesh} does not divide the k-mesh {k_mesh}: k+q must lie on the "
            "k-mesh (QE 6.7 would silently lower it); use divisors of the k-mesh, e.g. [1, 1, 1]"
        )
    return q_mesh


def check_insulator(system: Mapping[str, Any]) -> None:
    """Refuse a spin-polarised or metallic SCF: the bulk references are closed-shell gaps."""
    if int(system.get("nspin", 1)) != 1 or system.get("noncolin") or system.get("lspinorb"):
        raise HybridSettingsError(
            "the hybrid gap of a bulk reference is for a spin-unpolarised insulator: remove "
            "nspin/noncolin/lspinorb from SYSTEM"
        )
    occupations = system.get("occupations", "fixed")
    if occupations != "fixed":
        raise HybridSettingsError(
            f"occupations={occupations!r}: the hybrid gap needs a gapped reference with "
            "occupations='fixed' (a metal has no gap and EXX with smearing is unstable)"
        )


def check_norm_conserving(pseudos: Mapping[str, Any]) -> None:
    """Refuse US/PAW pseudopotentials (UPF ``pseudo_type``): see the module docstring."""
    types = {}
    for kind, pseudo in pseudos.items():
        match = _PSEUDO_TYPE.search(pseudo.get_content())
        types[kind] = match.group(1).upper() if match else "unknown"
    others = {kind: value for kind, value in types.items() if value not in NORM_CONSERVING_TYPES}
    if others:
        raise HybridSettingsError(
            f"pseudopotentials {others} are not norm-conserving: the hybrid gaps run with the "
            "NC family (ecutfock is not implemented for US/PAW in QE 6.7)"
        )


def ecutfock_ry(system: Mapping[str, Any], requested: float | None) -> float:
    """The exchange cutoff (Ry): ``requested`` or ecutrho; must lie in [ecutwfc, ecutrho]."""
    ecutwfc = float(system["ecutwfc"])
    ecutrho = float(system.get("ecutrho", 4.0 * ecutwfc))
    value = ecutrho if requested is None else float(requested)
    if not ecutwfc <= value <= ecutrho:
        raise HybridSettingsError(
            f"ecutfock {value} Ry outside [ecutwfc, ecutrho] = [{ecutwfc}, {ecutrho}] Ry, "
            "which QE 6.7 rejects"
        )
    return value


def hybrid_scf_inputs(
    scf_inputs: dict[str, Any],
    structure: orm.StructureData,
    settings: Mapping[str, Any],
    thresholds_per_atom: Mapping[str, float] | None = None,
) -> dict[str, Any]:
    """``PwBaseWorkChain`` inputs of an HSE06 SCF of the bulk reference ``structure``.

    Built on :func:`workflows.inputs.lineup_references.reference_scf_inputs` (the PBE reference of
    route 2; ``thresholds_per_atom`` as there),
    plus the exact-exchange keys of the module docstring. ``settings`` overrides
    :data:`DEFAULT_HYBRID_SETTINGS`. Raises :class:`HybridSettingsError` (a ValueError)
    for settings QE 6.7 cannot run or would change silently.
    """
    unknown = sorted(set(settings) - set(DEFAULT_HYBRID_SETTINGS))
    if unknown:
        raise HybridSettingsError(
            f"unknown hybrid settings {unknown}: use {sorted(DEFAULT_HYBRID_SETTINGS)}"
        )
    chosen = {**DEFAULT_HYBRID_SETTINGS, **settings}
    inputs = reference_scf_inputs(scf_inputs, structure, thresholds_per_atom)
    pw = dict(inputs["pw"])
    parameters = copy.deepcopy(pw["parameters"].get_dict())
    system = parameters.setdefault("SYSTEM", {})
    check_insulator(system)
    check_norm_conserving(pw["pseudos"])
    q_mesh = check_qpoints_mesh(inputs["kpoints"].get_kpoints_mesh()[0], chosen["qpoints_mesh"])
    system.update(
        input_dft=HYBRID_FUNCTIONAL,
        nqx1=q_mesh[0],
        nqx2=q_mesh[1],
        nqx3=q_mesh[2],
        exxdiv_treatment="gygi-baldereschi",
        x_gamma_extrapolation=True,
        ecutfock=ecutfock_ry(system, chosen["ecutfock_ry"]),
        ace=True,
    )
    system["nosym"] = True
    parameters.setdefault("CONTROL", {}).update(tstress=False, tprnfor=False)
    pw["parameters"] = orm.Dict(parameters)
    inputs["pw"] = pw
    return inputs
