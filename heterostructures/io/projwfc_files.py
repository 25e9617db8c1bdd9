"""Fast numpy readers for the files projwfc.x (QE 6.x/7.x) writes.

Why not aiida-quantumespresso's ``ProjectionData``: at interface sizes (thousands of
projections) building one orbital object per projection is slow and keeps far more
than the analysis needs. These readers return plain arrays, in eV, ready to be summed
by domain, layer, element or orbital (see :mod:`heterostructures.electronic.projected_dos`).

Every reader opens ``name`` or, when that is absent, ``name.gz`` (recorded fixtures are
stored compressed).

Supported layouts: spin-unpolarised runs; collinear spin-polarised and non-collinear
(without spin–orbit) ``pdos_atm`` files are read with the two spin channels summed.
Spin–orbit (``_j`` labels), k-resolved DOS (``kresolveddos``) and spin-polarised
``atomic_proj.xml`` are refused with a :class:`ProjwfcFileError`.
"""

from __future__ import annotations

import gzip
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, NamedTuple

import numpy as np

from heterostructures.units import HARTREE_EV, RYDBERG_EV

_PDOS_NAME = re.compile(
    r"^(?P<prefix>.*)\.pdos_atm#(?P<atom>\d+)\((?P<element>[^)]+)\)"
    r"_wfc#(?P<wfc>\d+)\((?P<orbital>[^)]+)\)(?:\.gz)?$"
)
_STATE_LINE = re.compile(
    r"state #\s*(?P<state>\d+): atom\s*(?P<atom>\d+) \((?P<element>[^)]+)\)\s*,"
    r" wfc\s*(?P<wfc>\d+) \((?P<quantum>[^)]*)\)"
)


class ProjwfcFileError(ValueError):
    """A projwfc.x / pw.x output file is missing, truncated or in an unsupported layout."""


@dataclass(frozen=True)
class AtomicState:
    """One atomic wavefunction projector, as listed in projwfc.x stdout (1-based indices)."""

    index: int
    atom: int
    element: str
    wfc: int
    angular_momentum: int
    magnetic: int


@dataclass(frozen=True)
class ProjectedDos:
    """Projected DOS of every (atom, atomic wavefunction) file, in states/eV per cell.

    ``orbital_dos[i]`` is the ``ldos`` column of file i (summed over m and spin);
    ``total_pdos`` is the ``pdos`` column of ``*.pdos_tot`` (sum of all projections),
    ``total_dos`` its ``dos`` column (the full Kohn–Sham DOS).
    """

    energies_ev: np.ndarray
    orbital_dos: np.ndarray
    orbital_atoms: np.ndarray
    orbital_elements: tuple[str, ...]
    orbital_labels: tuple[str, ...]
    total_dos: np.ndarray
    total_pdos: np.ndarray

    @property
    def n_atoms(self) -> int:
        """Number of atoms (highest atom index among the files)."""
        return int(self.orbital_atoms.max())


@dataclass(frozen=True)
class AtomicProjections:
    """Contents of ``atomic_proj.xml`` (QE >= 6.5 layout), spin-unpolarised.

    ``weights[k, band, state]`` = |<φ_state|ψ_band,k>|²; energies in eV; ``k_weights``
    as written by QE (they sum to 2 for a spin-unpolarised run).
    """

    eigenvalues_ev: np.ndarray
    k_weights: np.ndarray
    k_points: np.ndarray
    weights: np.ndarray
    n_electrons: float
    fermi_energy_ev: float | None

    @property
    def n_bands(self) -> int:
        """Number of Kohn–Sham bands per k-point."""
        return int(self.eigenvalues_ev.shape[1])


@dataclass(frozen=True)
class PwLevels:
    """Energy levels from pw.x ``data-file-schema.xml`` in eV (None when not written)."""

    fermi_energy_ev: float | None
    highest_occupied_ev: float | None
    lowest_unoccupied_ev: float | None
    eigenvalues_ev: np.ndarray
    n_electrons: float


def open_text(path: str | Path) -> IO[str]:
    """Open ``path`` or ``path.gz`` for reading text; a clear error if neither exists."""
    path = Path(path)
    if path.is_file():
        if path.suffix == ".gz":
            return gzip.open(path, "rt")
        return path.open()
    zipped = path.with_name(path.name + ".gz")
    if zipped.is_file():
        return gzip.open(zipped, "rt")
    raise ProjwfcFileError(
        f"{path} not found (nor {zipped.name}): check that projwfc.x/pw.x finished and "
        "that the file was retrieved"
    )


