"""Capped ``janus.pipeline`` overrides: every pw.x input kind of a protocol, little work.

Why (issue 24, item 6): ``balanced`` and ``stringent`` had never been accepted by a real
pw.x/projwfc.x/pp.x, so a cluster user could meet the first input error after hours in a
queue. A *capped* run takes a protocol's own inputs and caps only the amount of work, so
that every input the protocol generates is read by QE and every parser sees real output,
on this 2-core machine, each step finishing OK.

Kept, as the protocol gives them: pseudopotential flavour per step (PAW/NC) and family,
``ecutwfc`` and ``dual`` (``ecutrho``), occupations and smearing, mixing, k-*meshes*
(``kpoints_distance``; the interface's explicit mesh), the interface model's kind (demo or
production spec: vacuum width in Å, periodic or slab, fixed layers, hence the dipole
correction ``tefield``/``dipfield``/``edir``/``emaxpos``/``eopreg``/``eamp`` the interface
relaxation adds in vacuum), the NSCF's ``tetrahedra_opt`` and ``nosym``, projwfc.x
``deltae`` (eV) and pp.x ``plot_num``/``iflag``, the MD's time step (fs), thermostat and
its heating → NVE hand-over (a restart chunk), ``pot_extrapolation``/``wfc_extrapolation``,
``diago_full_acc`` and ``nbnd`` (``empty_bands``), the NA snapshots' carrier band window,
Γ tricks and batched jobs (``janus.snapshot_batch``), scheduler walltimes.

Capped (values below, all named constants):

* SCF accuracy: ``conv_thr`` = :data:`CONV_THR_PER_ATOM` × atoms (Ry), through
  aiida-quantumespresso's ``meta_parameters`` (the alignment rescales per model from
  them; the NA snapshots' per-atom value replaces their protocol's absolute one), and
  :data:`CONV_THR_RY` where a protocol's relaxation sets ``conv_thr`` itself (``fast``'s
  interface).
  Loosened rather than ``electron_maxstep`` cut: an unconverged SCF with
  ``scf_must_converge=False`` ends ``PwBaseWorkChain`` with exit 710, which the janus
  steps treat as a failure.
* Relaxations: ``forc_conv_thr`` :data:`FORC_CONV_THR` (Ry/Bohr), ``etot_conv_thr``
  :data:`ETOT_CONV_THR_RY` (Ry), ``press_conv_thr`` :data:`PRESS_CONV_THR`
  (kbar): BFGS is converged after the first SCF and its forces (and, for ``vc-relax``,
  stress); ``nstep`` is left alone (reaching it is pw.x's error, exit 500 here).
* Model size: the interface and the AIMD/NA model has :data:`CAPPED_PLANES` (3 perovskite
  + 2 CdS planes, 1 × 1 in-plane cell: 13 atoms), the alignment series the two smallest
  periodic models with two or more planes per domain, :data:`CAPPED_THICKNESSES` (13 and
  17 atoms), one at a time.
* k-point density: ``kpoints_distance`` at least :data:`KPOINTS_DISTANCE_FLOOR` (1/Å, the
  ``fast`` values): still meshes, tetrahedra and all, with fewer points.
* MD: :data:`EQUILIBRATION_STEPS` heating steps, then ``MIN_SAMPLES`` (8) NVE steps, the
  fewest ``janus.na_analysis`` accepts for a gap spectrum; the NA snapshots are the first
  8 NVE frames (not two: a two-frame NA Hamiltonian fails ``janus.na_analysis``'s length
  check, exit 202), one chain so the second frame restarts from the first.
* NA analysis (Python only): :data:`NA_DYNAMICS_CAPS`; a broken IS/FS character is flagged,
  not refused.

Model per protocol: all three run the 13-atom model. Measured on this 2-core machine
(DESIGN.md/issue 24): NC 30/120 Ry Γ SCF 18 s on 13 atoms and 84 s on 26; a PAW 13-atom
SCF 9 min at 48.9/293 Ry. ``balanced``'s own 26-atom PAW slab (2 × 2 × 1 k) and the
26–52-atom PAW alignment models would, by the ≈ 4.7× per doubling of the NC numbers, be
hours per capped SCF; ``stringent``'s 104-atom PAW slab days (estimates from those
measured numbers, not measured themselves).
"""

