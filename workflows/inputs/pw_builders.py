"""pw.x input choices shared by every janus workchain that builds on PwBaseWorkChain.

aiida-quantumespresso's ``get_builder_from_protocol`` is reused; this module only adds
what our offline families need: the family label, a density cutoff from a protocol
``dual`` (the header ``rho_cutoff`` of some pslibrary PAW files, e.g. Cd at 638 Ry, is
far above what our accuracy needs), and enough empty bands to see a gap.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

from workflows.inputs.cutoff_floors import with_ecutrho
from workflows.setup.pseudos import FAMILY_LABELS

if TYPE_CHECKING:
    from aiida.engine import ProcessBuilder
    from aiida.orm import AbstractCode, StructureData
    from aiida_pseudo.groups.family import CutoffsPseudoPotentialFamily

DEFAULT_DUAL = 8.0
EMPTY_BANDS = 8


class PseudoFamilyError(ValueError):
    """The pseudopotential family is missing or lacks an element of the structure."""


CHOSEN_FAMILIES: ContextVar[dict[str, str] | None] = ContextVar(
    "janus_chosen_families", default=None
)
"""Family label per flavour chosen by the caller (:func:`families_for_flavours`)."""


@contextmanager
def families_for_flavours(labels: dict[str, str]) -> Iterator[None]:
    """Within the block, the flavours in ``labels`` (``paw``, ``nc``) resolve to those
    family labels instead of the janus pslibrary families, in every builder.

    Why: the protocols choose a *flavour* per step (PAW for accuracy, NC where the method
    needs orthonormal overlaps or cheap MD); a user's own family (``aiida-janus run -F``)
    replaces the family behind a flavour without editing every step's protocol. Builders
    resolve families when they are made, so the choice is recorded in their inputs.
    """
    token = CHOSEN_FAMILIES.set({**(CHOSEN_FAMILIES.get() or {}), **labels})
    try:
        yield
    finally:
        CHOSEN_FAMILIES.reset(token)


def load_family(flavour: str) -> CutoffsPseudoPotentialFamily:
    """The installed family of a flavour (janus's, or the caller's choice), with a fix in
    the message if absent."""
    from aiida.common.exceptions import NotExistent
    from aiida.orm import load_group

    if flavour not in FAMILY_LABELS:
        raise PseudoFamilyError(
            f"unknown pseudo flavour {flavour!r}: use one of {sorted(FAMILY_LABELS)}"
        )
    label = (CHOSEN_FAMILIES.get() or {}).get(flavour, FAMILY_LABELS[flavour])
    try:
        family: CutoffsPseudoPotentialFamily = load_group(label)
    except NotExistent as exception:
        raise PseudoFamilyError(
            f"pseudo family {label} is not installed: run `aiida-janus setup`"
        ) from exception
    return family


def family_overrides(
    structure: StructureData,
    flavour: str = "paw",
    dual: float = DEFAULT_DUAL,
    insulator: bool = True,
    cutoff_elements: tuple[str, ...] = (),
) -> dict[str, Any]:
    """PwBaseWorkChain overrides: family, cutoffs (Ry) and, for insulators, ``nbnd``.

    ``cutoff_elements`` widens the set of elements whose recommended cutoffs are taken,
    so that every calculation of a study (bulk references, interface) shares one
    ``ecutwfc``: total energies are then comparable. Raises ``PseudoFamilyError``
    naming the elements the family lacks.
    """
    family = load_family(flavour)
    elements = tuple(sorted(set(structure.get_symbols_set()) | set(cutoff_elements)))
    missing = sorted(set(elements) - set(family.elements))
    if missing:
        raise PseudoFamilyError(
            f"family {family.label} has no pseudopotential for {missing}: add the ld1.x input "
            "to profiles/pseudos/ and re-run `aiida-janus setup`, or use another family"
        )
    ecutwfc, _ = family.get_recommended_cutoffs(elements=elements, unit="Ry")
    system: dict[str, Any] = {"ecutwfc": ecutwfc, "ecutrho": dual * ecutwfc}
    if insulator:
        system["nbnd"] = insulator_bands(structure, family.get_pseudos(structure=structure))
    return {"pseudo_family": family.label, "pw": {"parameters": {"SYSTEM": system}}}


def cutoffs_from_dual(
    overrides: Mapping[str, Any], structure: StructureData, family_label: str, dual: float
) -> dict[str, Any]:
    """A copy of ``PwBaseWorkChain`` ``overrides`` with the cutoffs (Ry) of
    :func:`family_overrides`: ``ecutwfc`` the family's recommendation for the elements of
    ``structure``, ``ecutrho`` = ``dual`` × ``ecutwfc``. Cutoffs the overrides give win
    (an ``ecutwfc`` alone gets ``dual`` × it).

    Why: without them aiida-quantumespresso takes the family's ``ecutrho`` as well, the
    largest header ``rho_cutoff`` (pslibrary Cd PAW: 637.6 Ry), so a step built that way
    (the AIMD) ran another Hamiltonian than the relaxation whose structure it starts from
    (391 Ry at dual 8), its forces not zero at that minimum.
    """
    from aiida.orm import load_group

    family = load_group(family_label)
    elements = tuple(sorted(structure.get_symbols_set()))
    recommended, _ = family.get_recommended_cutoffs(elements=elements, unit="Ry")
    merged = copy.deepcopy(dict(overrides))
    system = merged.setdefault("pw", {}).setdefault("parameters", {}).setdefault("SYSTEM", {})
    system.setdefault("ecutwfc", recommended)
    system.setdefault("ecutrho", dual * system["ecutwfc"])
    return merged


def system_namelist(parameters: Mapping[str, Any]) -> dict[str, Any]:
    """pw.x's ``SYSTEM`` namelist of ``parameters`` as pw.x reads it: namelist and key names
    in any case (aiida-quantumespresso upper-cases namelists and lower-cases keys when it
    writes the input), keys lower-cased here."""
    return {
        key.lower(): value
        for name, namelist in parameters.items()
        if name.upper() == "SYSTEM"
        for key, value in namelist.items()
    }


def pseudo_valence_electrons(
    kind_names: Iterable[str], pseudos: Mapping[str, Any], tot_charge: float = 0.0
) -> float:
    """Valence electrons pw.x counts (its ``nelec``): Σ ``z_valence`` of the
    pseudopotentials over the sites (by kind name) − ``SYSTEM.tot_charge`` (in e, positive
    for a cation)."""
    return float(sum(pseudos[name].z_valence for name in kind_names)) - tot_charge


def insulator_bands(
    structure: StructureData, pseudos: Mapping[str, Any], empty_bands: int = EMPTY_BANDS
) -> int:
    """``nbnd`` of a closed-shell insulator: the occupied bands of ``structure`` with these
    pseudopotentials (by kind name) plus ``empty_bands`` empty ones to see its gap (an odd
    count is rounded down here: room enough for the bands; an NA basis refuses it)."""
    valence = pseudo_valence_electrons((site.kind_name for site in structure.sites), pseudos)
    return round(valence) // 2 + empty_bands


THRESHOLDS_PER_ATOM = {
    "conv_thr_per_atom": ("ELECTRONS", "conv_thr"),
    "etot_conv_thr_per_atom": ("CONTROL", "etot_conv_thr"),
}
"""aiida-quantumespresso's per-atom ``meta_parameters`` → the pw.x keys they scale (Ry)."""


