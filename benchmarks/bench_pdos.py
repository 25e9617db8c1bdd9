"""Domain-projected DOS: our numpy reader vs aiida-quantumespresso's ProjectionData route.

Both routes read the same projwfc.x 6.7 output (the recorded CdS/ZnS superlattice,
``tests/fixtures/qe67_projwfc_cds_zns_001``, optionally tiled ``--replicas`` times along
the normal to reach interface sizes) and return the PDOS summed per domain:

- ours: ``read_projected_dos`` + ``read_atomic_projections`` + ``group_projected_dos``;
- aiida-qe: ``ProjwfcParser`` helpers (stdout orbitals + k-block projections, PDOS
  files) -> ``BandsData``/``ProjectionData`` -> ``get_pdos`` summed by atom position.

Run: ``python benchmarks/bench_pdos.py --replicas 1 5 25`` (prints times and the ratio).
Tiling copies the PDOS files and the stdout state list; the k-point projections
(atomic_proj.xml for us, stdout k-blocks for aiida-qe) stay those of the 4-atom run.
Measured on the shared 2-core machine (two runs): 4 atoms 0.02 s vs 0.18 s (7–9×),
20 atoms 0.05–0.07 s vs 1.0–1.15 s (16–21×), 100 atoms 0.17–0.19 s vs 7–9 s (40–48×).
"""

from __future__ import annotations

import argparse
import gzip
import re
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from heterostructures.electronic.projected_dos import group_projected_dos
from heterostructures.io.projwfc_files import read_atomic_projections, read_projected_dos

FIXTURE = Path(__file__).parents[1] / "tests" / "fixtures" / "qe67_projwfc_cds_zns_001"
CELL_ANG = np.diag([3.970405, 3.970405, 5.615])
POSITIONS_FRAC = np.array([[0, 0, 0], [0.5, 0, 0.259127], [0.5, 0.5, 0.518255], [0, 0.5, 0.759127]])
SYMBOLS = ["Cd", "S", "Zn", "S"]
DOMAINS = ["CdS", "CdS", "ZnS", "ZnS"]
STATE = re.compile(r"state #\s*(\d+): atom\s*(\d+) ")


def unzip(path: Path) -> str:
    """Text of a gzip-compressed fixture file."""
    with gzip.open(path, "rt") as handle:
        return handle.read()


def write_tiled_output(folder: Path, replicas: int) -> None:
    """Unpack the fixture into ``folder``, tiled ``replicas`` times (atoms/states renumbered)."""
    for path in FIXTURE.glob("sl.pdos_atm*.gz"):
        text = unzip(path)
        atom = int(path.name.split("atm#")[1].split("(")[0])
        for replica in range(replicas):
            name = path.name[:-3].replace(f"atm#{atom}(", f"atm#{atom + 4 * replica}(")
            (folder / name).write_text(text)
    for name in ("sl.pdos_tot", "atomic_proj.xml", "data-file-schema.xml"):
        (folder / name).write_text(unzip(FIXTURE / f"{name}.gz"))
    stdout = unzip(FIXTURE / "projwfc.out.gz")
    head, _, rest = stdout.partition(" k = ")
    lines = head.splitlines()
    states = [line for line in lines if STATE.search(line)]
    first = lines.index(states[0])
    tiled = []
    for replica in range(replicas):
        for line in states:
            match = STATE.search(line)
            if match is None:
                continue
            number, atom = int(match[1]), int(match[2])
            old = f"#{number:4d}: atom{atom:4d}"
            tiled.append(
                line.replace(old, f"#{number + 26 * replica:4d}: atom{atom + 4 * replica:4d}")
            )
    lines[first : first + len(states)] = tiled
    (folder / "projwfc.out").write_text("\n".join(lines) + "\n k = " + rest)


