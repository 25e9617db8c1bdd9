"""AIMD steps with QE's default extrapolation vs second-order, run side by side.

What ``janus.aimd`` changed (issue 24, item 3): the MD chunks now ask pw.x for
``pot_extrapolation = wfc_extrapolation = 'second_order'`` instead of QE's defaults
('atomic' potential, no wavefunction extrapolation), so each step's SCF starts from a
density and wavefunctions extrapolated from the last three steps. Here two single-rank pw.x
runs, identical but for those two keywords, start at the same moment on the demo model (the
13-atom CsPbBr3/CdS superlattice that the ``fast`` protocol builds, unrelaxed, NC pslibrary
pseudos at 30/120 Ry, Γ, fixed occupations, 8 empty bands converged like the occupied ones
as ``janus.aimd`` now runs it), NVE from one common start. pw.x 6.7 seeds its random
velocities from the clock (two 'initial' runs start differently), so one first step draws
them at 2 × 300 K ('initial') and both runs restart from a copy of its ``out/``
(``restart_mode='restart'``, 'not_controlled'), as ``janus.aimd`` chains chunks. Printed per
run: SCF iterations per MD step,
wall seconds per step (time stamps of the "convergence has been achieved" lines read while
pw.x runs), and the NVE energy drift (eV/atom/ps, ``md_diagnostics``); then the ratios.

Run (about 10 min on the 2-core machine)::

    export JANUS_WORK_DIR=... PATH=$JANUS_WORK_DIR/venv/bin:$PATH OMP_NUM_THREADS=1
    nice -n 19 python benchmarks/bench_md_extrapolation.py --steps 30 --keep /tmp/md_bench
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from ase import Atoms

from heterostructures.dynamics.md_diagnostics import md_diagnostics
from heterostructures.dynamics.md_units import fs_to_rydberg_time
from heterostructures.io.pw_md_output import merge_chunks, parse_pw_md_stdout
from heterostructures.structure.interface_spec import build_from_spec

VARIANTS = {
    "qe_default": {},
    "second_order": {"pot_extrapolation": "'second_order'", "wfc_extrapolation": "'second_order'"},
}
EMPTY_BANDS = 8
_CONVERGED = re.compile(r"convergence has been achieved in\s+(\d+) iterations")
_PWSCF_CPU = re.compile(r"PWSCF\s*:\s*(?:(\d+)h)?\s*(?:(\d+)m)?\s*([\d.]+)s CPU")


def pw_cpu_seconds(text: str) -> float:
    """pw.x's own total CPU time (s) from its closing "PWSCF : ... CPU" line.

    On a shared machine this is the load-independent cost; wall time is what a user waits.
    """
    match = _PWSCF_CPU.search(text)
    if match is None:
        raise SystemExit("pw.x printed no PWSCF CPU time: did it finish?")
    hours, minutes, seconds = (float(g) if g else 0.0 for g in match.groups())
    return 3600.0 * hours + 60.0 * minutes + seconds


@dataclass(frozen=True)
class RunResult:
    """One pw.x MD run: iterations and wall seconds per step, drift (eV/atom/ps)."""

    name: str
    iterations: np.ndarray
    seconds: np.ndarray
    cpu_seconds: float
    drift_ev_per_atom_per_ps: float
    total_energy_std_ev: float
    temperature_mean_k: float


def demo_atoms() -> Atoms:
    """The ``fast`` protocol's interface model, built as in test_demo_model_scf.py."""
    from workflows.workchains.interface import InterfaceWorkChain

    spec = InterfaceWorkChain.get_protocol_inputs("fast")["interface"]
    return build_from_spec(spec, {}).atoms


def valence_electrons(pseudo_dir: Path, symbols: list[str]) -> int:
    """Sum of the UPF ``z_valence`` of every atom (the NC family's files)."""
    total = 0.0
    for symbol in symbols:
        text = (pseudo_dir / f"{symbol}.pbe-n-nc.UPF").read_text()
        match = re.search(r'z_valence="\s*([-+.\dEe]+)"', text)
        if match is None:
            raise SystemExit(f"no z_valence in the {symbol} pseudopotential")
        total += float(match.group(1))
    return round(total)


