"""pw.x (QE 6.7) MD trajectories: parse stdout, merge restart chunks, derive velocities.

What pw.x 6.7 does, measured on a 2-atom CdS cell (tests/fixtures/qe67_md_cds_nve):

* It ignores an ATOMIC_VELOCITIES card and prints no velocities. Initial velocities come
  only from the thermostat (``ion_temperature`` other than 'not_controlled', at ``tempw``).
* Continuing needs ``restart_mode='restart'`` with ``prefix.md`` and ``prefix.save`` in the
  outdir; the input positions are then ignored and ``nstep`` counts the *new* steps. A
  5 + 5 split reproduces an uninterrupted 10-step run to 2e-7 Å. A job stopped by
  ``max_seconds`` resumes the same way.
* Output misalignment: the block "Entering Dynamics: iteration = i" follows the SCF at the
  positions of step i−1 (energy, forces, and the printed Ekin/temperature belong to step
  i−1) but prints the *new* positions of step i. Frames here are re-aligned by step index.

Velocities are derived from positions by central differences, v_k = (R_{k+1} − R_{k−1})/2dt,
which is exactly the velocity that QE's Verlet uses for its printed kinetic energy. At the
first frame, the Verlet-consistent one-sided form v_0 = (R_1 − R_0)/dt − a_0 dt/2 (with
a_0 = F_0/m) is used; the last frame uses the positions printed after it. Displacements use
the minimum image so wrapped coordinates are safe.

Units: Å, fs, eV, K, amu.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from heterostructures.units import (
    AMU_ANGSTROM2_PER_FS2,
    BOHR_ANGSTROM,
    BOLTZMANN_EV_PER_K,
    RY_PER_BOHR_IN_EV_PER_ANGSTROM,
    RYDBERG_EV,
)

POSITION_TOLERANCE_ANGSTROM = 1.0e-3

_FLOAT = r"[-+]?\d*\.\d+(?:[eEdD][-+]?\d+)?"
_ENERGY = re.compile(rf"^!\s+total energy\s+=\s+({_FLOAT}) Ry", re.MULTILINE)
_FORCE = re.compile(rf"atom\s+\d+\s+type\s+\d+\s+force =\s+({_FLOAT})\s+({_FLOAT})\s+({_FLOAT})")
_ITERATION = re.compile(r"Entering Dynamics:\s+iteration =\s+(\d+)")
_KINETIC = re.compile(rf"kinetic energy \(Ekin\) =\s+({_FLOAT}) Ry")
_TEMPERATURE = re.compile(rf"temperature\s+=\s+({_FLOAT}) K")
_POSITIONS_HEADER = re.compile(r"^ATOMIC_POSITIONS \((\w+)\)", re.MULTILINE)


class TrajectoryError(ValueError):
    """MD output that cannot be turned into one continuous trajectory."""


@dataclass(frozen=True, eq=False)
class MdChunk:
    """Steps of one pw.x MD run, aligned by global step index.

    ``steps[j]`` is the step whose SCF gave ``potential_energy_ev[j]`` etc.;
    ``next_positions_ang[j]`` are the positions pw.x printed for step ``steps[j] + 1``.
    """

    steps: np.ndarray
    potential_energy_ev: np.ndarray
    kinetic_energy_ev: np.ndarray
    temperature_k: np.ndarray
    forces_ev_per_ang: np.ndarray
    next_positions_ang: np.ndarray


def _parse_positions(block: str, n_atoms: int, cell_ang: np.ndarray) -> np.ndarray:
    header = _POSITIONS_HEADER.search(block)
    if header is None:
        raise TrajectoryError("an MD step printed no ATOMIC_POSITIONS block.")
    lines = block[header.end() :].strip().splitlines()[:n_atoms]
    values = np.array([[float(x) for x in line.split()[1:4]] for line in lines])
    unit = header.group(1)
    if unit == "angstrom":
        return values
    if unit == "bohr":
        return values * BOHR_ANGSTROM
    if unit == "crystal":
        return values @ cell_ang
    raise TrajectoryError(f"ATOMIC_POSITIONS ({unit}) is not supported: use angstrom or crystal.")


def parse_pw_md_stdout(text: str, n_atoms: int, cell_ang: np.ndarray) -> MdChunk:
    """Parse a pw.x 6.7 ``calculation='md'`` stdout into step-aligned arrays.

    Works on outputs cut short (walltime, ``max_seconds``, a killed job): an SCF without
    its dynamics block is dropped, since its positions are already the last printed ones.
    """
    scf_starts = [match.start() for match in _ENERGY.finditer(text)]
    if not scf_starts:
        stopped = "convergence NOT achieved" in text
        raise TrajectoryError(
            "no converged SCF in this pw.x MD output"
            + (
                " (its first SCF stopped unconverged: check occupations/mixing, e.g. fixed "
                "occupations for an insulator, local-TF mixing for long cells)"
                if stopped
                else ""
            )
        )
    rows: list[tuple[int, float, float, float, np.ndarray, np.ndarray]] = []
    for start, end in zip(scf_starts, [*scf_starts[1:], len(text)], strict=True):
        block = text[start:end]
        iteration = _ITERATION.search(block)
        kinetic = _KINETIC.search(block)
        temperature = _TEMPERATURE.search(block)
        if iteration is None or kinetic is None or temperature is None:
            continue
        energy = _ENERGY.search(block)
        # verbosity='high' adds per-term force blocks after the total: keep the first N.
        forces = np.array([[float(x) for x in m.groups()] for m in _FORCE.finditer(block)])
        if energy is None or len(forces) < n_atoms:
            raise TrajectoryError(f"MD step {iteration.group(1)}: missing energy or forces.")
        rows.append(
            (
                int(iteration.group(1)) - 1,
                float(energy.group(1)) * RYDBERG_EV,
                float(kinetic.group(1)) * RYDBERG_EV,
                float(temperature.group(1)),
                forces[:n_atoms] * RY_PER_BOHR_IN_EV_PER_ANGSTROM,
                _parse_positions(block[iteration.end() :], n_atoms, cell_ang),
            )
        )
    if not rows:
        raise TrajectoryError("no complete MD step in this pw.x output.")
    columns = list(zip(*rows, strict=True))
    return MdChunk(
        steps=np.array(columns[0], dtype=int),
        potential_energy_ev=np.array(columns[1]),
        kinetic_energy_ev=np.array(columns[2]),
        temperature_k=np.array(columns[3]),
        forces_ev_per_ang=np.array(columns[4]),
        next_positions_ang=np.array(columns[5]),
    )


@dataclass(frozen=True, eq=False)
class Trajectory:
    """One continuous MD trajectory, every array indexed by frame (Å, fs, eV, K)."""

    steps: np.ndarray
    times_fs: np.ndarray
    positions_ang: np.ndarray
    velocities_ang_per_fs: np.ndarray
    forces_ev_per_ang: np.ndarray
    potential_energy_ev: np.ndarray
    kinetic_energy_ev: np.ndarray
    temperature_k: np.ndarray
    qe_kinetic_energy_ev: np.ndarray
    cell_ang: np.ndarray
    masses_amu: np.ndarray

    @property
    def total_energy_ev(self) -> np.ndarray:
        """Conserved quantity of NVE: potential + kinetic (eV)."""
        return np.asarray(self.potential_energy_ev + self.kinetic_energy_ev)


def minimum_image(displacements_ang: np.ndarray, cell_ang: np.ndarray) -> np.ndarray:
    """Map displacements (…, 3) in Å to their shortest periodic image."""
    fractional = displacements_ang @ np.linalg.inv(cell_ang)
    return np.asarray((fractional - np.round(fractional)) @ cell_ang)


def velocities_from_positions(
    positions_ang: np.ndarray,
    timestep_fs: float,
    cell_ang: np.ndarray,
    first_accelerations: np.ndarray | None = None,
) -> np.ndarray:
    """Velocities (Å/fs) at frames 0…F−2 of F positions by central differences, O(dt²).

    Frame 0 uses (R_1 − R_0)/dt − a_0 dt/2 when its accelerations (Å/fs²) are given
    (exact for velocity Verlet, O(dt²)), else the O(dt) forward difference.
    """
    if len(positions_ang) < 2:
        raise TrajectoryError("velocities need at least two frames of positions.")
    steps = minimum_image(np.diff(positions_ang, axis=0), cell_ang)
    velocities = np.empty_like(positions_ang[:-1])
    velocities[1:] = (steps[1:] + steps[:-1]) / (2.0 * timestep_fs)
    velocities[0] = steps[0] / timestep_fs
    if first_accelerations is not None:
        velocities[0] -= 0.5 * first_accelerations * timestep_fs
    return velocities


def kinetic_energy_ev(masses_amu: np.ndarray, velocities_ang_per_fs: np.ndarray) -> np.ndarray:
    """Kinetic energy ½ Σ m v² (eV) per frame for velocities (…, N, 3) in Å/fs."""
    m_v2 = np.einsum("i,...ij,...ij->...", masses_amu, velocities_ang_per_fs, velocities_ang_per_fs)
    return np.asarray(0.5 * m_v2 * AMU_ANGSTROM2_PER_FS2)


def degrees_of_freedom(n_atoms: int, n_fixed_coordinates: int = 0) -> int:
    """Degrees of freedom as pw.x counts them for the temperature it prints.

    QE 6.7 ``PW/src/dynamics_module.f90`` (``verlet``): ``ndof = 3*nat - 3 - nconstr``
    when every coordinate moves (the centre of mass is fixed), but
    ``ndof = 3*nat - count(if_pos == 0) - nconstr`` as soon as one coordinate is fixed
    (the fixed atoms already pin the frame, so no centre-of-mass term is removed).
    Checked on tests/fixtures/qe67_md_cds_fixed (if_pos 0 0 1: pw.x prints T for 4 dof).
    """
    centre_of_mass = 3 if n_fixed_coordinates == 0 else 0
    dof = 3 * n_atoms - centre_of_mass - n_fixed_coordinates
    if dof < 1:
        raise TrajectoryError(f"{n_atoms} atoms with {n_fixed_coordinates} fixed have no dof.")
    return dof


def instantaneous_temperature_k(kinetic_ev: np.ndarray, dof: int) -> np.ndarray:
    """T = 2 E_kin / (dof k_B) in K."""
    return np.asarray(2.0 * kinetic_ev / (dof * BOLTZMANN_EV_PER_K))


def _collect_by_step(
    initial_positions_ang: np.ndarray, chunks: Sequence[MdChunk], cell_ang: np.ndarray
) -> tuple[dict[int, np.ndarray], dict[int, tuple[MdChunk, int]]]:
    positions = {0: np.asarray(initial_positions_ang, dtype=float)}
    scf: dict[int, tuple[MdChunk, int]] = {}
    for chunk in chunks:
        for row, step in enumerate(chunk.steps):
            new = chunk.next_positions_ang[row]
            old = positions.setdefault(int(step) + 1, new)
            mismatch = np.abs(minimum_image(new - old, cell_ang)).max()
            if mismatch > POSITION_TOLERANCE_ANGSTROM:
                raise TrajectoryError(
                    f"step {step + 1} appears twice with positions {mismatch:.2e} Å apart: "
                    "the chunks are not one continuous run (check each chunk's parent folder)."
                )
            scf.setdefault(int(step), (chunk, row))
    return positions, scf


def merge_chunks(
    initial_positions_ang: np.ndarray,
    chunks: Sequence[MdChunk],
    timestep_fs: float,
    cell_ang: np.ndarray,
    masses_amu: np.ndarray,
    n_fixed_coordinates: int = 0,
) -> Trajectory:
    """Join restart chunks into one trajectory: each step once, none missing.

    A step computed twice (a resumed job repeating the last step) is kept once, after
    checking both copies agree within 1e-3 Å; a gap in the step indices is an error.
    """
    positions, scf = _collect_by_step(initial_positions_ang, chunks, cell_ang)
    steps = np.array(sorted(scf))
    if steps[0] != 0 or np.any(np.diff(steps) != 1):
        missing = sorted(set(range(int(steps[-1]) + 1)) - set(scf))
        raise TrajectoryError(f"MD steps {missing} are missing: a chunk was lost or not parsed.")
    frame_positions = np.array([positions[int(s)] for s in [*steps, steps[-1] + 1]])
    sources = [scf[int(step)] for step in steps]
    forces = np.array([chunk.forces_ev_per_ang[row] for chunk, row in sources])
    masses = np.asarray(masses_amu, dtype=float)
    accelerations = forces[0] / masses[:, None] / AMU_ANGSTROM2_PER_FS2
    velocities = velocities_from_positions(frame_positions, timestep_fs, cell_ang, accelerations)
    kinetic = kinetic_energy_ev(masses, velocities)
    dof = degrees_of_freedom(len(masses), n_fixed_coordinates)
    return Trajectory(
        steps=steps,
        times_fs=steps * timestep_fs,
        positions_ang=frame_positions[:-1],
        velocities_ang_per_fs=velocities,
        forces_ev_per_ang=forces,
        potential_energy_ev=np.array([chunk.potential_energy_ev[row] for chunk, row in sources]),
        kinetic_energy_ev=kinetic,
        temperature_k=instantaneous_temperature_k(kinetic, dof),
        qe_kinetic_energy_ev=np.array([chunk.kinetic_energy_ev[row] for chunk, row in sources]),
        cell_ang=np.asarray(cell_ang, dtype=float),
        masses_amu=masses,
    )