def protocol_thresholds_per_atom(
    protocol: str | None, overrides: Mapping[str, Any] | None = None
) -> dict[str, float]:
    """The per-atom SCF thresholds (Ry per atom) of aiida-quantumespresso's
    ``PwBaseWorkChain`` protocol, with the ``meta_parameters`` of ``overrides`` applied, as
    its ``get_builder_from_protocol`` reads them."""
    from aiida_quantumespresso.workflows.pw.base import PwBaseWorkChain

    meta = {"meta_parameters": dict((overrides or {}).get("meta_parameters", {}))}
    inputs = PwBaseWorkChain.get_protocol_inputs(protocol, meta)
    return {key: float(inputs["meta_parameters"][key]) for key in THRESHOLDS_PER_ATOM}


def per_atom_conv_thr_given(
    inputs: Mapping[str, Any], caller: Mapping[str, Any] | None
) -> dict[str, Any]:
    """A copy of a step's merged ``PwBaseWorkChain`` protocol ``inputs`` without their
    absolute ``ELECTRONS.conv_thr`` when the ``caller``'s overrides of that step give a
    per-atom one (``meta_parameters.conv_thr_per_atom``) and no absolute one.

    Why: aiida-quantumespresso's ``get_builder_from_protocol`` sets ``conv_thr`` =
    atoms × ``conv_thr_per_atom`` and then lets an absolute ``conv_thr`` in the overrides
    replace it (``workflows/pw/base.py``: "If overrides are provided, they are considered
    absolute"). A step whose own protocol fixes ``conv_thr`` (the NA snapshots: 1e-8 to
    1e-10 Ry) thus silently ignored a caller's per-atom threshold; with the protocol's value
    dropped, the caller's scales with the model's atoms, as in every other step.
    """
    given = copy.deepcopy(dict(inputs))
    caller = caller or {}
    per_atom = "conv_thr_per_atom" in caller.get("meta_parameters", {})
    absolute = caller.get("pw", {}).get("parameters", {}).get("ELECTRONS", {})
    if per_atom and "conv_thr" not in absolute:
        electrons = given.get("pw", {}).get("parameters", {}).get("ELECTRONS", {})
        electrons.pop("conv_thr", None)
    return given


