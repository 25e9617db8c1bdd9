"""Cost of a whole study per step, from wall times measured on this machine (core-hours).

Every estimate rests on one named measurement (:data:`MEASUREMENTS`): a step of the
``fast`` study timed on the project machine (2 cores, QE 6.7, 2 MPI ranks, the machine's
both cores busy, so core-seconds = wall seconds × 2). It is scaled to the study asked for
by three measured laws, each applied only where the study differs from the measurement:

- atoms: pw.x time per SCF iteration, piecewise ∝ N^p through the measured NC SCFs of
  13, 26 and 100 atoms (p = 1.89 up to 26 atoms, 3.27 above:
  :func:`heterostructures.structure.paper_model.seconds_per_iteration`); the SCF
  iteration count of the measured step is kept;
- work: linear in the number of MD steps, snapshot SCFs or hopping realisations;
- pseudopotentials: PAW against NC on the same 13-atom model, ×108 for an SCF
  (9 min against 5 s) and ×16.4 for the electronic step (22.7 min against 83 s).

Settings no measurement covers (denser k-points, vacuum, higher cutoffs of ``balanced``
and ``stringent``) are not scaled: such an estimate is a lower bound and says so.

Hand check (the ``fast`` CsPbBr3/CdS demo, 13 atoms, 120 MD steps, 100 snapshots): each
step reproduces its own measurement, e.g. the AIMD 5.3 s/step × 120 steps = 636 s = 10.6
min wall, × 2 cores = 0.353 core-h; the whole study 12.3 + 2.1 + 2.2 + 5.5 + 13.1 + 0.1
+ 10.6 + 26.0 + 0.1 = 72.0 min wall = 2.400 core-h (the 2026-11-26 demo's steps, the
thickness series measured later, and the NA snapshots of the 2026-12-06 demo).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from heterostructures.structure.paper_model import seconds_per_iteration

MACHINE = "project machine: 2 cores, 24 GB, Debian 12, QE 6.7, 2 MPI ranks"
"""Where every measurement below was taken (docs/measurements.md, "Cost and accuracy")."""
MACHINE_CORES = 2
"""Cores busy during each measurement: core-seconds = wall seconds × this."""


@dataclass(frozen=True)
class Measurement:
    """One measured wall time: what ran, its size and work count, and where it is written.

    ``wall_s`` is the wall time (s) on :data:`MACHINE`; ``work`` counts the units the time
    is linear in (MD steps, snapshot SCFs, models, …; 1 when it is a single run).
    """

    name: str
    wall_s: float
    atoms: int
    work: float
    pseudo: str
    source: str


MEASUREMENTS: dict[str, Measurement] = {
    "bulk": Measurement(
        "bulk references, PAW vc-relax, both side by side",
        12.3 * 60,
        0,
        1,
        "paw",
        "docs/measurements.md, demo study 2026-11-26 (quiet): 12.3 min",
    ),
    "interface": Measurement(
        "interface relaxation, NC 30/120 Ry, Γ, 12 BFGS steps",
        2.1 * 60,
        13,
        1,
        "nc",
        "docs/measurements.md, demo study 2026-11-26 (quiet): 2.1 min",
    ),
    "electronic": Measurement(
        "SCF + NSCF + projwfc + pp.x and two strained reference SCFs, NC 30/120 Ry",
        2.2 * 60,
        13,
        1,
        "nc",
        "docs/measurements.md, demo study 2026-11-26 (quiet): 2.2 min",
    ),
    "alignment_small": Measurement(
        "thickness-series model 3+2 with its two strained references, NC, unrelaxed",
        5.5 * 60,
        13,
        1,
        "nc",
        "docs/alignment-series.md, 2026-12-05 (load 5-7, upper bound): 5.5 min",
    ),
    "alignment_large": Measurement(
        "thickness-series model 5+4 with its two strained references, NC, unrelaxed",
        13.1 * 60,
        26,
        1,
        "nc",
        "docs/alignment-series.md, 2026-12-05 (load 5-7, upper bound): 13.1 min",
    ),
    "charge_densities": Measurement(
        "IS/FS densities, 2 pp.x",
        0.1 * 60,
        13,
        1,
        "nc",
        "docs/measurements.md, demo study 2026-11-26 (quiet): 0.1 min",
    ),
    "aimd": Measurement(
        "AIMD, NC 30/120 Ry, Γ, 5.3 s per step",
        120 * 5.3,
        13,
        120,
        "nc",
        "docs/measurements.md, demo study 2026-11-26 (quiet): 10.6 min for 120 steps",
    ),
    "na": Measurement(
        "NA snapshots, 100 Γ SCFs in 2 chains (NC), then the NA analysis",
        26.0 * 60 + 0.1 * 60,
        13,
        100,
        "nc",
        "docs/measurements.md, demo study 2026-12-06 (alone): 26.0 min + < 0.1 min; per "
        "snapshot and chain 31 s = pw.x 22 s + AiiDA 9 s",
    ),
}
"""The measurement each step's estimate rests on, by pipeline step name."""