from __future__ import annotations

import copy
from typing import Any

from aiida_quantumespresso.workflows.protocols.utils import recursive_merge

CONV_THR_PER_ATOM = 1.0e-6
"""Capped SCF accuracy (Ry per atom): 1.3e-5 Ry on the 13-atom model."""
CONV_THR_RY = 1.0e-5
"""Capped ``conv_thr`` (Ry) where a protocol sets an absolute one."""
ETOT_CONV_THR_PER_ATOM = 1.0
"""Capped ``etot_conv_thr`` of aiida-quantumespresso's ``meta_parameters`` (Ry per atom)."""
ETOT_CONV_THR_RY = 10.0
"""Capped BFGS energy criterion (Ry), set in every relaxation's parameters."""
FORC_CONV_THR = 10.0
"""Capped BFGS force criterion (Ry/Bohr): far above any force of a built model."""
PRESS_CONV_THR = 1.0e5
"""Capped ``vc-relax`` pressure criterion (kbar)."""
KPOINTS_DISTANCE_FLOOR = {"scf": 0.5, "nscf": 0.35, "bulk": 0.5}
"""Smallest k-point spacing (1/Å) of a capped run: ``fast``'s spacings."""
CAPPED_PLANES = {"perovskite_planes": 3, "chalcogenide_planes": 2, "supercell": [1, 1]}
"""Interface model of a capped run: 13 atoms (CsPbBr3/CdS), the protocol's vacuum kept."""
CAPPED_THICKNESSES = [[3, 2], [3, 3]]
"""Alignment series of a capped run: periodic 13- and 17-atom models. Not [3, 1] (9 atoms):
its one-plane CdS domain has no stacking period, which the first capped ``balanced`` run
(2026-12-06) met after the model's whole electronic step (``alignment.plan_models`` now
refuses it up front)."""
EQUILIBRATION_STEPS = 2
"""Heating steps of the capped MD (the thermostat's chunk, then an NVE restart chunk)."""
NA_DYNAMICS_CAPS = {
    "n_initial_times": 2,
    "n_realisations": 100,
    "n_bootstrap": 20,
    "simulation_time_fs": 20.0,
}
"""Surface-hopping work of a capped run (100 realisations: janus.na_analysis's minimum)."""

PROTOCOLS = ("fast", "balanced", "stringent")


def _thresholds() -> dict[str, Any]:
    """aiida-quantumespresso ``meta_parameters`` of a capped ``PwBaseWorkChain``."""
    return {
        "meta_parameters": {
            "conv_thr_per_atom": CONV_THR_PER_ATOM,
            "etot_conv_thr_per_atom": ETOT_CONV_THR_PER_ATOM,
        }
    }


def _relax(cell: bool = False) -> dict[str, Any]:
    """A capped relaxation's ``PwBaseWorkChain`` overrides: BFGS stops after one SCF."""
    control = {"forc_conv_thr": FORC_CONV_THR, "etot_conv_thr": ETOT_CONV_THR_RY}
    parameters: dict[str, Any] = {"CONTROL": control}
    if cell:
        parameters["CELL"] = {"press_conv_thr": PRESS_CONV_THR}
    return _thresholds() | {"pw": {"parameters": parameters}}


def _electronic(protocol: str, given: dict[str, Any]) -> dict[str, Any]:
    """Capped overrides of a ``janus.electronic`` step whose own overrides are ``given``."""
    from workflows.workchains.electronic import ElectronicWorkChain

    inputs = ElectronicWorkChain.get_protocol_inputs(protocol, copy.deepcopy(given))
    return {
        step: _thresholds()
        | {"kpoints_distance": max(inputs[step]["kpoints_distance"], KPOINTS_DISTANCE_FLOOR[step])}
        for step in ("scf", "nscf")
    }


def _absolute_conv_thr(given: dict[str, Any], *path: str) -> dict[str, Any]:
    """``{path: {pw: {parameters: {ELECTRONS: {conv_thr}}}}}`` where ``given`` (the
    protocol's own inputs there) sets ``conv_thr`` itself; else nothing."""
    for key in (*path, "pw", "parameters", "ELECTRONS"):
        given = given.get(key, {})
    if "conv_thr" not in given:
        return {}
    capped: dict[str, Any] = {"pw": {"parameters": {"ELECTRONS": {"conv_thr": CONV_THR_RY}}}}
    for key in reversed(path):
        capped = {key: capped}
    return capped