def ours(folder: Path, replicas: int) -> dict[str, np.ndarray]:
    """Our route: PDOS files + atomic_proj.xml, grouped by domain."""
    pdos = read_projected_dos(folder)
    read_atomic_projections(folder / "atomic_proj.xml")
    grouped = group_projected_dos(pdos, DOMAINS * replicas)
    return {str(key): grouped.of(key) for key in grouped.keys}


def aiida_route(folder: Path, replicas: int) -> dict[str, np.ndarray]:
    """aiida-quantumespresso route: ProjectionData, then get_pdos summed per domain."""
    from aiida import orm
    from aiida.common.extendeddicts import AttributeDict
    from aiida_quantumespresso.parsers.projwfc import ProjwfcParser

    cell = CELL_ANG * np.array([1, 1, replicas])[:, None]
    structure = orm.StructureData(cell=cell)
    domain_of_z = {}
    for replica in range(replicas):
        for frac, symbol, domain in zip(POSITIONS_FRAC, SYMBOLS, DOMAINS, strict=True):
            position = (frac + np.array([0, 0, replica])) @ CELL_ANG
            structure.append_atom(position=position, symbols=symbol)
            domain_of_z[round(float(position[2]), 4)] = domain
    kpoints = orm.KpointsData()
    kpoints.set_cell_from_structure(structure)
    kpoints.set_kpoints(np.zeros((8, 3)))
    stdout = (folder / "projwfc.out").read_text()
    blocks = stdout.split("Lowdin Charges:")[0].split("k = ")
    orbitals = ProjwfcParser._parse_orbitals(blocks[0], structure, False, False)
    bands, projections = ProjwfcParser._parse_bands_and_projections(blocks[1:], len(orbitals))
    logs = AttributeDict({"error": [], "warning": []})
    energy, _, _, pdos_array = ProjwfcParser._parse_pdos_files(None, folder, 1, False, logs)
    nodes = ProjwfcParser._build_bands_and_projections(
        kpoints, bands, energy, orbitals, projections, pdos_array, 1
    )
    sums: dict[str, np.ndarray] = {}
    for orbital, pdos, _ in nodes["projections"].get_pdos():
        domain = domain_of_z[round(float(orbital.get_orbital_dict()["position"][2]), 4)]
        sums[domain] = sums.get(domain, 0) + pdos
    return sums


def best_time(
    function: Callable[[Path, int], dict], folder: Path, replicas: int, repeat: int
) -> float:
    """Fastest of ``repeat`` runs, in seconds."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        function(folder, replicas)
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    """Time both routes for each replica count and print the ratio."""
    from aiida.manage import get_manager
    from aiida.storage.sqlite_temp import SqliteTempBackend

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--replicas", type=int, nargs="+", default=[1, 25])
    parser.add_argument("--repeat", type=int, default=3)
    arguments = parser.parse_args()
    # A throw-away in-memory profile: nothing is written to the user's AiiDA config.
    get_manager().load_profile(SqliteTempBackend.create_profile("bench-pdos"), allow_switch=True)
    print(f"{'atoms':>6} {'projections':>11} {'ours (s)':>10} {'aiida-qe (s)':>13} {'ratio':>7}")
    for replicas in arguments.replicas:
        folder = Path(tempfile.mkdtemp(prefix="bench_pdos_"))
        try:
            write_tiled_output(folder, replicas)
            a, b = ours(folder, replicas), aiida_route(folder, replicas)
            for domain in a:
                # aiida-qe sums the m-resolved columns, we read ldos: equal to the printed digits.
                np.testing.assert_allclose(a[domain], b[domain], rtol=1e-2, atol=1e-3)
            fast = best_time(ours, folder, replicas, arguments.repeat)
            slow = best_time(aiida_route, folder, replicas, arguments.repeat)
            sizes = f"{4 * replicas:6d} {26 * replicas:11d}"
            print(f"{sizes} {fast:10.4f} {slow:13.4f} {slow / fast:7.1f}")
        finally:
            shutil.rmtree(folder)


if __name__ == "__main__":
    main()