def with_thresholds(
    parameters: Mapping[str, Any], thresholds_per_atom: Mapping[str, float], atoms: int
) -> dict[str, Any]:
    """A copy of pw.x ``parameters`` whose ``conv_thr`` and ``etot_conv_thr`` are the
    per-atom values × ``atoms`` (Ry), computed as aiida-quantumespresso computes them for
    the structure it is given.

    Why per structure: both are total-energy errors, extensive in the system size. A
    template made for one structure and reused on another (a thickness series, a bulk
    reference) must be rescaled, or the same system gets other inputs in other studies.
    """
    scaled = copy.deepcopy(dict(parameters))
    for key, (namelist, name) in THRESHOLDS_PER_ATOM.items():
        scaled.setdefault(namelist, {})[name] = atoms * thresholds_per_atom[key]
    return scaled


LOCAL_TF_FROM_ATOMS = 60
"""Interface SCFs of this many atoms or more mix with ``local-TF`` and smear the
occupations (:data:`LARGE_CELL_OCCUPATIONS`); smaller ones mix plainly with fixed ones.

Measured on this machine (NC 30/120 Ry, β 0.4, docs/epitaxy.md): ``local-TF`` took 17
SCF iterations against 12–13 plain on the 13-atom superlattice and 22 against 15–16 on the
26-atom one, and plain mixing converged the 39-atom model; plain mixing on the 100-atom
CsPbBr3/ZnS coincidence cell raised the estimated error 6× in iteration 2 (charge
sloshing, which screened mixing damps). 60 lies between the largest cell measured to mix
well plainly and the smallest measured to slosh; it is a judgement, not a fitted value.
"""

LARGE_CELL_OCCUPATIONS: dict[str, Any] = {
    "occupations": "smearing",
    "smearing": "gaussian",
    "degauss": 0.005,
}
"""``SYSTEM`` occupations of an interface SCF of :data:`LOCAL_TF_FROM_ATOMS` atoms or more:
Gaussian smearing of 0.005 Ry (68 meV), as ``janus.pw_base``'s safe-mixing restart.

Why: with fixed occupations and local-TF the 100-atom CsPbBr3/ZnS SCF gained only ≈ 0.25
decades of estimated accuracy per iteration and its total energy swung by 0.1–0.3 Ry
between iterations 9 and 14 (docs/epitaxy.md), the sign of occupations flipping between
near-degenerate states at Γ. A Gaussian this narrow leaves the density of a gapped model
unchanged: with the Fermi level mid-gap, a band edge keeps or loses erfc(Eg/2σ)/2 of an
electron, below 1e-6 for any gap Eg above 0.46 eV (σ = 0.068 eV)
and lets a model with no gap converge and show it (its Fermi level is then printed).
The NSCF keeps its own tetrahedra, so the band edges are read as before.
"""


def _drop_if_equal(section: dict[str, Any], defaults: Mapping[str, Any]) -> None:
    """Remove from ``section`` each key whose value is the one ``defaults`` would give."""
    for key, value in defaults.items():
        if section.get(key) == value:
            del section[key]


