"""Kohn–Sham eigenvalues of every MD step, read from a pw.x (QE 6.7) MD stdout.

When pw.x prints them (QE 6.7 source): ``electrons_scf`` calls ``print_ks_energies``
whenever the SCF has converged (``conv_elec``), in MD as in a plain SCF; the eigenvalues
are printed for every k-point unless there are ≥ 100 k-points and ``verbosity`` is low.
``verbosity='high'`` (what ``janus.aimd`` runs) adds an "occupation numbers" block after
each k-point's energies, which is skipped here. Empty states appear only if ``nbnd`` asks
for them (an insulator with fixed occupations gets nelec/2 bands by default), and they are
converged as tightly as the occupied ones only with ``diago_full_acc = .true.``.

Step alignment follows :mod:`heterostructures.io.pw_md_output`: the SCF printed before
"Entering Dynamics: iteration = i" belongs to step i − 1 (0-based). Energies are printed
with 4 decimals (0.1 meV). Units: eV, fs.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

_END_OF_SCF = re.compile(r"End of self-consistent calculation")
_KPOINT = re.compile(r"k =\s*[-\d.]+\s*[-\d.]+\s*[-\d.]+\s*\(\s*\d+ PWs\)\s+bands \(ev\):")
_ITERATION = re.compile(r"Entering Dynamics:\s+iteration =\s+(\d+)")
_ENERGY_VALUE = re.compile(r"-?\d+\.\d{4}")
_STOP = re.compile(r"occupation numbers|highest occupied|the Fermi energy|total energy|k =")


class EigenvalueParseError(ValueError):
    """An MD stdout whose per-step eigenvalues cannot be read consistently."""


@dataclass(frozen=True, eq=False)
class MdEigenvalues:
    """Kohn–Sham energies of MD steps: ``eigenvalues_ev[step, kpoint, band]`` (eV).

    ``steps`` are 0-based MD step indices (as in the trajectory); bands are pw.x's,
    0-based here (pw.x band n is column n − 1).
    """

    steps: np.ndarray
    eigenvalues_ev: np.ndarray

    @property
    def n_bands(self) -> int:
        """Bands printed per k-point (pw.x ``nbnd``)."""
        return int(self.eigenvalues_ev.shape[2])


def _kpoint_energies(block: str) -> list[list[float]]:
    """Energies after each "k = ... bands (ev):" header, up to the next block (eV)."""
    kpoints = []
    headers = list(_KPOINT.finditer(block))
    for header, following in zip(headers, [*headers[1:], None], strict=True):
        end = following.start() if following is not None else len(block)
        body = block[header.end() : end]
        stop = _STOP.search(body)
        values = body[: stop.start()] if stop is not None else body
        kpoints.append([float(x) for x in _ENERGY_VALUE.findall(values)])
    return kpoints


def parse_md_eigenvalues(text: str) -> MdEigenvalues:
    """Per-step eigenvalues of one pw.x MD stdout (an SCF without its dynamics block is dropped).

    Raises :class:`EigenvalueParseError` when no step printed eigenvalues (e.g. ≥ 100
    k-points at low verbosity) or when steps disagree on the number of k-points or bands.
    """
    ends = [m.end() for m in _END_OF_SCF.finditer(text)]
    steps: list[int] = []
    energies: list[list[list[float]]] = []
    for start, stop in zip(ends, [*ends[1:], len(text)], strict=False):
        block = text[start:stop]
        iteration = _ITERATION.search(block)
        kpoints = _kpoint_energies(block[: iteration.start()] if iteration else block)
        if iteration is None or not kpoints:
            continue
        steps.append(int(iteration.group(1)) - 1)
        energies.append(kpoints)
    if not steps:
        raise EigenvalueParseError(
            "no MD step printed its Kohn-Sham energies: with >= 100 k-points set "
            "verbosity='high'; check that the output is a pw.x calculation='md' stdout."
        )
    shapes = {(len(k), *(len(b) for b in k)) for k in energies}
    if len(shapes) != 1:
        raise EigenvalueParseError(f"steps printed different k-point/band counts: {shapes}")
    return MdEigenvalues(steps=np.array(steps, dtype=int), eigenvalues_ev=np.array(energies))


def merge_md_eigenvalues(chunks: Sequence[MdEigenvalues]) -> MdEigenvalues:
    """Join restart chunks by step: a step printed twice is kept once (the first copy).

    A gap in the step indices is an error, as for the trajectory.
    """
    by_step: dict[int, np.ndarray] = {}
    for chunk in chunks:
        for step, values in zip(chunk.steps, chunk.eigenvalues_ev, strict=True):
            by_step.setdefault(int(step), values)
    steps = np.array(sorted(by_step))
    if steps.size == 0 or np.any(np.diff(steps) != 1):
        raise EigenvalueParseError(f"MD steps with eigenvalues are not contiguous: {steps}")
    shapes = {by_step[int(s)].shape for s in steps}
    if len(shapes) != 1:
        raise EigenvalueParseError(f"chunks printed different k-point/band counts: {shapes}")
    return MdEigenvalues(steps=steps, eigenvalues_ev=np.array([by_step[int(s)] for s in steps]))


def band_window_energies(
    eigenvalues: MdEigenvalues, first_band: int, last_band: int, kpoint: int = 0
) -> np.ndarray:
    """Energies (n_steps × n_window, eV) of pw.x bands ``first_band..last_band`` (1-based).

    The same layout as the snapshot SCFs' window energies, so the gap analysis takes
    either; no state tracking: columns are band indices (adiabatic order).
    """
    if not 1 <= first_band <= last_band <= eigenvalues.n_bands:
        raise EigenvalueParseError(
            f"band window {first_band}..{last_band} is outside the {eigenvalues.n_bands} "
            "bands pw.x printed: raise empty_bands (nbnd) of the MD"
        )
    return np.asarray(eigenvalues.eigenvalues_ev[:, kpoint, first_band - 1 : last_band])
