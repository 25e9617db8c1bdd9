"""The paper's own epitaxial relation as a buildable model, with a cost estimate (Å, %, s).

Qiu et al. (Adv. Sci. 2023, Sect. 2.1) see CdS (−202) planes on CsPbBr3 (220) planes with
the zone axes [001]CsPbBr3 ∥ [111]CdS, both in the interface plane. :func:`paper_spec`
turns that into an :class:`~heterostructures.structure.interface.InterfaceSpec`: perovskite (110)
with [001] and [1−10] in plane, zinc-blende (−101) with [111] and [−12−1]; each axis gets
the smallest repeat pair whose per-side strain (after the spec's split) meets the bound
*and* whose zinc-blende vector is integer in the conventional cell (½[−12−1] is an fcc
translation but not an integer [uvw], so its repeat count must be even: the 7:6 cell of
:func:`heterostructures.structure.epitaxy.paper_relation` becomes 8:7 here). 3 perovskite + 2
chalcogenide planes are one stacking period of each side. Nothing uses this by default.

The cost estimate scales measured pw.x CPU times of this project's NC models (30/120 Ry,
Γ, 2 MPI ranks) with the atom count: :func:`seconds_per_iteration` is the piecewise power
law through :data:`MEASURED_SCF`.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np
from ase import Atoms

from heterostructures.structure.coincidence import bulk_pair
from heterostructures.structure.epitaxy import lattice_period
from heterostructures.structure.errors import NoEpitaxialMatchError
from heterostructures.structure.facet_matching import Vector3

if TYPE_CHECKING:
    from heterostructures.structure.interface import InterfaceSpec

PAPER_AXES: tuple[tuple[Vector3, Vector3], tuple[Vector3, Vector3]] = (
    ((0, 0, 1), (1, 1, 1)),
    ((1, -1, 0), (-1, 2, -1)),
)
"""(perovskite, chalcogenide) direction pairs of the paper's relation, in the interface plane."""
PAPER_FACETS: tuple[Vector3, Vector3] = ((1, 1, 0), (-1, 0, 1))
"""Perovskite (220) → (110) and CdS (−202) → (−101), the planes that meet."""


def _axis_repeats(
    bulks: tuple[Atoms, Atoms], directions: tuple[Vector3, Vector3], bound: float, share: float
) -> tuple[Vector3, Vector3]:
    """Smallest integer supercell vectors along one axis pair meeting the per-side bound (%)."""
    periods = [lattice_period(b, d) for b, d in zip(bulks, directions, strict=True)]
    lengths = [
        float(np.linalg.norm(np.asarray(d) @ b.cell[:]))
        for b, d in zip(bulks, directions, strict=True)
    ]
    options = []
    for n_p, n_c in itertools.product(range(1, 41), repeat=2):
        vectors = [
            n * p / length * np.asarray(d)
            for n, p, length, d in zip((n_p, n_c), periods, lengths, directions, strict=True)
        ]
        if not all(np.allclose(v, np.rint(v), atol=1e-6) for v in vectors):
            continue
        mismatch = 100.0 * abs(n_c * periods[1] - n_p * periods[0]) / (n_p * periods[0])
        if mismatch * share <= bound:
            options.append((max(n_p * periods[0], n_c * periods[1]), vectors))
    if not options:
        raise NoEpitaxialMatchError(f"no repeat pair up to 40 along {directions} within {bound} %")
    _, vectors = min(options, key=lambda option: option[0])
    first, second = (tuple(int(v) for v in np.rint(vector)) for vector in vectors)
    return first, second  # type: ignore[return-value]


def paper_spec(base: InterfaceSpec) -> InterfaceSpec:
    """``base`` with the paper's relation: facets, supercell directions, 3 + 2 planes."""
    bulks = bulk_pair(base)
    share = max(base.strain_weight, 1.0 - base.strain_weight)
    axes = [_axis_repeats(bulks, pair, base.max_strain_percent, share) for pair in PAPER_AXES]
    return replace(
        base,
        perovskite_hkl=PAPER_FACETS[0],
        chalcogenide_hkl=PAPER_FACETS[1],
        perovskite_directions=(axes[0][0], axes[1][0]),
        chalcogenide_directions=(axes[0][1], axes[1][1]),
        perovskite_planes=3,
        chalcogenide_planes=2,
        perovskite_mode="compensated",
        chalcogenide_mode="stoichiometric",
        registry_grid=(2, 2),
        coincidence="off",
    )


MEASURED_SCF = ((13, 23, 18.0), (26, 29, 84.0), (100, 34, 8040.0))
"""(atoms, SCF iterations, pw.x CPU s of rank 0) of measured NC 30/120 Ry Γ SCFs, 2 ranks:
the CsPbBr3/CdS periodic superlattices of DESIGN.md ("Measured cost", 13 and 26 atoms,
local-TF β 0.3) and the 100-atom CsPbI3/CdS coincidence cell recorded on 2026-12-06
(``pw.x/04d9657bf31a2f1b``: 346 bands, 676 electrons, local-TF β 0.4 with 0.005 Ry
Gaussian smearing; "2h14m CPU 2h45m WALL"; docs/epitaxy.md). The 100-atom CsPbBr3/ZnS
cell of 2026-12-05 (8489 s wall in 29 iterations, 293 s per iteration against 291 s
wall here) agrees within 1 %."""
RELAX_IONIC_STEPS = 10
"""Ionic steps of a relaxation as DESIGN.md plans them ("relax ~10 steps")."""
MD_ITERATIONS_PER_STEP = 6
"""SCF iterations per MD step with wavefunction extrapolation (DESIGN.md, 26 atoms)."""