def read_pdos_file(path: str | Path) -> tuple[np.ndarray, np.ndarray, tuple[str, ...]]:
    """Read one ``pdos_atm``/``pdos_tot`` file: energies (eV), columns, column names.

    The whole body is parsed in one ``numpy`` call, which is what makes the reader fast.
    """
    with open_text(path) as handle:
        header = handle.readline()
        body = handle.read()
    names = tuple(header.lstrip("#").replace("E (eV)", "E").split())
    if not names or names[0] != "E":
        raise ProjwfcFileError(
            f"{path}: header {header.strip()!r} is not a projwfc.x PDOS header; "
            "k-resolved DOS (kresolveddos=.true.) is not supported, rerun without it"
        )
    values = np.array(body.split(), dtype=float)
    if values.size == 0 or values.size % len(names):
        raise ProjwfcFileError(
            f"{path}: truncated file ({values.size} numbers, {len(names)} columns)"
        )
    table = values.reshape(-1, len(names))
    return table[:, 0], table[:, 1:], names[1:]


def _summed_ldos(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Energies and spin-summed ``ldos`` column of one ``pdos_atm`` file."""
    energies, columns, names = read_pdos_file(path)
    if names[0] == "ldos(E)":
        return energies, columns[:, 0]
    if names[:2] == ("ldosup(E)", "ldosdw(E)"):
        return energies, columns[:, 0] + columns[:, 1]
    raise ProjwfcFileError(f"{path}: unknown PDOS columns {names}")


class _PdosFileName(NamedTuple):
    atom: int
    wfc: int
    element: str
    orbital: str
    prefix: str
    path: Path


def _pdos_files(folder: Path, prefix: str | None) -> list[_PdosFileName]:
    """Every ``pdos_atm`` file of ``folder`` (optionally of one prefix), in atom order."""
    found = []
    for path in folder.iterdir():
        match = _PDOS_NAME.match(path.name)
        if match and (prefix is None or match["prefix"] == prefix):
            found.append(
                _PdosFileName(
                    int(match["atom"]),
                    int(match["wfc"]),
                    match["element"],
                    match["orbital"],
                    match["prefix"],
                    path,
                )
            )
    if not found:
        raise ProjwfcFileError(
            f"no '*.pdos_atm#N(El)_wfc#M(l)' files in {folder}"
            + (f" with prefix {prefix!r}" if prefix else "")
            + ": run projwfc.x (it writes them next to its input) and retrieve them"
        )
    spin_orbit = [entry.path.name for entry in found if "_j" in entry.orbital]
    if spin_orbit:
        raise ProjwfcFileError(
            f"{spin_orbit[0]}: spin–orbit (j-resolved) PDOS is not supported; this analysis "
            "is PBE without spin–orbit"
        )
    prefixes = sorted({entry.prefix for entry in found})
    if len(prefixes) > 1:
        raise ProjwfcFileError(f"{folder} holds PDOS of several runs {prefixes}; pass prefix=")
    return sorted(found)


def read_projected_dos(folder: str | Path, prefix: str | None = None) -> ProjectedDos:
    """Read every ``{prefix}.pdos_atm#*`` file and ``{prefix}.pdos_tot`` in ``folder``."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ProjwfcFileError(f"{folder} is not a directory with projwfc.x output")
    files = _pdos_files(folder, prefix)
    energies, _ = _summed_ldos(files[0].path)
    dos = np.empty((len(files), energies.size))
    for row, entry in enumerate(files):
        file_energies, dos[row] = _summed_ldos(entry.path)
        if file_energies.shape != energies.shape or not np.allclose(file_energies, energies):
            raise ProjwfcFileError(f"{entry.path}: energy grid differs from {files[0].path.name}")
    _, total_columns, names = read_pdos_file(folder / f"{files[0].prefix}.pdos_tot")
    is_dos = np.array([name.startswith("dos") for name in names])
    is_pdos = np.array([name.startswith("pdos") for name in names])
    return ProjectedDos(
        energies_ev=energies,
        orbital_dos=dos,
        orbital_atoms=np.array([entry.atom for entry in files]),
        orbital_elements=tuple(entry.element for entry in files),
        orbital_labels=tuple(entry.orbital for entry in files),
        total_dos=total_columns[:, is_dos].sum(axis=1),
        total_pdos=total_columns[:, is_pdos].sum(axis=1),
    )


def read_atomic_states(stdout: str | Path) -> tuple[AtomicState, ...]:
    """The list of atomic states ("state #  i: atom ...") from projwfc.x stdout."""
    states = []
    with open_text(stdout) as handle:
        for line in handle:
            match = _STATE_LINE.search(line)
            if not match:
                continue
            quantum = dict(re.findall(r"(\w+)=\s*(-?[\d.]+)", match["quantum"]))
            if "j" in quantum or "s_z" in quantum:
                raise ProjwfcFileError(
                    f"{stdout}: non-collinear/spin–orbit states ({match['quantum']}) are not "
                    "supported by the projection analysis"
                )
            states.append(
                AtomicState(
                    index=int(match["state"]),
                    atom=int(match["atom"]),
                    element=match["element"].strip(),
                    wfc=int(match["wfc"]),
                    angular_momentum=int(quantum["l"]),
                    magnetic=int(quantum["m"]),
                )
            )
    if not states:
        raise ProjwfcFileError(f"{stdout}: no 'state #' lines; is this projwfc.x standard output?")
    return tuple(states)


def _iter_xml(path: str | Path) -> Iterator[tuple[str, ET.Element]]:
    """Stream (event, element) pairs from an XML file that may be gzip-compressed."""
    with open_text(path) as handle:
        yield from ET.iterparse(handle, events=("start", "end"))


def read_atomic_projections(path: str | Path) -> AtomicProjections:
    """Read ``atomic_proj.xml`` (QE >= 6.5) with a streaming parser; energies Ry -> eV."""
    header: dict[str, str] = {}
    energies, k_weights, k_points, weights = [], [], [], []
    for event, element in _iter_xml(path):
        if event != "end":
            continue
        tag = element.tag
        if tag == "HEADER":
            header = dict(element.attrib)
            if int(header.get("NUMBER_OF_SPIN_COMPONENTS", "1")) != 1:
                raise ProjwfcFileError(
                    f"{path}: spin-polarised/non-collinear projections are not supported"
                )
        elif tag == "K-POINT":
            k_weights.append(float(element.attrib["Weight"]))
            k_points.append(np.array((element.text or "").split(), dtype=float))
        elif tag == "E":
            energies.append(np.array((element.text or "").split(), dtype=float) * RYDBERG_EV)
        elif tag == "ATOMIC_WFC":
            pairs = np.array((element.text or "").split(), dtype=float).reshape(-1, 2)
            weights.append(pairs[:, 0] ** 2 + pairs[:, 1] ** 2)
            element.clear()
        elif tag in {"PROJS", "OVERLAPS"}:
            element.clear()
    if not header:
        raise ProjwfcFileError(
            f"{path}: no <HEADER> element; only the QE >= 6.5 atomic_proj.xml layout is supported"
        )
    n_k, n_bands = int(header["NUMBER_OF_K-POINTS"]), int(header["NUMBER_OF_BANDS"])
    n_states = int(header["NUMBER_OF_ATOMIC_WFC"])
    if len(energies) != n_k or len(weights) != n_k * n_states:
        raise ProjwfcFileError(f"{path}: truncated ({len(energies)} of {n_k} k-points)")
    projections = np.array(weights).reshape(n_k, n_states, n_bands).transpose(0, 2, 1)
    fermi = header.get("FERMI_ENERGY")
    return AtomicProjections(
        eigenvalues_ev=np.array(energies),
        k_weights=np.array(k_weights),
        k_points=np.array(k_points),
        weights=np.ascontiguousarray(projections),
        n_electrons=float(header["NUMBER_OF_ELECTRONS"]),
        fermi_energy_ev=None if fermi is None else float(fermi) * RYDBERG_EV,
    )


def read_pw_levels(path: str | Path) -> PwLevels:
    """Fermi energy, HOMO/LUMO and eigenvalues (eV) from pw.x ``data-file-schema.xml``."""
    levels: dict[str, float] = {}
    eigenvalues = []
    for event, element in _iter_xml(path):
        if event != "end":
            continue
        if element.tag in {
            "fermi_energy",
            "highestOccupiedLevel",
            "lowestUnoccupiedLevel",
            "nelec",
        }:
            levels[element.tag] = float(element.text or "nan")
        elif element.tag == "eigenvalues":
            eigenvalues.append(np.array((element.text or "").split(), dtype=float) * HARTREE_EV)
    if not eigenvalues:
        raise ProjwfcFileError(f"{path}: no <eigenvalues>; is this a pw.x data-file-schema.xml?")

    def level(tag: str) -> float | None:
        return levels[tag] * HARTREE_EV if tag in levels else None

    return PwLevels(
        fermi_energy_ev=level("fermi_energy"),
        highest_occupied_ev=level("highestOccupiedLevel"),
        lowest_unoccupied_ev=level("lowestUnoccupiedLevel"),
        eigenvalues_ev=np.array(eigenvalues),
        n_electrons=levels.get("nelec", float("nan")),
    )
