"""What each mock recording cost and holds: one Markdown row per recording.

Why: a recording is the proof that a real QE accepted an input, and its cost is the
measured number a cluster protocol is planned from. This reads both from the store itself
(the recorded stdout and metadata), so the table in a note or the fixtures README is
regenerated, not retyped.

    python scripts/mock_store_report.py --since 2026-12-06T14:00   # recorded since then
    python scripts/mock_store_report.py pw.x/ad062a2b9578722c      # chosen recordings

Columns: recording, date (UTC), calculation (pw.x) or code, atoms, k-points, SCF
iterations (summed over ionic/MD steps; "—" for runs without any, such as an NSCF), the
code's own CPU and wall time (its final timing line, MPI rank 0), MPI ranks (the recorded
command's ``-np``), exit status and archive size (kB).
"""

from __future__ import annotations

import argparse
import re
import sys
import tarfile
from datetime import datetime, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from workflows.mock.codes import DEFAULT_STORE  # noqa: E402
from workflows.mock.store import STDOUT_MEMBER, RecordingMetadata  # noqa: E402

COLUMNS = (
    *("recording", "date (UTC)", "step", "atoms", "k", "SCF iter."),
    *("CPU", "wall", "ranks", "exit", "kB"),
)
_CALCULATION = re.compile(r"calculation\s*=\s*'([^']+)'")
_ATOMS = re.compile(r"number of atoms/cell\s*=\s*(\d+)")
_KPOINTS = re.compile(r"number of k points=\s*(\d+)")
_ITERATION = re.compile(r"^\s+iteration #\s*\d+", re.MULTILINE)
_TIMING = re.compile(r"^\s*\S+\s*:\s*(.+?)\s+CPU\s+(.+?)\s+WALL\s*$", re.MULTILINE)


def recorded_stdout(archive: Path) -> str:
    """The code's standard output as recorded ("" when the archive has none)."""
    with tarfile.open(archive) as tar:
        try:
            member = tar.extractfile(STDOUT_MEMBER)
        except KeyError:
            return ""
        return member.read().decode(errors="replace") if member else ""


def mpi_ranks(command: tuple[str, ...]) -> str:
    """The ``-np`` of the recorded command ("1" for a serial run)."""
    if "-np" in command[:-1]:
        return command[command.index("-np") + 1]
    return "1"


def row(metadata_path: Path) -> str:
    """One Markdown table row for the recording whose metadata is ``metadata_path``."""
    metadata = RecordingMetadata.from_json(metadata_path.read_text())
    archive = metadata_path.with_suffix("").with_suffix(".tar.xz")
    stdout = recorded_stdout(archive)
    calculation = _CALCULATION.search(metadata.material)
    kind = calculation.group(1) if calculation else metadata.code
    atoms = _ATOMS.search(stdout)
    kpoints = _KPOINTS.search(stdout)
    timings = _TIMING.findall(stdout)
    cpu, wall = timings[-1] if timings else ("—", "—")
    iterations = len(_ITERATION.findall(stdout))
    cells = [
        f"`{metadata.code}/{metadata_path.stem}`",
        metadata.date[:16].replace("T", " "),
        kind,
        atoms.group(1) if atoms else "—",
        kpoints.group(1) if kpoints else "—",
        str(iterations) if iterations else "—",
        cpu,
        wall,
        mpi_ranks(metadata.command),
        str(metadata.exit_status),
        f"{archive.stat().st_size / 1000:.0f}",
    ]
    return "| " + " | ".join(cells) + " |"


def chosen(store: Path, names: list[str], since: datetime | None) -> list[Path]:
    """Metadata files named (``code/stem``) or recorded at or after ``since``."""
    if names:
        return [store / f"{name}.json" for name in names]
    paths = sorted(store.glob("*/*.json"))
    if since is None:
        return paths
    dated = [
        (datetime.fromisoformat(RecordingMetadata.from_json(path.read_text()).date), path)
        for path in paths
    ]
    return [path for date, path in sorted(dated) if date >= since]


def utc_time(text: str) -> datetime:
    """An ISO date or time, UTC unless it names its zone (argparse type)."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not an ISO date such as 2026-12-06T14:00"
        ) from error
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def main(argv: list[str] | None = None) -> int:
    """Print the table; exit 2 with one line when a named recording is not stored."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("recordings", nargs="*", help="code/stem, e.g. pw.x/ad062a2b9578722c")
    parser.add_argument(
        "--since", type=utc_time, help="only recordings made at or after this ISO date (UTC)"
    )
    parser.add_argument("--store", type=Path, default=DEFAULT_STORE, help="the store folder")
    arguments = parser.parse_args(argv)
    paths = chosen(arguments.store, arguments.recordings, arguments.since)
    missing = [
        str(path)
        for path in paths
        if not (path.is_file() and path.with_suffix("").with_suffix(".tar.xz").is_file())
    ]
    if missing:
        print(f"mock_store_report: not stored: {', '.join(missing)}", file=sys.stderr)
        return 2
    print("| " + " | ".join(COLUMNS) + " |")
    print("|" + "---|" * len(COLUMNS))
    for path in paths:
        print(row(path))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