def scf_for_size(parameters: Mapping[str, Any], atoms: int) -> dict[str, Any]:
    """A copy of pw.x ``parameters`` with the SCF mixing and occupations for a cell of
    ``atoms`` atoms: from :data:`LOCAL_TF_FROM_ATOMS` on, ``mixing_mode='local-TF'`` and
    :data:`LARGE_CELL_OCCUPATIONS` (unless the user gave another mode or smearing), below
    it plain mixing and fixed occupations (a larger model's template values are dropped;
    other values a user gave are kept).
    """
    fitted = copy.deepcopy(dict(parameters))
    electrons = fitted.setdefault("ELECTRONS", {})
    system = fitted.setdefault("SYSTEM", {})
    if atoms >= LOCAL_TF_FROM_ATOMS:
        electrons.setdefault("mixing_mode", "local-TF")
        if system.get("occupations", "fixed") == "fixed":
            system.update(LARGE_CELL_OCCUPATIONS)
    else:
        _drop_if_equal(electrons, {"mixing_mode": "local-TF"})
        if all(system.get(key) == value for key, value in LARGE_CELL_OCCUPATIONS.items()):
            for key in LARGE_CELL_OCCUPATIONS:
                del system[key]
            system["occupations"] = "fixed"
    for namelist in ("ELECTRONS", "SYSTEM"):
        if not fitted[namelist]:
            del fitted[namelist]
    return fitted


def with_dipole_correction(pw: Any, structure: StructureData) -> Any:
    """Give the ``pw`` namespace (builder namespace or dict with ``parameters``) of a run on
    ``structure`` the dipole correction the interface relax uses, when the cell is a slab in
    vacuum (``dipole_correction_parameters``; a superlattice gets nothing). Returns ``pw``.

    Why every run on the slab: without it the periodic images of an asymmetric slab put a
    spurious field across the vacuum, which tilts the potential and shifts the eigenvalues
    each run sees, so the SCF/NSCF band edges and the MD forces of an uncorrected run
    belong to another system than the relaxed one. pp.x's ``plot_num`` 11 adds the same
    sawtooth when the run had ``tefield`` and ``dipfield`` (QE ``PP/src/punch_plot.f90``).
    """
    from aiida.orm import Dict
    from aiida_quantumespresso.workflows.protocols.utils import recursive_merge

    from heterostructures.structure.slab_geometry import dipole_correction_parameters

    correction = dipole_correction_parameters(structure.get_ase())
    if correction:
        pw["parameters"] = Dict(recursive_merge(pw["parameters"].get_dict(), correction))
    return pw


ON_UNHANDLED_FAILURE = "restart_once"


def restart_once_on_unhandled_failure(builder: Any) -> Any:
    """Make a PwBaseWorkChain builder restart once when a failure has no handler.

    A pw.x killed mid-run (node failure, OOM killer, preemption) leaves a truncated
    output that no aiida-quantumespresso handler claims, so by default the whole study
    would fail. aiida-core's ``on_unhandled_failure='restart_once'`` runs the same
    inputs once more and only then gives up: one wasted run for a deterministic error,
    against a lost study for a transient one. Returns ``builder`` (a builder or a dict).
    """
    from aiida.orm import Str

    builder["on_unhandled_failure"] = Str(ON_UNHANDLED_FAILURE)
    return builder


def use_gamma_tricks(inputs: Any) -> Any:
    """PwBaseWorkChain inputs (a builder namespace or a dict) → a Γ-only run with pw.x's
    Gamma tricks: a 1×1×1 unshifted mesh, ``gamma_only`` in the settings, no
    ``kpoints_distance``.

    Why: at Γ the wavefunctions can be taken real (``K_POINTS gamma``), which halves
    pw.x's memory and roughly halves its time; the MD, the NA snapshots and the
    superlattice relaxation of the small interface models only ever sample Γ. Other
    settings are kept. Returns ``inputs``.
    """
    from aiida.orm import Dict, KpointsData

    inputs.pop("kpoints_distance", None)
    kpoints = KpointsData()
    kpoints.set_kpoints_mesh([1, 1, 1])
    inputs["kpoints"] = kpoints
    settings = inputs["pw"].get("settings")
    given = settings.get_dict() if settings is not None else {}
    inputs["pw"]["settings"] = Dict({**given, "gamma_only": True})
    return inputs


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
    from aiida_quantumespresso.common.types import ElectronicType
    from aiida_quantumespresso.workflows.protocols.utils import recursive_merge
    from aiida_quantumespresso.workflows.pw.base import PwBaseWorkChain

    base = family_overrides(structure, flavour, dual, insulator)
    electronic = ElectronicType.INSULATOR if insulator else ElectronicType.METAL
    builder = PwBaseWorkChain.get_builder_from_protocol(
        code,
        structure,
        protocol=protocol,
        overrides=recursive_merge(base, with_ecutrho(overrides or {}, dual)),
        electronic_type=electronic,
    )
    return restart_once_on_unhandled_failure(builder)