def _segment(n_atoms: float) -> tuple[tuple[int, int, float], tuple[int, int, float]]:
    """The two measured points whose power law covers ``n_atoms`` (the nearest segment
    outside the measured range)."""
    points = sorted(MEASURED_SCF)
    for low, high in itertools.pairwise(points):
        if n_atoms <= high[0]:
            return low, high
    return points[-2], points[-1]


def _exponent(low: tuple[int, int, float], high: tuple[int, int, float]) -> float:
    """p of t_iteration ∝ N^p through two measured (atoms, iterations, s) points."""
    (n1, i1, t1), (n2, i2, t2) = low, high
    return float(np.log((t2 / i2) / (t1 / i1)) / np.log(n2 / n1))


def local_exponent(n_atoms: float) -> float:
    """p of t_iteration ∝ N^p on the measured segment covering ``n_atoms``."""
    return _exponent(*_segment(n_atoms))


def seconds_per_iteration(n_atoms: float) -> float:
    """pw.x CPU s per SCF iteration (2 ranks, NC 30/120 Ry, Γ) for ``n_atoms`` atoms.

    Log-log interpolation between the measured points of :data:`MEASURED_SCF`; beyond them
    the nearest segment's exponent carries on (above 100 atoms p ≈ 3.3, the 26 → 100
    segment: steeper than the two small models' 1.89, and steeper than the N³ of dense
    diagonalisation, so it is the cautious choice for planning).
    """
    low, high = _segment(n_atoms)
    n1, i1, t1 = low
    return t1 / i1 * (n_atoms / n1) ** _exponent(low, high)


def scf_iterations(n_atoms: float) -> int:
    """SCF iterations to take for ``n_atoms``: those of the nearest measured model
    (in log N)."""
    return min(MEASURED_SCF, key=lambda point: abs(np.log(n_atoms / point[0])))[1]


@dataclass(frozen=True)
class CostEstimate:
    """pw.x CPU time (s, 2 ranks, NC 30/120 Ry, Γ) extrapolated to ``n_atoms``.

    ``exponent`` is p of t_iteration ∝ N^p on the measured segment used
    (:func:`seconds_per_iteration`); the cubic figures scale the largest measured SCF by
    N³, the asymptotic cost of dense diagonalisation, as a second view.
    """

    n_atoms: int
    exponent: float
    seconds_per_iteration: float
    scf_seconds: float
    relax_seconds: float
    md_step_seconds: float
    cubic_scf_seconds: float

    def lines(self) -> list[str]:
        """Text lines: the law, its measured points and the per-step figures."""
        points = ", ".join(f"{n} atoms {t:g} s/{i} it" for n, i, t in MEASURED_SCF)
        largest = max(MEASURED_SCF)
        return [
            f"cost estimate for {self.n_atoms} atoms (pw.x CPU on 2 ranks, NC 30/120 Ry, Γ):",
            f"  law t_iteration ∝ N^{self.exponent:.2f} here, piecewise through the measured "
            f"{points} (DESIGN.md, docs/epitaxy.md)",
            f"  per SCF iteration {_duration(self.seconds_per_iteration)};"
            f" SCF ({scf_iterations(self.n_atoms)} it) {_duration(self.scf_seconds)}"
            f" (N^3 from {largest[0]} atoms instead: {_duration(self.cubic_scf_seconds)})",
            f"  relaxation ({RELAX_IONIC_STEPS} ionic steps) {_duration(self.relax_seconds)};"
            f" MD step ({MD_ITERATIONS_PER_STEP} it) {_duration(self.md_step_seconds)}",
            "  an extrapolation over this range is an order of magnitude, not a schedule",
        ]


def cost_estimate(n_atoms: int) -> CostEstimate:
    """Per-step cost of ``n_atoms`` from the measured NC SCFs (see class doc)."""
    per_iteration = seconds_per_iteration(n_atoms)
    iterations = scf_iterations(n_atoms)
    scf = per_iteration * iterations
    n_max, i_max, t_max = max(MEASURED_SCF)
    return CostEstimate(
        n_atoms,
        local_exponent(n_atoms),
        per_iteration,
        scf,
        RELAX_IONIC_STEPS * scf,
        MD_ITERATIONS_PER_STEP * per_iteration,
        t_max / i_max * (n_atoms / n_max) ** 3 * iterations,
    )


def _duration(seconds: float) -> str:
    """Seconds as s, min, h or days, whichever reads best."""
    for unit, size in (("days", 86400.0), ("h", 3600.0), ("min", 60.0)):
        if seconds >= 2 * size:
            return f"{seconds / size:.1f} {unit}"
    return f"{seconds:.0f} s"