def pw_input(
    atoms: Atoms, pseudo_dir: Path, steps: int, extra_ions: dict[str, str], restart: bool
) -> str:
    """pw.x input of the fast protocol's MD on ``atoms``: the 'equipartition' start
    (``restart`` False) or an NVE chunk restarted from it."""
    symbols = atoms.get_chemical_symbols()
    nbnd = valence_electrons(pseudo_dir, symbols) // 2 + EMPTY_BANDS
    species = sorted(set(symbols))
    masses = {s: atoms[symbols.index(s)].mass for s in species}
    ions = "".join(f"  {key} = {value}\n" for key, value in extra_ions.items())
    cell = "\n".join(" ".join(f"{x:.10f}" for x in row) for row in atoms.cell)
    positions = "\n".join(
        f"{s} " + " ".join(f"{x:.10f}" for x in p)
        for s, p in zip(symbols, atoms.positions, strict=True)
    )
    return (
        "&CONTROL\n  calculation = 'md'\n  prefix = 'aiida'\n  outdir = './out'\n"
        f"  restart_mode = '{'restart' if restart else 'from_scratch'}'\n"
        f"  pseudo_dir = '{pseudo_dir}'\n  dt = {fs_to_rydberg_time(1.0):.10f}\n"
        f"  nstep = {steps}\n  tprnfor = .true.\n  tstress = .false.\n"
        "  etot_conv_thr = 1.3d-3\n  verbosity = 'high'\n/\n"
        f"&SYSTEM\n  ibrav = 0\n  nat = {len(symbols)}\n  ntyp = {len(species)}\n"
        f"  ecutwfc = 30\n  ecutrho = 120\n  nosym = .true.\n  occupations = 'fixed'\n"
        f"  nbnd = {nbnd}\n/\n"
        "&ELECTRONS\n  conv_thr = 5.2d-9\n  electron_maxstep = 80\n  mixing_beta = 0.4\n"
        "  diago_full_acc = .true.\n/\n"
        f"&IONS\n  ion_temperature = '{'not_controlled' if restart else 'initial'}'\n"
        f"  tempw = 600\n{ions}/\n"
        "ATOMIC_SPECIES\n"
        + "".join(f"{s} {masses[s]} {s}.pbe-n-nc.UPF\n" for s in species)
        + f"ATOMIC_POSITIONS angstrom\n{positions}\nK_POINTS gamma\n"
        + f"CELL_PARAMETERS angstrom\n{cell}\n"
    )


def _run(workdir: Path, stamps: list[float]) -> subprocess.Popen[str]:
    environment = {**os.environ, "OMP_NUM_THREADS": "1"}
    process = subprocess.Popen(
        ["nice", "-n", "19", "pw.x", "-in", "aiida.in"],
        cwd=workdir,
        stdout=subprocess.PIPE,
        text=True,
        env=environment,
    )

    def read() -> None:
        assert process.stdout is not None
        with (workdir / "aiida.out").open("w") as sink:
            for line in process.stdout:
                sink.write(line)
                if _CONVERGED.search(line):
                    stamps.append(time.monotonic())

    threading.Thread(target=read, daemon=True).start()
    return process