def _structure_steps(protocol: str, steps: dict[str, Any]) -> dict[str, Any]:
    """Capped bulk references, interface, its electronic structure and alignment series."""
    from workflows.workchains.alignment import AlignmentSeriesWorkChain
    from workflows.workchains.bulk_reference import BulkReferenceWorkChain

    capped: dict[str, Any] = {}
    for side in ("perovskite", "chalcogenide"):
        bulk = BulkReferenceWorkChain.get_protocol_inputs(
            protocol, copy.deepcopy(steps[f"{side}_bulk"])
        )
        distance = max(
            bulk["relax"]["base_relax"]["kpoints_distance"], KPOINTS_DISTANCE_FLOOR["bulk"]
        )
        base = _relax(cell=True) | {"kpoints_distance": distance}
        capped[f"{side}_bulk"] = {"relax": {"base_relax": base}}
    capped["interface"] = {
        "interface": dict(CAPPED_PLANES),
        "relax": _interface_relax(protocol, steps["interface"]),
    }
    capped["electronic"] = _electronic(protocol, steps["electronic"])
    alignment = AlignmentSeriesWorkChain.get_protocol_inputs(
        protocol, copy.deepcopy(steps["alignment"])
    )
    capped["alignment"] = {
        "thicknesses": CAPPED_THICKNESSES,
        "max_concurrent_models": 1,
        "model": {"relax": _interface_relax(protocol, alignment["model"])},
        "electronic": _electronic(protocol, alignment["electronic"]),
    }
    return capped


def _interface_relax(protocol: str, given: dict[str, Any]) -> dict[str, Any]:
    """Capped ``relax`` of a ``janus.interface`` whose own overrides are ``given``."""
    from workflows.workchains.interface import InterfaceWorkChain

    inputs = InterfaceWorkChain.get_protocol_inputs(protocol, copy.deepcopy(given))
    return recursive_merge(_relax(), _absolute_conv_thr(inputs, "relax").get("relax", {}))


def _dynamics_steps(protocol: str, steps: dict[str, Any]) -> dict[str, Any]:
    """Capped AIMD, NA snapshots and NA analysis (times in fs)."""
    from heterostructures.dynamics.spectra import MIN_SAMPLES
    from workflows.workchains.aimd import AimdWorkChain

    aimd = AimdWorkChain.get_protocol_inputs(protocol, copy.deepcopy(steps["aimd"]))
    dt = float(aimd["timestep_fs"])
    return {
        "aimd": {
            "equilibration_time_fs": EQUILIBRATION_STEPS * dt,
            "production_time_fs": MIN_SAMPLES * dt,
            "snapshot_stride": 1,
            "snapshot_window_fs": (MIN_SAMPLES - 1) * dt,
            "md": _thresholds(),
        },
        "na_snapshots": {"n_chains": 1, "scf": _thresholds()},
        "na_analysis": {
            "spectra": {"n_bootstrap": NA_DYNAMICS_CAPS["n_bootstrap"]},
            "dynamics": dict(NA_DYNAMICS_CAPS),
            "populations": {"on_broken_character": "flag"},
        },
    }


def capped_overrides(protocol: str, overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """``janus.pipeline`` step overrides of a capped run of ``protocol`` (module docstring),
    with the caller's ``overrides`` (e.g. the CLI's ``--relation``) on top.

    The result is what ``PipelineWorkChain.get_builder_from_protocol(..., protocol,
    overrides=...)`` takes; the protocol's own per-step overrides stay underneath.
    """
    from workflows.protocols import UnknownProtocolError
    from workflows.workchains.pipeline import PipelineWorkChain

    if protocol not in PROTOCOLS:
        raise UnknownProtocolError(f"no capped run of protocol {protocol!r}: choose {PROTOCOLS}")
    steps = recursive_merge(
        PipelineWorkChain.get_protocol_inputs(protocol)["steps"], copy.deepcopy(overrides or {})
    )
    capped = _structure_steps(protocol, steps) | _dynamics_steps(protocol, steps)
    return recursive_merge(capped, copy.deepcopy(overrides or {}))
