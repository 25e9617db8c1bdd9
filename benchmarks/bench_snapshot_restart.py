"""NA snapshot SCFs: restarted from the previous snapshot vs cold starts, side by side.

What ``janus.na_snapshots`` does in a chain: each snapshot's pw.x SCF starts from the
previous snapshot's charge density and wavefunctions (``startingpot``/``startingwfc =
'file'`` with the previous ``<prefix>.save`` copied in). Here the same snapshots are run
both ways with the real pw.x (serial, ``OMP_NUM_THREADS=1``) on a tiny system, zinc-blende
CdS (2 atoms, Γ only, NC pslibrary pseudos from ld1.x, 20/80 Ry, conv_thr 1e-8 Ry), with
S moving ≈ 0.008 Å per frame as in an MD step of a few fs. Printed: SCF iterations and
wall time per snapshot, and the cold/restarted ratios.

Run: ``.work/venv/bin/python benchmarks/bench_snapshot_restart.py [--snapshots 6]``.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
PSEUDO_INPUTS = REPO / "profiles" / "pseudos" / "nc"
ELEMENTS = {"Cd": 112.411, "S": 32.065}
CELL_ANG = np.array([[0.0, 2.915, 2.915], [2.915, 0.0, 2.915], [2.915, 2.915, 0.0]])


def make_pseudos(directory: Path) -> None:
    """Write the NC UPF files with ld1.x (about 1 s each)."""
    directory.mkdir()
    for element in ELEMENTS:
        source = PSEUDO_INPUTS / f"{element}.pbe-n-nc.in"
        with source.open() as stdin:
            subprocess.run(["ld1.x"], stdin=stdin, cwd=directory, check=True, capture_output=True)


def sulfur_position(frame: int) -> np.ndarray:
    """S off its ideal site by 0.08 Å, then moving ≈ 0.008 Å per frame (Å)."""
    ideal = np.array([1.4575, 1.4575, 1.4575])
    return ideal + np.array([0.06, 0.03, -0.04]) + frame * np.array([0.004, 0.006, -0.003])


def pw_input(frame: int, outdir: Path, pseudo_dir: Path, restart: bool) -> str:
    """pw.x input of one snapshot, as janus.na_snapshots writes it (Γ, nosym, smearing)."""
    starting = "  startingwfc = 'file'\n  startingpot = 'file'\n" if restart else ""
    cell = "\n".join(" ".join(f"{x:.6f}" for x in row) for row in CELL_ANG)
    species = "\n".join(f"{el} {mass} {el}.pbe-n-nc.UPF" for el, mass in ELEMENTS.items())
    s = " ".join(f"{x:.6f}" for x in sulfur_position(frame))
    return (
        f"&control\n  calculation='scf'\n  prefix='cds'\n  outdir='{outdir}'\n"
        f"  pseudo_dir='{pseudo_dir}'\n/\n"
        "&system\n  ibrav=0\n  nat=2\n  ntyp=2\n  ecutwfc=20\n  ecutrho=80\n  nbnd=12\n"
        "  nosym=.true.\n  occupations='smearing'\n  smearing='gaussian'\n  degauss=0.005\n/\n"
        f"&electrons\n  conv_thr=1e-8\n  mixing_beta=0.3\n{starting}/\n"
        f"ATOMIC_SPECIES\n{species}\nCELL_PARAMETERS angstrom\n{cell}\n"
        f"ATOMIC_POSITIONS angstrom\nCd 0 0 0\nS {s}\nK_POINTS gamma\n"
    )


def run_pw(text: str, workdir: Path) -> tuple[int, float]:
    """Run pw.x serially; return (SCF iterations, wall seconds)."""
    environment = {**os.environ, "OMP_NUM_THREADS": "1"}
    start = time.perf_counter()
    result = subprocess.run(
        ["pw.x"], input=text, text=True, capture_output=True, cwd=workdir, env=environment
    )
    seconds = time.perf_counter() - start
    if "convergence has been achieved" not in result.stdout:
        raise RuntimeError(f"pw.x did not converge in {workdir}:\n{result.stdout[-2000:]}")
    iterations = int(re.findall(r"convergence has been achieved in\s+(\d+)", result.stdout)[-1])
    return iterations, seconds


def run_series(root: Path, pseudo_dir: Path, n_snapshots: int, restart: bool) -> list[tuple]:
    """Each snapshot in its own outdir; restarted ones get a copy of the previous save."""
    timings = []
    for frame in range(n_snapshots):
        outdir = root / f"{'warm' if restart else 'cold'}_{frame}"
        outdir.mkdir()
        use_previous = restart and frame > 0
        if use_previous:
            previous = root / f"warm_{frame - 1}" / "cds.save"
            shutil.copytree(previous, outdir / "cds.save")
        timings.append(run_pw(pw_input(frame, outdir, pseudo_dir, use_previous), root))
    return timings


def main() -> None:
    """Run both series and print per-snapshot numbers and the ratios."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--snapshots", type=int, default=6)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        make_pseudos(root / "pseudo")
        cold = run_series(root, root / "pseudo", args.snapshots, restart=False)
        warm = run_series(root, root / "pseudo", args.snapshots, restart=True)
    print("snapshot  cold: iterations  wall s   restarted: iterations  wall s")
    for frame, ((ci, cs), (wi, ws)) in enumerate(zip(cold, warm, strict=True)):
        print(f"{frame:8d}  {ci:17d}  {cs:6.2f}   {wi:22d}  {ws:6.2f}")
    # Snapshot 0 starts cold in both series: compare the restarted ones only.
    cold_iter, warm_iter = (sum(t[0] for t in series[1:]) for series in (cold, warm))
    cold_time, warm_time = (sum(t[1] for t in series[1:]) for series in (cold, warm))
    print(
        f"snapshots 1..{args.snapshots - 1}: iterations cold/restarted = "
        f"{cold_iter}/{warm_iter} = {cold_iter / warm_iter:.2f}x; "
        f"wall {cold_time:.2f}/{warm_time:.2f} s = {cold_time / warm_time:.2f}x"
    )


if __name__ == "__main__":
    main()