def analyse(name: str, root: Path, atoms: Atoms, start: float, stamps: list[float]) -> RunResult:
    """Iterations, wall seconds per step (the first one includes pw.x's set-up) and drift.

    The drift is fitted over the restarted steps only (after the common first step).
    """
    text = (root / name / "aiida.out").read_text()
    iterations = np.array([int(m.group(1)) for m in _CONVERGED.finditer(text)])
    cell = np.array(atoms.cell)
    chunks = [
        parse_pw_md_stdout((root / folder / "aiida.out").read_text(), len(atoms), cell)
        for folder in ("start", name)
    ]
    trajectory = merge_chunks(atoms.positions, chunks, 1.0, cell, atoms.get_masses())
    diagnostics = md_diagnostics(trajectory, start_fs=1.0)
    return RunResult(
        name=name,
        iterations=iterations,
        seconds=np.diff([start, *stamps]),
        cpu_seconds=pw_cpu_seconds(text),
        drift_ev_per_atom_per_ps=diagnostics.drift_ev_per_atom_per_ps,
        total_energy_std_ev=diagnostics.total_energy_std_ev,
        temperature_mean_k=diagnostics.temperature_mean_k,
    )


def print_table(results: list[RunResult]) -> None:
    """Per-run means over steps 2.. (step 1 includes pw.x's set-up) and the ratios."""
    print(
        f"{'run':<14}{'steps':>6}{'SCF it/step':>13}{'s/step':>9}{'drift eV/atom/ps':>18}"
        f"{'E_tot std eV':>14}{'<T> K':>8}{'CPU s/step':>12}"
    )
    for r in results:
        print(
            f"{r.name:<14}{len(r.iterations):>6}{r.iterations[1:].mean():>13.2f}"
            f"{r.seconds[1:].mean():>9.2f}{r.drift_ev_per_atom_per_ps:>18.5f}"
            f"{r.total_energy_std_ev:>14.5f}{r.temperature_mean_k:>8.0f}"
            f"{r.cpu_seconds / len(r.iterations):>12.2f}"
        )
    base, new = results
    print(
        f"ratio {base.name}/{new.name}: SCF iterations per step "
        f"{base.iterations[1:].mean() / new.iterations[1:].mean():.2f}, seconds per step "
        f"{base.seconds[1:].mean() / new.seconds[1:].mean():.2f}, CPU "
        f"{base.cpu_seconds / new.cpu_seconds:.2f}"
    )
    print("iterations per step:")
    for r in results:
        print(f"  {r.name:<14}{' '.join(str(i) for i in r.iterations)}")


def main() -> None:
    """Write both inputs, start both pw.x runs at once, wait, analyse, print."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=30)
    work = Path(os.environ.get("JANUS_WORK_DIR", ".work"))
    default_pseudos = work / "pseudos" / "janus_pslibrary-1.0.0_PBE_NC"
    parser.add_argument("--pseudo-dir", type=Path, default=default_pseudos)
    parser.add_argument("--keep", type=Path, help="keep the run folders here")
    args = parser.parse_args()
    atoms = demo_atoms()
    root = args.keep or Path(tempfile.mkdtemp(prefix="md_extrapolation_"))
    pseudo_dir = args.pseudo_dir.resolve()
    first = root / "start"
    first.mkdir(parents=True, exist_ok=True)
    (first / "aiida.in").write_text(pw_input(atoms, pseudo_dir, 1, {}, restart=False))
    if _run(first, []).wait() != 0:
        raise SystemExit(f"pw.x start failed: see {first / 'aiida.out'}")
    processes: dict[str, subprocess.Popen[str]] = {}
    stamps: dict[str, list[float]] = {}
    folders: dict[str, Path] = {}
    for name, extra in VARIANTS.items():
        folders[name] = root / name
        shutil.rmtree(folders[name], ignore_errors=True)
        shutil.copytree(first / "out", folders[name] / "out")
        text = pw_input(atoms, pseudo_dir, args.steps, extra, restart=True)
        (folders[name] / "aiida.in").write_text(text)
    start = time.monotonic()
    for name in VARIANTS:
        stamps[name] = []
        processes[name] = _run(folders[name], stamps[name])
    for name, process in processes.items():
        if process.wait() != 0:
            raise SystemExit(f"pw.x {name} failed: see {folders[name] / 'aiida.out'}")
    time.sleep(0.5)
    print_table([analyse(n, root, atoms, start, stamps[n]) for n in VARIANTS])
    print(f"runs kept in {root}")


if __name__ == "__main__":
    main()