PAW_OVER_NC_SCF = (9 * 60) / 5.0
"""PAW 48.9/293 Ry against NC 30/120 Ry SCF on the unrelaxed 13-atom ``fast`` model:
9 min against 5 s (docs/measurements.md, "NC 30/120 Ry vs PAW" row)."""
PAW_OVER_NC_ELECTRONIC = (22.7 * 60) / 83.0
"""PAW against NC 30 Ry band alignment of the relaxed 13-atom model: 22.7 min against 83 s
(docs/measurements.md, "band alignment of the relaxed fast model" row)."""


@dataclass(frozen=True)
class StudySize:
    """What a study would run, as the cost model needs it (atoms, counts, pseudo flavours).

    ``alignment_models`` are the atom counts of the thickness series; ``matches_fast`` is
    True when the k-points and cutoffs are the measured ``fast`` ones.
    """

    interface_atoms: int
    interface_pseudo: str
    electronic_pseudo: str
    alignment_models: tuple[int, ...]
    alignment_pseudo: str
    alignment_relaxed: bool
    md_steps: int
    md_pseudo: str
    snapshots: int
    matches_fast: bool


@dataclass(frozen=True)
class StepEstimate:
    """Estimated cost of one pipeline step (core-seconds) and what it rests on."""

    step: str
    core_seconds: float
    measurement: Measurement
    scaling: str
    lower_bound: bool

    @property
    def core_hours(self) -> float:
        """Core-hours (h × cores)."""
        return self.core_seconds / 3600.0

    def wall_seconds(self, cores: int) -> float:
        """Wall time (s) on ``cores`` cores, if the step scales ideally from the 2 measured."""
        if cores < 1:
            raise ValueError(f"cores must be at least 1, got {cores}")
        return self.core_seconds / cores


def atom_factor(measured_atoms: int, atoms: int) -> float:
    """pw.x time per SCF iteration at ``atoms`` over that at ``measured_atoms``."""
    return seconds_per_iteration(atoms) / seconds_per_iteration(measured_atoms)


def _scaled(step: str, atoms: int, work: float, paw_factor: float, pseudo: str) -> StepEstimate:
    """The measurement of ``step`` scaled to ``atoms``, ``work`` units and ``pseudo``."""
    measured = MEASUREMENTS[step]
    factor, parts = 1.0, []
    if measured.atoms and atoms != measured.atoms:
        by_atoms = atom_factor(measured.atoms, atoms)
        factor *= by_atoms
        exponent = math.log(by_atoms) / math.log(atoms / measured.atoms)
        parts.append(f"({atoms}/{measured.atoms} atoms)^{exponent:.2f}")
    if work != measured.work:
        factor *= work / measured.work
        parts.append(f"{work:g}/{measured.work:g} units")
    if pseudo != measured.pseudo:
        factor *= paw_factor
        parts.append(f"PAW/NC ×{paw_factor:.1f}")
    return StepEstimate(
        step,
        measured.wall_s * MACHINE_CORES * factor,
        measured,
        " × ".join(parts) or "as measured",
        False,
    )


def _alignment(size: StudySize) -> StepEstimate:
    """Sum over the series' models, each from the measured model nearest in atom count."""
    total = 0.0
    for atoms in size.alignment_models:
        name = "alignment_small" if atoms < 20 else "alignment_large"
        total += _scaled(name, atoms, 1, PAW_OVER_NC_ELECTRONIC, size.alignment_pseudo).core_seconds
        if size.alignment_relaxed:
            relax = _scaled("interface", atoms, 1, PAW_OVER_NC_SCF, size.alignment_pseudo)
            total += relax.core_seconds
    models = "/".join(str(atoms) for atoms in size.alignment_models)
    scaling = f"Σ over models of {models} atoms, each from the nearest measured (13 or 26 atoms)"
    if size.alignment_pseudo != "nc":
        scaling += f" × PAW/NC ×{PAW_OVER_NC_ELECTRONIC:.1f}"
    if size.alignment_relaxed:
        scaling += f", + a relaxation each ([interface], PAW/NC ×{PAW_OVER_NC_SCF:.0f})"
    return StepEstimate("alignment", total, MEASUREMENTS["alignment_large"], scaling, False)


def study_cost(size: StudySize) -> list[StepEstimate]:
    """Estimated core-seconds of each pipeline step of a study of ``size``.

    Raises ``ValueError`` for a size that cannot be a study (no atoms, negative counts).
    """
    if size.interface_atoms < 1 or size.md_steps < 0 or size.snapshots < 0:
        raise ValueError(f"not a study size: {size}")
    n = size.interface_atoms
    steps = [
        _scaled("bulk", 0, 1, 1.0, "paw"),
        _scaled("interface", n, 1, PAW_OVER_NC_SCF, size.interface_pseudo),
        _scaled("electronic", n, 1, PAW_OVER_NC_ELECTRONIC, size.electronic_pseudo),
        _alignment(size),
        _scaled("charge_densities", n, 1, 1.0, "nc"),
        _scaled("aimd", n, size.md_steps, PAW_OVER_NC_SCF, size.md_pseudo),
        _scaled("na", n, size.snapshots, 1.0, "nc"),
    ]
    if size.matches_fast:
        return steps
    return [
        StepEstimate(s.step, s.core_seconds, s.measurement, s.scaling, lower_bound=True)
        for s in steps
    ]
